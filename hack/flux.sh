#!/usr/bin/env bash
#
# Builds a real Flux pipeline for the end-to-end tests from source fetched
# through the Go module proxy (no GitHub, no container registry, no images):
# Flux's source-controller and kustomize-controller as host binaries, their
# CRDs, and a small Git smart-HTTP server (hack/flux/gitserver) that the
# source-controller clones from and the tests push to.
#
# Usage:
#   hack/flux.sh build       build what is missing or stale; stdout: the dir
#   hack/flux.sh print-dir   print the dir; exit 1 if it is not (completely) built
#   hack/flux.sh versions    print the pinned versions (name=version lines)
#
# Result, ${KUO_CACHE}/flux/sc-<version>_kc-<version>/:
#   source-controller      github.com/fluxcd/source-controller (main package)
#   kustomize-controller   github.com/fluxcd/kustomize-controller (main package)
#   flux-git-server        hack/flux/gitserver: `git http-backend` behind
#                          net/http/cgi; needs `git` on PATH at run time
#   crds/                  config/crd/bases/*.yaml of both modules (all source
#                          kinds: source-controller watches every one of them,
#                          and kustomize-controller indexes them, so install all)
#   versions.txt           what the directory was built from
#
# How the controllers are built: like their Dockerfiles (CGO_ENABLED=0,
# `go build -trimpath` of main.go, no build tags; source-controller has had no
# libgit2/CGO since v1.0, git is go-git), from the module zip the proxy serves,
# with the module's own go.mod/go.sum (so exactly upstream's dependency set,
# checked against sum.golang.org). The module zip leaves out the nested ./api
# module that go.mod replaces (`replace .../api => ./api`); the published
# github.com/fluxcd/<controller>/api module of the same version is put there,
# as the Dockerfile's `COPY api/ api/` does. `-a` is left out (it only
# defeats the build cache) and `-s -w` is added (as in source-controller's
# Makefile static build).
#
# Running them as host processes (see hack/flux-smoke.sh for a full example);
# neither has a --kubeconfig flag, they read KUBECONFIG (controller-runtime):
#   KUBECONFIG=K RUNTIME_NAMESPACE=flux-system source-controller --watch-all-namespaces
#     --enable-leader-election=false --metrics-addr=127.0.0.1:P1
#     --health-addr=127.0.0.1:P2 --storage-path=DIR
#     --storage-addr=127.0.0.1:P3 --storage-adv-addr=127.0.0.1:P3
#   KUBECONFIG=K RUNTIME_NAMESPACE=flux-system kustomize-controller --watch-all-namespaces
#     --enable-leader-election=false --metrics-addr=127.0.0.1:P4
#     --health-addr=127.0.0.1:P5 --no-remote-bases=true
#   flux-git-server -root DIR -listen 127.0.0.1:0 -addr-file FILE
#
# Environment:
#   KUO_CACHE                  cache root (default ~/.cache/kratos-upgrade-operator)
#   FLUX_SOURCE_CONTROLLER_VERSION, FLUX_KUSTOMIZE_CONTROLLER_VERSION
#                              override the pins below
#   KUO_BUILD_JOBS             parallel compile jobs for `go build -p` (default: nproc)
#
# Idempotent: each part (the two controllers, the git server, the CRDs) carries
# a stamp of its inputs (versions, Go version, git server source hash); a
# second run only compares stamps. Logs go to stderr; stdout only the path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Pins. The proxy (checked 2026-11-29) serves source-controller v1.8.5 v1.9.4
# v1.9.5 v1.9.6 v1.10.0 v1.10.1 and kustomize-controller v1.7.3 v1.9.0 v1.9.5
# v1.9.6 v1.10.0 v1.10.1. v1.10.x of both declare `go 1.27.0`, which Go 1.26
# cannot build without a toolchain download (GOTOOLCHAIN=local: "go.mod
# requires go >= 1.27.0"). v1.9.6 (Flux 2.8 line) is the newest that declares
# `go 1.26.0`; its kustomize-controller has .spec.healthCheckExprs (since
# v1.5.0) and .spec.dependsOn, and both controllers serve the v1 APIs
# (source.toolkit.fluxcd.io/v1 GitRepository, kustomize.toolkit.fluxcd.io/v1
# Kustomization). Keep the two on the same Flux release.
FLUX_SOURCE_CONTROLLER_VERSION="${FLUX_SOURCE_CONTROLLER_VERSION:-v1.9.6}"
FLUX_KUSTOMIZE_CONTROLLER_VERSION="${FLUX_KUSTOMIZE_CONTROLLER_VERSION:-v1.9.6}"

