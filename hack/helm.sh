#!/usr/bin/env bash
#
# Installs the Helm 3 CLI from source through the Go module proxy (no GitHub,
# no get.helm.sh) and prints the path of the helm binary on stdout.
#
#   hack/helm.sh                 build if needed, print the path of helm
#   hack/helm.sh --print-path    print the path; exit 1 if helm is not built yet
#   hack/helm.sh -- ARGS...      build if needed, then run helm ARGS...
#
# Result: ${KUO_CACHE}/helm/<version>/bin/helm (default cache root
# ~/.cache/kratos-upgrade-operator). Go's module and build caches are the ones
# hack/k8s-binaries.sh and hack/images.sh use (${KUO_CACHE}/go/{mod,build}).
#
# The binary is built like Helm's own Makefile does it: version, and the
# Kubernetes version Helm assumes for `helm template` / `helm lint`
# (.Capabilities.KubeVersion) from the k8s.io/client-go it is built with.
#
# Environment:
#   KUO_CACHE      cache root (default ~/.cache/kratos-upgrade-operator)
#   HELM_VERSION   Helm release to build (default below). Chosen as the newest
#                  v3 release the Go module proxy serves (`go list -m -versions
#                  helm.sh/helm/v3`) that builds with the local Go (1.26,
#                  GOTOOLCHAIN=local: Helm v3.21+ declares `go 1.26.0`) and has
#                  no replace directive in its go.mod (which `go install
#                  pkg@version` refuses).
#
# Idempotent: a second run only checks a stamp file and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
HELM_MODULE=helm.sh/helm/v3

[[ "${HELM_VERSION}" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "HELM_VERSION must look like v3.22.0 (got '${HELM_VERSION}')"

HELM_DIR="${KUO_CACHE}/helm/${HELM_VERSION}"
HELM_BIN="${HELM_DIR}/bin/helm"
STAMP="${HELM_DIR}/build.txt"

# What the binary was built from; a change (another Go) rebuilds it.
want_stamp() {
  printf 'module=%s@%s\ngo=%s\n' "${HELM_MODULE}" "${HELM_VERSION}" "$(go env GOVERSION)"
}

current() {
  [[ -x "${HELM_BIN}" && -f "${STAMP}" ]] || return 1
  [[ "$(cat "${STAMP}")" == "$(want_stamp)" ]]
}

build() {
  use_go_caches
  mkdir -p "${HELM_DIR}"

  log "building helm ${HELM_VERSION} from ${HELM_MODULE} through the Go module proxy ($(go env GOVERSION), GOPROXY=$(go env GOPROXY))"
  local mod_file client_go k8s_major k8s_minor
  mod_file="$(installable_go_mod "${HELM_MODULE}" "${HELM_VERSION}")"
  # Like Helm's Makefile: k8s.io/client-go v0.<minor>.x -> Kubernetes 1.<minor>.
  client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "${mod_file}")"
  [[ "${client_go}" =~ ^v0\.([0-9]+)\. ]] || die "cannot find the k8s.io/client-go version in ${mod_file}"
  k8s_major=1
  k8s_minor="${BASH_REMATCH[1]}"

  local tmp ldflags
  tmp="$(mktemp -d "${HELM_DIR}/.build.XXXXXX")"
  ldflags="-s -w -X ${HELM_MODULE}/internal/version.version=${HELM_VERSION}"
  ldflags+=" -X ${HELM_MODULE}/internal/version.gitTreeState=clean"
  ldflags+=" -X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMajor=${k8s_major} -X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMinor=${k8s_minor}"
  ldflags+=" -X ${HELM_MODULE}/pkg/chartutil.k8sVersionMajor=${k8s_major} -X ${HELM_MODULE}/pkg/chartutil.k8sVersionMinor=${k8s_minor}"
  if ! GOBIN="${tmp}" go install -trimpath -ldflags "${ldflags}" "${HELM_MODULE}/cmd/helm@${HELM_VERSION}" >&2; then
    rm -rf "${tmp}"
    die "go install ${HELM_MODULE}/cmd/helm@${HELM_VERSION} failed (output above)"
  fi
  "${tmp}/helm" version --short >/dev/null || { rm -rf "${tmp}"; die "the built helm does not run"; }
  mkdir -p "${HELM_DIR}/bin"
  mv -f "${tmp}/helm" "${HELM_BIN}"
  rm -rf "${tmp}"
  want_stamp >"${STAMP}.tmp"
  mv -f "${STAMP}.tmp" "${STAMP}"
  log "helm $("${HELM_BIN}" version --short) (Kubernetes ${k8s_major}.${k8s_minor} capabilities) at ${HELM_BIN}"
}

main() {
  case "${1:-}" in
    --print-path)
      [[ -x "${HELM_BIN}" && -f "${STAMP}" ]] || { log "helm ${HELM_VERSION} is not built yet (run $0)"; exit 1; }
      printf '%s\n' "${HELM_BIN}"
      return 0
      ;;
    "" | --) ;;
    -h | --help)
      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 0
      ;;
    *) die "unknown argument '$1' (see $0 --help)" ;;
  esac
  require_cmd go jq flock
  if ! current; then
    mkdir -p "${KUO_CACHE}/helm"
    exec 7>"${KUO_CACHE}/helm/.lock"
    flock 7
    current || timed "helm ${HELM_VERSION}" build
    exec 7>&-
  fi
  if [[ "${1:-}" == -- ]]; then
    shift
    exec "${HELM_BIN}" "$@"
  fi
  printf '%s\n' "${HELM_BIN}"
}

main "$@"
