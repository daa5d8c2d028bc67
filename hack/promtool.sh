#!/usr/bin/env bash
#
# Installs Prometheus' promtool from source through the Go module proxy and
# prints the path of the promtool binary on stdout (modelled on hack/helm.sh).
#
#   hack/promtool.sh                 build if needed, print the path of promtool
#   hack/promtool.sh --print-path    print the path; exit 1 if promtool is not built yet
#   hack/promtool.sh -- ARGS...      build if needed, then run promtool ARGS...
#
# Result: ${KUO_CACHE}/promtool/<version>/bin/promtool (default cache root
# ~/.cache/kratos-upgrade-operator). Go's module and build caches are the ones
# hack/helm.sh uses (${KUO_CACHE}/go/{mod,build}).
#
# Environment:
#   KUO_CACHE          cache root (default ~/.cache/kratos-upgrade-operator)
#   PROMTOOL_VERSION   version of the Go module github.com/prometheus/prometheus
#                      (its tag v0.3XX.Y is Prometheus 3.XX.Y). Default below: the
#                      newest the Go module proxy serves; its go.mod declares
#                      `go 1.26.7`, so it builds with the local Go (1.26,
#                      GOTOOLCHAIN=local), and it has no replace directive
#                      (which `go install pkg@version` refuses).
#
# Idempotent: a second run only checks a stamp file and returns at once.
# Logs go to stderr; stdout only carries the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
PROM_MODULE=github.com/prometheus/prometheus

[[ "${PROMTOOL_VERSION}" =~ ^v0\.[0-9]+\.[0-9]+$ ]] || die "PROMTOOL_VERSION must look like v0.316.0 (got '${PROMTOOL_VERSION}')"

PROMTOOL_DIR="${KUO_CACHE}/promtool/${PROMTOOL_VERSION}"
PROMTOOL_BIN="${PROMTOOL_DIR}/bin/promtool"
STAMP="${PROMTOOL_DIR}/build.txt"

# What the binary was built from; a change (another Go) rebuilds it.
want_stamp() {
  printf 'module=%s@%s\ngo=%s\n' "${PROM_MODULE}" "${PROMTOOL_VERSION}" "$(go env GOVERSION)"
}

current() {
  [[ -x "${PROMTOOL_BIN}" && -f "${STAMP}" ]] || return 1
  [[ "$(cat "${STAMP}")" == "$(want_stamp)" ]]
}

build() {
  use_go_caches
  mkdir -p "${PROMTOOL_DIR}"

  log "building promtool ${PROMTOOL_VERSION} from ${PROM_MODULE} through the Go module proxy ($(go env GOVERSION), GOPROXY=$(go env GOPROXY))"
  local mod_file
  mod_file="$(installable_go_mod "${PROM_MODULE}" "${PROMTOOL_VERSION}")"

  local tmp ldflags
  tmp="$(mktemp -d "${PROMTOOL_DIR}/.build.XXXXXX")"
  # Like Prometheus' promu build: the version shown by `promtool --version`.
  ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v}"
  ldflags+=" -X github.com/prometheus/common/version.Branch=HEAD -X github.com/prometheus/common/version.BuildUser=kuo"
  # builtinassets: the web UI's assets are embedded in the module (promtool does not need them anyway).
  if ! GOBIN="${tmp}" go install -trimpath -tags netgo,builtinassets -ldflags "${ldflags}" "${PROM_MODULE}/cmd/promtool@${PROMTOOL_VERSION}" >&2; then
    rm -rf "${tmp}"
    die "go install ${PROM_MODULE}/cmd/promtool@${PROMTOOL_VERSION} failed (output above)"
  fi
  "${tmp}/promtool" --version >/dev/null 2>&1 || { rm -rf "${tmp}"; die "the built promtool does not run"; }
  mkdir -p "${PROMTOOL_DIR}/bin"
  mv -f "${tmp}/promtool" "${PROMTOOL_BIN}"
  rm -rf "${tmp}"
  want_stamp >"${STAMP}.tmp"
  mv -f "${STAMP}.tmp" "${STAMP}"
  log "$("${PROMTOOL_BIN}" --version 2>&1 | head -n1) at ${PROMTOOL_BIN}"
}

main() {
  case "${1:-}" in
    --print-path)
      [[ -x "${PROMTOOL_BIN}" && -f "${STAMP}" ]] || { log "promtool ${PROMTOOL_VERSION} is not built yet (run $0)"; exit 1; }
      printf '%s\n' "${PROMTOOL_BIN}"
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
    mkdir -p "${KUO_CACHE}/promtool"
    exec 7>"${KUO_CACHE}/promtool/.lock"
    flock 7
    current || timed "promtool ${PROMTOOL_VERSION}" build
    exec 7>&-
  fi
  if [[ "${1:-}" == -- ]]; then
    shift
    exec "${PROMTOOL_BIN}" "$@"
  fi
  printf '%s\n' "${PROMTOOL_BIN}"
}

main "$@"