# Dependency substitutions, MODULE@VERSION, applied as `replace MODULE =>
# MODULE VERSION` to the controller's go.mod. The proxy reachable here does not
# serve every version: it answers "403 Forbidden ... This module version is not
# available" for some. source-controller v1.9.4/v1.9.5/v1.9.6 need
# github.com/fluxcd/pkg/artifact v0.18.2/v0.18.3 and v1.8.5 needs v0.8.1, none
# of them served; v0.18.0 (served: v0.3.0 v0.5.0 v0.8.0 v0.18.0) is the same
# minor line and builds. kustomize-controller v1.9.6 needs none.
# Only used for the default pins above; set FLUX_*_SUBSTITUTIONS="" to disable.
FLUX_SOURCE_CONTROLLER_SUBSTITUTIONS="${FLUX_SOURCE_CONTROLLER_SUBSTITUTIONS-github.com/fluxcd/pkg/artifact@v0.18.0}"
FLUX_KUSTOMIZE_CONTROLLER_SUBSTITUTIONS="${FLUX_KUSTOMIZE_CONTROLLER_SUBSTITUTIONS-}"

SC_MODULE=github.com/fluxcd/source-controller
KC_MODULE=github.com/fluxcd/kustomize-controller

for v in "${FLUX_SOURCE_CONTROLLER_VERSION}" "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}"; do
  [[ "${v}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "controller versions must look like v1.9.6 (got '${v}')"
done

GITSERVER_SRC="${KUO_ROOT}/hack/flux/gitserver"
FLUX_ROOT="${KUO_CACHE}/flux"
FLUX_DIR="${FLUX_ROOT}/sc-${FLUX_SOURCE_CONTROLLER_VERSION}_kc-${FLUX_KUSTOMIZE_CONTROLLER_VERSION}"
PARTS_DIR="${FLUX_ROOT}/parts"
WORK_DIR="${FLUX_ROOT}/work"
TMP_ROOT="${FLUX_ROOT}/tmp"
BINARIES=(source-controller kustomize-controller flux-git-server)

# ---------------------------------------------------------------------------
# Stamps (fast path: no go, no network).

go_version() {
  if [[ -z "${_GO_VERSION:-}" ]]; then
    _GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"
  fi
  printf '%s' "${_GO_VERSION}"
}

gitserver_hash() {
  (cd "${GITSERVER_SRC}" && cat go.mod ./*.go | sha256sum | cut -c1-16)
}

sc_stamp() {
  printf 'module=%s@%s\nsubstitutions=%s\ngo=%s\n' "${SC_MODULE}" "${FLUX_SOURCE_CONTROLLER_VERSION}" \
    "${FLUX_SOURCE_CONTROLLER_SUBSTITUTIONS}" "$(go_version)"
}
kc_stamp() {
  printf 'module=%s@%s\nsubstitutions=%s\ngo=%s\n' "${KC_MODULE}" "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}" \
    "${FLUX_KUSTOMIZE_CONTROLLER_SUBSTITUTIONS}" "$(go_version)"
}
gs_stamp() { printf 'source=hack/flux/gitserver@%s\ngo=%s\n' "$(gitserver_hash)" "$(go_version)"; }

expected_stamp() {
  printf 'source-controller=%s (%s)\nkustomize-controller=%s (%s)\nflux-git-server=%s\ngo=%s\n' \
    "${FLUX_SOURCE_CONTROLLER_VERSION}" "${FLUX_SOURCE_CONTROLLER_SUBSTITUTIONS}" \
    "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}" "${FLUX_KUSTOMIZE_CONTROLLER_SUBSTITUTIONS}" \
    "$(gitserver_hash)" "$(go_version)"
}

part_dir() {
  case "$1" in
    source-controller) printf '%s/source-controller-%s' "${PARTS_DIR}" "${FLUX_SOURCE_CONTROLLER_VERSION}" ;;
    kustomize-controller) printf '%s/kustomize-controller-%s' "${PARTS_DIR}" "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}" ;;
    flux-git-server) printf '%s/flux-git-server' "${PARTS_DIR}" ;;
  esac
}

part_stamp() {
  case "$1" in
    source-controller) sc_stamp ;;
    kustomize-controller) kc_stamp ;;
    flux-git-server) gs_stamp ;;
  esac
}

part_complete() {
  local d
  d="$(part_dir "$1")"
  [[ -x "${d}/$1" && -f "${d}/stamp.txt" && "$(cat "${d}/stamp.txt")" == "$(part_stamp "$1")" ]]
}

dir_complete() {
  [[ -f "${FLUX_DIR}/versions.txt" && "$(cat "${FLUX_DIR}/versions.txt")" == "$(expected_stamp)" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "${FLUX_DIR}/${b}" ]] || return 1
  done
  [[ -f "${FLUX_DIR}/crds/source.toolkit.fluxcd.io_gitrepositories.yaml" &&
    -f "${FLUX_DIR}/crds/kustomize.toolkit.fluxcd.io_kustomizations.yaml" ]]
}

# ---------------------------------------------------------------------------
# Helpers.

cleanup() {
  rm -rf "${TMP_ROOT}" "${WORK_DIR}"
}

new_tmp_dir() {
  mkdir -p "${TMP_ROOT}"
  local d
  d="$(mktemp -d "${TMP_ROOT}/$1.XXXXXX")"
  chmod 0755 "${d}"
  printf '%s' "${d}"
}

# replace_dir SRC DST: atomic rename of a fully prepared SRC onto DST.
replace_dir() {
  local src=$1 dst=$2 old=""
  mkdir -p "$(dirname "${dst}")"
  if [[ -e "${dst}" || -L "${dst}" ]]; then
    old="$(new_tmp_dir old)"
    mv "${dst}" "${old}/"
  fi
  mv "${src}" "${dst}"
  [[ -z "${old}" ]] || rm -rf "${old}"
}

setup_go_env() {
  require_cmd go jq
  use_go_caches
  # Never download another toolchain: a pin that needs a newer Go must fail.
  export GOTOOLCHAIN=local
  log "using $(go version) (GOPROXY=$(go env GOPROXY))"
}

# go_mod_dir MODULE@VERSION: download a module, print its source directory.
go_mod_dir() {
  local json err dir
  json="$(go mod download -json "$1" 2>&1)" || true
  err="$(jq -r '.Error // empty' <<<"${json}" 2>/dev/null || printf '%s' "${json}")"
  [[ -z "${err}" ]] || die "cannot download $1: ${err}"
  dir="$(jq -r '.Dir // empty' <<<"${json}")"
  [[ -n "${dir}" && -d "${dir}" ]] || die "no source dir for $1 in: ${json}"
  printf '%s' "${dir}"
}

# version_le A B: true when Go version A <= B (1.26.0 <= 1.26.8).
version_le() {
  [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$1" ]]
}

# build_controller NAME MODULE VERSION SUBSTITUTIONS
build_controller() {
  local name=$1 module=$2 version=$3 substitutions=$4 src api work out go_directive local_go
  log "${name} ${version}: downloading ${module}@${version} and ${module}/api@${version}"
  src="$(go_mod_dir "${module}@${version}")"
  go_directive="$(sed -n 's/^go \([0-9][0-9.]*\).*$/\1/p' "${src}/go.mod" | head -n1)"
  local_go="$(go_version)"
  local_go="${local_go#go}"
  version_le "${go_directive}" "${local_go}" ||
    die "${module}@${version} declares go ${go_directive}; the local Go is ${local_go} (GOTOOLCHAIN=local). Pick an older version."
  grep -qE "^replace ${module}/api => \./api" "${src}/go.mod" ||
    die "${module}@${version}: expected 'replace ${module}/api => ./api' in go.mod; the build recipe needs a look"
  api="$(go_mod_dir "${module}/api@${version}")"

  work="${WORK_DIR}/${name}-${version}"
  rm -rf "${work}"
  mkdir -p "${WORK_DIR}"
  cp -R "${src}" "${work}"
  chmod -R u+w "${work}"
  rm -rf "${work}/api"
  cp -R "${api}" "${work}/api"
  chmod -R u+w "${work}/api"

  # Substitutions: -mod=mod then only adds their go.sum lines (checked
  # against sum.golang.org); without any, the build is -mod=readonly on
  # upstream's go.sum.
  local sub mod_flag=-mod=readonly
  for sub in ${substitutions}; do
    [[ "${sub}" =~ ^([^@[:space:]]+)@(v[^@[:space:]]+)$ ]] || die "bad substitution '${sub}' (want MODULE@VERSION)"
    log "${name} ${version}: substituting ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} (required: $(awk -v m="${BASH_REMATCH[1]}" '$1 == m { print $2; exit }' "${work}/go.mod"))"
    (cd "${work}" && go mod edit -replace="${BASH_REMATCH[1]}=${BASH_REMATCH[1]}@${BASH_REMATCH[2]}")
    mod_flag=-mod=mod
  done

  out="$(new_tmp_dir "${name}")"
  log "${name} ${version}: go build ${mod_flag} (go ${go_directive} module, -p ${KUO_BUILD_JOBS})"
  local build_log="${TMP_ROOT}/${name}-build.log" rc=0
  (
    cd "${work}"
    timed "${name} ${version}: go build" \
      go build "${mod_flag}" -p "${KUO_BUILD_JOBS}" -trimpath -ldflags "-s -w" -o "${out}/${name}" .
  ) 2>&1 | tee "${build_log}" >&2 || rc=$?
  if ((rc != 0)) || [[ ! -x "${out}/${name}" ]]; then
    local refused
    refused="$(grep -oE '[^ :]+@v[^ :]+: reading [^ ]+: 403 Forbidden' "${build_log}" | cut -d: -f1 | sort -u | tr '\n' ' ')"
    [[ -z "${refused}" ]] ||
      log "${name} ${version}: the Go module proxy refuses ${refused}- add a served version of each to the substitutions (go list -m -versions MODULE)"
    die "${name} ${version}: build failed (output above)"
  fi
  local help
  help="$("${out}/${name}" --help 2>&1 || true)"
  grep -qE -- '--(storage-path|no-remote-bases)' <<<"${help}" ||
    die "${name}: the built binary does not run or is not a Flux controller: ${help:0:500}"
  mkdir -p "${out}/crds"
  cp "${work}"/config/crd/bases/*.yaml "${out}/crds/"
  part_stamp "${name}" >"${out}/stamp.txt"
  replace_dir "${out}" "$(part_dir "${name}")"
  rm -rf "${work}"
}

build_gitserver() {
  local out
  out="$(new_tmp_dir flux-git-server)"
  (
    cd "${GITSERVER_SRC}"
    timed "flux-git-server: go build" \
      go build -trimpath -ldflags "-s -w" -o "${out}/flux-git-server" .
  ) || die "flux-git-server: build failed (output above)"
  gs_stamp >"${out}/stamp.txt"
  replace_dir "${out}" "$(part_dir flux-git-server)"
}

link_or_copy() {
  ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"
}

assemble() {
  local tmp b f
  tmp="$(new_tmp_dir assemble)"
  mkdir -p "${tmp}/crds"
  for b in "${BINARIES[@]}"; do
    link_or_copy "$(part_dir "${b}")/${b}" "${tmp}/${b}"
  done
  for b in source-controller kustomize-controller; do
    for f in "$(part_dir "${b}")"/crds/*.yaml; do
      cp "${f}" "${tmp}/crds/"
    done
  done
  expected_stamp >"${tmp}/versions.txt"
  replace_dir "${tmp}" "${FLUX_DIR}"
  dir_complete || die "internal error: assembled ${FLUX_DIR} is incomplete"
  log "assembled ${FLUX_DIR}"
}

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

cmd_build() {
  if dir_complete; then
    log "flux: source-controller ${FLUX_SOURCE_CONTROLLER_VERSION}, kustomize-controller ${FLUX_KUSTOMIZE_CONTROLLER_VERSION}: already built"
    printf '%s\n' "${FLUX_DIR}"
    return 0
  fi
  require_cmd flock sha256sum
  mkdir -p "${FLUX_ROOT}"
  exec 8>"${FLUX_ROOT}/.lock"
  if ! flock -n 8; then
    log "another build is running (lock ${FLUX_ROOT}/.lock), waiting for it"
    flock 8
  fi
  cleanup
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if dir_complete; then
    log "built by a concurrent run"
    printf '%s\n' "${FLUX_DIR}"
    return 0
  fi

  KUO_BUILD_JOBS="${KUO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
  local start=${SECONDS}
  setup_go_env
  part_complete source-controller ||
    timed "source-controller ${FLUX_SOURCE_CONTROLLER_VERSION}: total" \
      build_controller source-controller "${SC_MODULE}" "${FLUX_SOURCE_CONTROLLER_VERSION}" "${FLUX_SOURCE_CONTROLLER_SUBSTITUTIONS}"
  part_complete kustomize-controller ||
    timed "kustomize-controller ${FLUX_KUSTOMIZE_CONTROLLER_VERSION}: total" \
      build_controller kustomize-controller "${KC_MODULE}" "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}" "${FLUX_KUSTOMIZE_CONTROLLER_SUBSTITUTIONS}"
  part_complete flux-git-server || build_gitserver
  local b
  for b in "${BINARIES[@]}"; do
    part_complete "${b}" || die "internal error: ${b} was not built"
  done
  assemble
  log "flux: all done in $(fmt_duration $((SECONDS - start)))"
  printf '%s\n' "${FLUX_DIR}"
}

main() {
  case "${1:-}" in
    build)
      (($# == 1)) || die "too many arguments"
      cmd_build
      ;;
    print-dir)
      require_cmd go
      dir_complete || die "Flux (sc ${FLUX_SOURCE_CONTROLLER_VERSION}, kc ${FLUX_KUSTOMIZE_CONTROLLER_VERSION}) is not built; run $0 build"
      printf '%s\n' "${FLUX_DIR}"
      ;;
    versions)
      printf 'source-controller=%s\nkustomize-controller=%s\n' \
        "${FLUX_SOURCE_CONTROLLER_VERSION}" "${FLUX_KUSTOMIZE_CONTROLLER_VERSION}"
      ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage >&2
      die "unknown or missing subcommand '${1:-}'"
      ;;
  esac
}

main "$@"
