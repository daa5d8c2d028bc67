#!/usr/bin/env bash
#
# Builds the KWOK controller (sigs.k8s.io/kwok/cmd/kwok, "Kubernetes WithOut
# Kubelet": fakes Nodes and Pods on a real API server) from source fetched
# through the Go module proxy (no GitHub, no container images) and prints the
# path of the binary on stdout. hack/kwok/stages.yaml holds the Stages the
# benchmark uses; hack/kwok/README.md says how to run it.
#
#   hack/kwok.sh                   build if needed, print the path of kwok
#   hack/kwok.sh --print-path      print the path; exit 1 if kwok is not built yet
#                                  (--print-bin is the same)
#   hack/kwok.sh --print-version   print the pinned kwok version (e.g. v0.8.0)
#   hack/kwok.sh -- ARGS...        build if needed, then run kwok ARGS...
#
# Result: ${KUO_CACHE}/kwok/<version>/kwok (default cache root
# ~/.cache/kratos-upgrade-operator), with build.txt beside it saying what it was
# built from. The version and every dependency are pinned by the wrapper module
# hack/kwok/go.mod + go.sum (a `tool sigs.k8s.io/kwok/cmd/kwok` directive: no
# Go source of our own); its dependency set is exactly kwok's own go.mod (the
# wrapper requires nothing else). To move the pin:
#   cd hack/kwok && GOTOOLCHAIN=local go get -tool sigs.k8s.io/kwok/cmd/kwok@vX.Y.Z && go mod tidy
# Go's module and build caches are the shared ones (${KUO_CACHE}/go/{mod,build}).
#
# Version: v0.8.0, the newest release the Go module proxy serves (`go list -m
# -versions sigs.k8s.io/kwok`: v0.6.1 v0.7.0 v0.8.0 on 2026-11-29); it declares
# `go 1.26.0`, so the local Go 1.26 builds it with GOTOOLCHAIN=local.
#
# The binary is built like kwok's hack/releases.sh does it (CGO_ENABLED=0,
# `go build ./cmd/kwok`, -X sigs.k8s.io/kwok/pkg/consts.Version=<version>) plus
# -trimpath -s -w.
#
# Environment:
#   KUO_CACHE       cache root (default ~/.cache/kratos-upgrade-operator)
#   KUO_BUILD_JOBS  parallel compile jobs for `go build -p` (default: nproc)
#
# Idempotent: a second run only compares a stamp file and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SRC_DIR="${KUO_ROOT}/hack/kwok"
KWOK_MODULE=sigs.k8s.io/kwok
KWOK_PKG="${KWOK_MODULE}/cmd/kwok"
KWOK_ROOT="${KUO_CACHE}/kwok"

# The pinned version, read from the wrapper go.mod (single source of truth).
pinned_version() {
  local v
  v="$(awk -v m="${KWOK_MODULE}" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "${SRC_DIR}/go.mod")"
  [[ "${v}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the ${KWOK_MODULE} version from ${SRC_DIR}/go.mod (got '${v}')"
  printf '%s' "${v}"
}

# What the binary was built from; a change (go.mod, go.sum, another Go) rebuilds it.
want_stamp() {
  printf 'module=%s@%s\ngo.mod=%s\ngo.sum=%s\ngo=%s\n' "${KWOK_MODULE}" "${KWOK_VERSION}" \
    "$(sha256sum <"${SRC_DIR}/go.mod" | cut -c1-16)" "$(sha256sum <"${SRC_DIR}/go.sum" | cut -c1-16)" \
    "$(GOTOOLCHAIN=local go env GOVERSION)"
}

current() {
  [[ -x "${KWOK_BIN}" && -f "${STAMP}" ]] || return 1
  [[ "$(cat "${STAMP}")" == "$(want_stamp)" ]]
}

build() {
  export GOPATH="${KUO_CACHE}/go/path"
  export GOMODCACHE="${KUO_CACHE}/go/mod"
  export GOCACHE="${KUO_CACHE}/go/build"
  # Deliberately replaces any user GOFLAGS; -mod=readonly: go.mod/go.sum are the pin.
  export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly"
  export GOWORK=off
  export GO111MODULE=on
  # Never download another toolchain: a pin that needs a newer Go must fail.
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
  mkdir -p "${GOPATH}" "${GOMODCACHE}" "${GOCACHE}" "${KWOK_DIR}"

  log "building ${KWOK_PKG}@${KWOK_VERSION} (pinned by ${SRC_DIR}/go.mod; $(go env GOVERSION), GOPROXY=$(go env GOPROXY), -p ${KUO_BUILD_JOBS})"
  local tmp
  tmp="$(mktemp -d "${KWOK_DIR}/.build.XXXXXX")"
  if ! (cd "${SRC_DIR}" && go build -p "${KUO_BUILD_JOBS}" -trimpath \
    -ldflags "-s -w -X ${KWOK_MODULE}/pkg/consts.Version=${KWOK_VERSION}" \
    -o "${tmp}/kwok" "${KWOK_PKG}") >&2; then
    rm -rf "${tmp}"
    die "go build ${KWOK_PKG} in ${SRC_DIR} failed (output above)"
  fi
  local v
  v="$("${tmp}/kwok" --version 2>&1)" || { rm -rf "${tmp}"; die "the built kwok does not run: ${v}"; }
  mv -f "${tmp}/kwok" "${KWOK_BIN}"
  rm -rf "${tmp}"
  want_stamp >"${STAMP}.tmp"
  mv -f "${STAMP}.tmp" "${STAMP}"
  log "${v} at ${KWOK_BIN}"
}

main() {
  local mode=build
  case "${1:-}" in
    --print-path | --print-bin) mode=print ;;
    --print-version) mode=version ;;
    "" | --) ;;
    -h | --help)
      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 0
      ;;
    *) die "unknown argument '$1' (see $0 --help)" ;;
  esac
  [[ -f "${SRC_DIR}/go.mod" && -f "${SRC_DIR}/go.sum" ]] || die "missing ${SRC_DIR}/go.mod or go.sum"
  KWOK_VERSION="$(pinned_version)"
  KWOK_DIR="${KWOK_ROOT}/${KWOK_VERSION}"
  KWOK_BIN="${KWOK_DIR}/kwok"
  STAMP="${KWOK_DIR}/build.txt"
  case "${mode}" in
    version)
      printf '%s\n' "${KWOK_VERSION}"
      return 0
      ;;
    print)
      [[ -x "${KWOK_BIN}" && -f "${STAMP}" ]] || { log "kwok ${KWOK_VERSION} is not built yet (run $0)"; exit 1; }
      printf '%s\n' "${KWOK_BIN}"
      return 0
      ;;
  esac
  require_cmd go sha256sum flock
  if ! current; then
    KUO_BUILD_JOBS="${KUO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
    mkdir -p "${KWOK_ROOT}"
    exec 7>"${KWOK_ROOT}/.lock"
    flock 7
    current || timed "kwok ${KWOK_VERSION}" build
    exec 7>&-
  fi
  if [[ "${1:-}" == -- ]]; then
    shift
    exec "${KWOK_BIN}" "$@"
  fi
  printf '%s\n' "${KWOK_BIN}"
}

main "$@"
