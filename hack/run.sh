#!/usr/bin/env bash
#
# The main job.
#
#   hack/run.sh                 no KUBECONFIG and no ~/.kube/config: brings up the local single-node
#                               cluster (hack/local-cluster.sh), builds the Kratos and tools images, and
#                               runs the demo (hack/demo.sh): Kratos v1.0.0 on PostgreSQL, upgraded to
#                               v1.3.1 by the operator, shown live.
#   KUBECONFIG=... hack/run.sh  your cluster: installs the CRD and runs the operator in the foreground
#                               against it; apply a KratosUpgrade (examples/) in another terminal.
#   hack/run.sh --local         the local demo even when a kubeconfig exists.
#
# Environment (your cluster):
#   KRATOS_UPGRADE_BACKUP_IMAGE   image with pg_dump/mysqldump your cluster can pull, for backup Jobs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"
require_cmd java

kubeconfig="${KUBECONFIG:-}"
[[ -z "${kubeconfig}" && -f "$HOME/.kube/config" ]] && kubeconfig="$HOME/.kube/config"

if [[ "${1:-}" == "--local" || -z "${kubeconfig}" ]]; then
  log "no kubeconfig given: running the demo on the local cluster"
  hack/k8s-binaries.sh >/dev/null
  hack/local-cluster.sh up >/dev/null
  hack/images.sh build
  hack/images.sh load
  exec hack/demo.sh
fi

log "using the cluster of ${kubeconfig}"
if command -v kubectl >/dev/null 2>&1; then
  KUBECTL=kubectl
else
  hack/k8s-binaries.sh >/dev/null
  KUBECTL="$(hack/k8s-binaries.sh --print-bin-dir)/kubectl"
fi
log "installing the CRDs (KratosUpgrade, KratosFleetUpgrade)"
"${KUBECTL}" --kubeconfig "${kubeconfig}" apply --server-side -f crds/ >/dev/null
"${KUBECTL}" --kubeconfig "${kubeconfig}" wait --for condition=Established --timeout=60s \
  crd/kratosupgrades.kratos-upgrade.io crd/kratosfleetupgrades.kratos-upgrade.io >/dev/null
build_operator
log "running the operator here, in the foreground (Ctrl-C stops it); metrics on http://localhost:8080/q/metrics"
log "to run it in the cluster instead: helm install kratos-upgrade-operator helm/kratos-upgrade-operator -n kratos-upgrade-system --create-namespace (docs/install.md)"
exec java -Dkubeconfig="${kubeconfig}" -jar "${OPERATOR_JAR}"
