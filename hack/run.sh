#!/usr/bin/env bash
#
# Runs the operator against the cluster of the current kubeconfig (KUBECONFIG or ~/.kube/config):
# installs the KratosUpgrade CRD, builds the operator and runs it in the foreground.
# Apply a KratosUpgrade (see docs/getting-started.md and examples/) in another terminal.
#
# Environment:
#   KUBECONFIG                    the cluster to use
#   KRATOS_UPGRADE_BACKUP_IMAGE   image with pg_dump/mysqldump for backup Jobs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

require_cmd java
kubeconfig="${KUBECONFIG:-$HOME/.kube/config}"
[[ -f "${kubeconfig}" ]] || die "no kubeconfig at ${kubeconfig}: set KUBECONFIG to the cluster the operator should manage"

if command -v kubectl >/dev/null 2>&1; then
  KUBECTL=kubectl
else
  hack/k8s-binaries.sh >/dev/null
  KUBECTL="$(hack/k8s-binaries.sh --print-bin-dir)/kubectl"
fi
log "installing the KratosUpgrade CRD"
"${KUBECTL}" --kubeconfig "${kubeconfig}" apply --server-side -f crds/
"${KUBECTL}" --kubeconfig "${kubeconfig}" wait --for condition=Established --timeout=60s crd/kratosupgrades.kratos-upgrade.io

log "building the operator"
./mvnw -B -q -ntp package -DskipTests
log "running the operator (Ctrl-C stops it); metrics on http://localhost:8080/q/metrics"
exec java -Dkubeconfig="${kubeconfig}" -jar target/quarkus-app/quarkus-run.jar
