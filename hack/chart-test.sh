#!/usr/bin/env bash
#
# Checks the Helm chart and the manifests generated from it, without a cluster:
#
#   1. helm lint --strict, with the default values and with the namespaced/monitoring values;
#   2. the values schema refuses a bad value (replicaCount "two");
#   3. deploy/ and the chart's CRD are what hack/update-manifests.sh generates, bundle/ (OLM) what
#      hack/update-bundle.sh generates, and the Operator Framework's validators accept bundle/ (hack/olm.sh
#      builds the validator, once);
#   4. kubectl kustomize builds both overlays (if a kubectl is at hand: the local cluster's, or
#      hack/k8s-binaries.sh's);
#   5. the JUnit tests of the chart (src/test/java/.../packaging: ChartRenderIT, ChartCrdDriftIT,
#      ManifestsDriftIT, OlmBundleDriftIT, AlertRulesIT), which parse what helm renders and check PodSecurity "restricted", the RBAC
#      against the reconciler's @RBACRule annotations, both install variants and the schema, and run
#      promtool check/test rules on the alerts (hack/promtool.sh builds promtool, once).
#
#   hack/chart-test.sh              all of it
#   hack/chart-test.sh --no-maven   1-4 only (seconds)
#
# Builds helm with hack/helm.sh on first use (cached).

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

CHART=helm/kratos-upgrade-operator

maven=1
case "${1:-}" in
  --no-maven) maven=0 ;;
  "") ;;
  -h | --help)
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 0
    ;;
  *) die "unknown argument '$1' (see $0 --help)" ;;
esac

start=${SECONDS}
HELM="$(hack/helm.sh)"
export HELM

"${HELM}" lint --strict "${CHART}" >&2
"${HELM}" lint --strict "${CHART}" --set 'watchNamespaces={team-a,team-b}' --set serviceMonitor.enabled=true \
  --set podScrapeAnnotations=true --set replicaCount=2 --set grafanaDashboard.enabled=true \
  --set prometheusRule.enabled=true >&2

if err="$("${HELM}" template kratos-upgrade-operator "${CHART}" --set-string replicaCount=two 2>&1 >/dev/null)"; then
  die "the values schema accepted replicaCount=\"two\""
fi
grep -q "values don't meet the specifications of the schema" <<<"${err}" ||
  die "helm template failed, but not because of the schema: ${err}"
log "values schema refuses replicaCount=\"two\""

hack/update-manifests.sh --check
KUO_OLM="$(hack/olm.sh)"
export KUO_OLM
hack/update-bundle.sh --check

kubectl=""
env_file="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}/env"
if [[ -r "${env_file}" ]]; then
  kubectl="$(sed -n 's/^KUBECTL=//p' "${env_file}" | tail -n1)"
fi
if [[ -z "${kubectl}" || ! -x "${kubectl}" ]]; then
  bin_dir="$(hack/k8s-binaries.sh --print-bin-dir 2>/dev/null || true)"
  kubectl="${bin_dir:+${bin_dir}/kubectl}"
fi
if [[ -z "${kubectl}" || ! -x "${kubectl}" ]]; then
  kubectl="$(command -v kubectl || true)"
fi
if [[ -n "${kubectl}" ]]; then
  for overlay in deploy/overlays/cluster-wide deploy/overlays/namespaced; do
    "${kubectl}" kustomize "${overlay}" >/dev/null || die "kubectl kustomize ${overlay} failed"
    log "kubectl kustomize ${overlay}: builds"
  done
else
  warn "no kubectl found: kustomize builds not checked (hack/k8s-binaries.sh builds one)"
fi

if ((maven)); then
  PROMTOOL="$(timed "promtool" "${KUO_ROOT}/hack/promtool.sh")"
  timed "packaging tests (ChartRenderIT, ChartCrdDriftIT, ManifestsDriftIT, OlmBundleDriftIT, AlertRulesIT)" \
    ./mvnw -B -ntp verify -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test='ChartRenderIT,ChartCrdDriftIT,ManifestsDriftIT,OlmBundleDriftIT,AlertRulesIT' -Dhelm.binary="${HELM}" \
    -Dpromtool.binary="${PROMTOOL}" -Dolm.binary="${KUO_OLM}" >&2
fi
log "chart checks passed in $(fmt_duration $((SECONDS - start)))"
