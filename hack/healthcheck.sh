#!/usr/bin/env bash
#
# Builds hack/healthcheck (a small Go tool that evaluates the Argo CD Lua health
# check and the Flux healthCheckExprs of our custom resources exactly like
# Argo CD and kustomize-controller do) and prints the path of the binary on
# stdout.
#
#   hack/healthcheck.sh                 build if needed, print the path
#   hack/healthcheck.sh --print-path    print the path; exit 1 if not built yet
#   hack/healthcheck.sh -- ARGS...      build if needed, then run healthcheck ARGS...
#
# Result: ${KUO_CACHE}/healthcheck/<key>/healthcheck (default cache root
# ~/.cache/kratos-upgrade-operator), where <key> is a hash of go.mod, go.sum,
# the .go files under hack/healthcheck and the Go version: editing any of them
# builds a new binary, otherwise the cached one is reused. Go's module and build
# caches are the shared ones (${KUO_CACHE}/go/{mod,build}); dependencies come
# from the Go module proxy, pinned by hack/healthcheck/go.mod and go.sum.
#
# Idempotent: a second run only hashes the inputs and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SRC_DIR="${KUO_ROOT}/hack/healthcheck"
HC_ROOT="${KUO_CACHE}/healthcheck"

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
  export GOPATH="${KUO_CACHE}/go/path"
  export GOMODCACHE="${KUO_CACHE}/go/mod"
  export GOCACHE="${KUO_CACHE}/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly"
  export GOWORK=off
  export GO111MODULE=on
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
  mkdir -p "${GOPATH}" "${GOMODCACHE}" "${GOCACHE}" "${HC_DIR}"

  log "building ${SRC_DIR} ($(go env GOVERSION), GOPROXY=$(go env GOPROXY))"
  local tmp
  tmp="$(mktemp -d "${HC_DIR}/.build.XXXXXX")"
  if ! (cd "${SRC_DIR}" && go build -trimpath -ldflags "-s -w" -o "${tmp}/healthcheck" .) >&2; then
    rm -rf "${tmp}"
    die "go build in ${SRC_DIR} failed (output above)"
  fi
  "${tmp}/healthcheck" --help >/dev/null || { rm -rf "${tmp}"; die "the built healthcheck does not run"; }
  mv -f "${tmp}/healthcheck" "${HC_BIN}"
  rm -rf "${tmp}"
  log "healthcheck at ${HC_BIN}"
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
  HC_DIR="${HC_ROOT}/$(input_key)"
  HC_BIN="${HC_DIR}/healthcheck"
  if [[ "${mode}" == print ]]; then
    [[ -x "${HC_BIN}" ]] || { log "healthcheck is not built for the current sources yet (run $0)"; exit 1; }
    printf '%s\n' "${HC_BIN}"
    return 0
  fi
  if [[ ! -x "${HC_BIN}" ]]; then
    mkdir -p "${HC_ROOT}"
    exec 7>"${HC_ROOT}/.lock"
    flock 7
    [[ -x "${HC_BIN}" ]] || timed "healthcheck" build
    exec 7>&-
  fi
  if [[ "${1:-}" == -- ]]; then
    shift
    exec "${HC_BIN}" "$@"
  fi
  printf '%s\n' "${HC_BIN}"
}

main "$@"
