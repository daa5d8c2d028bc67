#!/usr/bin/env bash
#
# Builds hack/olm (kuo-olm: generates the OLM bundle from the chart's rendering, and validates a bundle with the
# Operator Framework's validators, github.com/operator-framework/api) and prints the path of the binary on stdout.
#
#   hack/olm.sh                 build if needed, print the path
#   hack/olm.sh --print-path    print the path; exit 1 if not built yet
#   hack/olm.sh -- ARGS...      build if needed, then run kuo-olm ARGS...
#
# Result: ${KUO_CACHE}/olm/<key>/kuo-olm (default cache root ~/.cache/kratos-upgrade-operator), where <key> is a
# hash of go.mod, go.sum, the .go files under hack/olm and the Go version: editing any of them builds a new
# binary, otherwise the cached one is reused. Go's module and build caches are the shared ones
# (${KUO_CACHE}/go/{mod,build}); dependencies come from the Go module proxy, pinned by hack/olm/go.mod and go.sum
# (github.com/operator-framework/api v0.45.0, the newest the proxy serves here).
#
# Cold cost (empty Go caches, 2 cores, niced): 2m45s, module downloads included (122 s of CPU; 310 MB of
# modules, 480 MB of build cache, partly shared with the other Go tools); afterwards
# a second run only hashes the inputs and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SRC_DIR="${KUO_ROOT}/hack/olm"
OLM_ROOT="${KUO_CACHE}/olm"

# Hash of everything the binary is built from.
input_key() {
  local f
  {
    printf 'go=%s\n' "$(GOTOOLCHAIN=local go env GOVERSION)"
    for f in go.mod go.sum $(cd "${SRC_DIR}" && LC_ALL=C ls -- *.go); do
      printf '%s %s\n' "${f}" "$(sha256sum <"${SRC_DIR}/${f}" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -c1-16
}

build() {
  use_go_caches
  export GOFLAGS="${GOFLAGS} -mod=readonly"
  export GOTOOLCHAIN=local
  mkdir -p "${OLM_DIR}"

  log "building ${SRC_DIR} ($(go env GOVERSION), GOPROXY=$(go env GOPROXY))"
  local tmp
  tmp="$(mktemp -d "${OLM_DIR}/.build.XXXXXX")"
  if ! (cd "${SRC_DIR}" && go build -trimpath -ldflags "-s -w" -o "${tmp}/kuo-olm" .) >&2; then
    rm -rf "${tmp}"
    die "go build in ${SRC_DIR} failed (output above)"
  fi
  "${tmp}/kuo-olm" --help >/dev/null || { rm -rf "${tmp}"; die "the built kuo-olm does not run"; }
  mv -f "${tmp}/kuo-olm" "${OLM_BIN}"
  rm -rf "${tmp}"
  log "kuo-olm at ${OLM_BIN}"
}

main() {
  local mode=build
  case "${1:-}" in
    --print-path) mode=print ;;
    "" | --) ;;
    -h | --help)
      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 0
      ;;
    *) die "unknown argument '$1' (see $0 --help)" ;;
  esac
  require_cmd go sha256sum flock
  [[ -f "${SRC_DIR}/go.mod" && -f "${SRC_DIR}/go.sum" ]] || die "missing ${SRC_DIR}/go.mod or go.sum"
  OLM_DIR="${OLM_ROOT}/$(input_key)"
  OLM_BIN="${OLM_DIR}/kuo-olm"
  if [[ "${mode}" == print ]]; then
    [[ -x "${OLM_BIN}" ]] || { log "kuo-olm is not built for the current sources yet (run $0)"; exit 1; }
    printf '%s\n' "${OLM_BIN}"
    return 0
  fi
  if [[ ! -x "${OLM_BIN}" ]]; then
    mkdir -p "${OLM_ROOT}"
    exec 7>"${OLM_ROOT}/.lock"
    flock 7
    [[ -x "${OLM_BIN}" ]] || timed "kuo-olm" build
    exec 7>&-
  fi
  if [[ "${1:-}" == -- ]]; then
    shift
    exec "${OLM_BIN}" "$@"
  fi
  printf '%s\n' "${OLM_BIN}"
}

main "$@"
