#!/usr/bin/env bash
#
# Regenerates bundle/, the operator's OLM bundle (registry+v1), from the Helm chart; commit the result.
#
#   bundle/manifests/kratos-upgrade-operator.clusterserviceversion.yaml   the CSV
#   bundle/manifests/*.kratos-upgrade.io-v1.yml                           the CRDs (copies of crds/)
#   bundle/manifests/kratos-upgrade-operator_v1_service.yaml              the metrics Service
#   bundle/metadata/annotations.yaml                                      package, channel "alpha"
#   bundle/bundle.Dockerfile                                              the bundle image
#
# The sources are the chart's: hack/update-manifests.sh --out renders it (the same rendering as deploy/: the
# Deployment, the ServiceAccount, the leader-election Role, the namespaced install's Role, the Service, the CRDs),
# Chart.yaml gives the version, description, keywords and minimum Kubernetes version; hack/olm/csv-base.yaml holds
# what only a CSV has (display names, long description, install modes, capability level), hack/olm/icon.svg the
# icon, examples/upgrade-rolling.yaml and examples/fleet-tenants.yaml the alm-examples. hack/olm (kuo-olm, built
# by hack/olm.sh) assembles the bundle and validates it with the Operator Framework's validators.
#
#   hack/update-bundle.sh                        regenerate bundle/ in place, then validate it
#   hack/update-bundle.sh --out DIR              write the bundle to DIR instead (nothing else is touched)
#   hack/update-bundle.sh --out DIR --image IMG  ... with the operator image IMG (a release: registry and tag)
#   hack/update-bundle.sh --check                exit 1 (with a diff) when bundle/ is not what this script
#                                                generates, or when the validators report an error
#
# Test: packaging/OlmBundleDriftIT fails when bundle/ differs from what this script writes, and when the
# validators report an error or a warning. Needs helm (hack/helm.sh) and Go (hack/olm.sh builds kuo-olm).

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

EXAMPLES="examples/upgrade-rolling.yaml,examples/fleet-tenants.yaml"

TMP_DIR=""
trap '[[ -z "${TMP_DIR}" ]] || rm -rf "${TMP_DIR}"' EXIT

# generate OUT_DIR [--image IMAGE]
generate() {
  local out=$1
  shift
  "${KUO_ROOT}/hack/update-manifests.sh" --out "${TMP_DIR}/deploy" 2>/dev/null ||
    "${KUO_ROOT}/hack/update-manifests.sh" --out "${TMP_DIR}/deploy" # again, with its log, to show why
  (cd "${KUO_ROOT}" && "${KUO_OLM}" generate --deploy "${TMP_DIR}/deploy" --chart helm/kratos-upgrade-operator/Chart.yaml \
    --base hack/olm/csv-base.yaml --icon hack/olm/icon.svg --examples "${EXAMPLES}" --out "${out}" "$@")
}

# validate DIR: the validators' report on stderr; fails on an error (warnings are reported, not fatal here).
validate() {
  local rc=0
  "${KUO_OLM}" validate "$1" >&2 || rc=$?
  ((rc == 0 || rc == 2)) || die "the Operator Framework's validators reject $1 (report above)"
}

main() {
  local out="" check=0 image=()
  while (($# > 0)); do
    case "$1" in
      --out)
        out=${2:?--out needs a directory}
        shift
        ;;
      --image)
        image=(--image "${2:?--image needs an image reference}")
        shift
        ;;
      --check) check=1 ;;
      -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 0
        ;;
      *) die "unknown argument '$1' (see $0 --help)" ;;
    esac
    shift
  done
  ((${#image[@]} == 0)) || [[ -n "${out}" ]] || die "--image only with --out: bundle/ is generated with the chart's image"
  HELM="${HELM:-$("${KUO_ROOT}/hack/helm.sh")}"
  KUO_OLM="${KUO_OLM:-$("${KUO_ROOT}/hack/olm.sh")}"
  export HELM
  [[ -x "${KUO_OLM}" ]] || die "kuo-olm not found (${KUO_OLM})"
  TMP_DIR="$(mktemp -d)"

  if ((check)); then
    generate "${TMP_DIR}/bundle"
    diff -ru "${KUO_ROOT}/bundle" "${TMP_DIR}/bundle" >&2 || die "bundle/ is out of date: run hack/update-bundle.sh"
    validate "${KUO_ROOT}/bundle"
    log "bundle/ is up to date"
    return 0
  fi
  if [[ -n "${out}" ]]; then
    mkdir -p "$(dirname "${out}")"
    generate "${out}" "${image[@]}"
    log "wrote ${out}"
    return 0
  fi
  # Generate aside first: an error leaves bundle/ as it was.
  generate "${TMP_DIR}/bundle"
  rm -rf "${KUO_ROOT}/bundle"
  mv "${TMP_DIR}/bundle" "${KUO_ROOT}/bundle"
  validate "${KUO_ROOT}/bundle"
  log "updated bundle/"
}

main "$@"
