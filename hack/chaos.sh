#!/usr/bin/env bash
#
# The reliability suite in full, on the local cluster (needs root, like hack/local-cluster.sh): the operator
# SIGKILLed at every phase boundary and in every step (OperatorKillE2E), the leader of a two-replica install
# killed mid-migration (NamespacedInstallE2E), and every infrastructure fault (InfrastructureFaultE2E), the
# long ones (tag chaos-full) included. hack/test.sh runs all of it but the chaos-full scenarios.
# docs/reliability.md lists every fault with its outcome and the command that reproduces it.
#
#   hack/chaos.sh                        the whole suite
#   hack/chaos.sh -Dit.test='InfrastructureFaultE2E#theWholeNode*'    one scenario (extra arguments go to Maven)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"
require_cmd java go
start=$(date +%s)
hack/k8s-binaries.sh >/dev/null
HELM="$(hack/helm.sh)"
timed "local cluster" hack/local-cluster.sh up >/dev/null
hack/local-cluster.sh recycle-pvs >/dev/null
timed "images" hack/images.sh build
timed "image load" hack/images.sh load
timed "chaos suite" ./mvnw -B -ntp verify -DskipTests=false -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dkubeapitest.dir="$(hack/k8s-binaries.sh --print-kubeapitest-dir)" -Dhelm.binary="${HELM}" -Dit.excludedGroups= \
  -Dit.test='OperatorKillE2E,InfrastructureFaultE2E,NamespacedInstallE2E' "$@"
log "chaos suite passed in $(fmt_duration $(( $(date +%s) - start )))"
