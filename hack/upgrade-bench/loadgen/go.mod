module kratos-upgrade-operator/hack/upgrade-bench/loadgen

go 1.22
