#!/usr/bin/env bash
#
# Runs every test tier. This is the README's test command and what CI runs (.ci/run).
#
#   1. unit tests (surefire): pure logic, no cluster;
#   2. API-server tier (failsafe, *IT): a real kube-apiserver + etcd built from source by
#      hack/k8s-binaries.sh (cached under ~/.cache/kratos-upgrade-operator), the operator in the JVM,
#      the tests playing the Job/Deployment controllers;
#   3. the CRD drift check (crds/ must equal what the Java model generates).
#
# Extra arguments go to Maven (e.g. -Dit.test=FailureIT).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

start=$(date +%s)
require_cmd java
require_cmd go
KUBEAPITEST_DIR="$(hack/k8s-binaries.sh --print-kubeapitest-dir 2>/dev/null || true)"
if ! hack/k8s-binaries.sh --print-bin-dir >/dev/null 2>&1; then
  log "building Kubernetes binaries (first run on this machine; cached afterwards)"
  hack/k8s-binaries.sh >/dev/null
fi
KUBEAPITEST_DIR="$(hack/k8s-binaries.sh --print-kubeapitest-dir)"
log "kube-api-test binaries: ${KUBEAPITEST_DIR}"

./mvnw -B -ntp verify -Dkubeapitest.dir="${KUBEAPITEST_DIR}" "$@"
log "all test tiers passed in $(fmt_duration $(( $(date +%s) - start )))"
