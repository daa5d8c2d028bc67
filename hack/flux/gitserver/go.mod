module kratos-upgrade-operator.local/hack/flux/gitserver

go 1.24
