#!/usr/bin/env bash
#
# Builds real Kubernetes control-plane binaries (and etcd) from source fetched
# through the Go module proxy, and caches them under ${KUO_CACHE}
# (default: ~/.cache/kratos-upgrade-operator). Nothing is downloaded from
# GitHub or dl.k8s.io; only `go` and the Go module proxy are needed.
#
# Result:
#   ${KUO_CACHE}/k8s/<k8s version>/bin/
#       kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl
#       kube-proxy etcd
#   ${KUO_CACHE}/kubeapitest/k8s/<numeric version>-<os>-<arch>/
#       etcd kube-apiserver kubectl   (symlinks into the bin dir above; the
#       layout fabric8 kube-api-test expects for KUBE_API_TEST_DIR)
#
# The script is idempotent: when everything is already built it only prints
# the paths. Each part is built in a temporary directory and moved into place
# with a rename, so an interrupted build never leaves a set that looks complete.
#
# Usage:
#   hack/k8s-binaries.sh                   build if needed; last stdout line is the bin dir
#   hack/k8s-binaries.sh --print-bin-dir   print the bin dir; exit 1 if not (completely) built
#   hack/k8s-binaries.sh --print-kubeapitest-dir
#                                          print the kube-api-test dir; exit 1 if not built
#   hack/k8s-binaries.sh --print-k8s-version
#                                          print the numeric Kubernetes version (e.g. 1.34.4)
#
# Environment:
#   KUO_CACHE      cache root (default ~/.cache/kratos-upgrade-operator)
#   K8S_VERSION    Kubernetes version to build (default below)
#   ETCD_VERSION   etcd version to build (default below: the etcd kubeadm pins
#                  for this Kubernetes minor, SupportedEtcdVersion in
#                  cmd/kubeadm/app/constants/constants.go)
#   KUO_BUILD_JOBS parallel compile jobs passed to `go build -p` (default: nproc)
#
# Logs go to stderr; stdout only carries the printed path(s).

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Newest v1.34 patch served by the Go module proxy when this was written
# (`go list -m -versions k8s.io/kubernetes`), and the etcd version kubeadm
# v1.34.4 declares as supported for 1.34.
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy)
KUBEAPITEST_BINARIES=(etcd kube-apiserver kubectl)

[[ "${K8S_VERSION}" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
  die "K8S_VERSION must look like v1.34.4 (got '${K8S_VERSION}')"
K8S_MAJOR="${BASH_REMATCH[1]}"
K8S_MINOR="${BASH_REMATCH[2]}"
K8S_PATCH="${BASH_REMATCH[3]}"
K8S_NUMERIC="${K8S_MAJOR}.${K8S_MINOR}.${K8S_PATCH}"
# The Go modules under k8s.io/kubernetes/staging are published as v0.<minor>.<patch>.
K8S_STAGING_VERSION="v0.${K8S_MINOR}.${K8S_PATCH}"
[[ "${ETCD_VERSION}" =~ ^v3\.[0-9]+\.[0-9]+$ ]] ||
  die "ETCD_VERSION must look like v3.6.5 (got '${ETCD_VERSION}')"

case "$(uname -s)" in
  Linux) HOST_OS=linux ;;
  Darwin) HOST_OS=darwin ;;
  *) die "unsupported OS: $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) HOST_ARCH=amd64 ;;
  aarch64 | arm64) HOST_ARCH=arm64 ;;
  ppc64le) HOST_ARCH=ppc64le ;;
  s390x) HOST_ARCH=s390x ;;
  *) die "unsupported architecture: $(uname -m)" ;;
esac

K8S_DIR="${KUO_CACHE}/k8s/${K8S_VERSION}"
BIN_DIR="${K8S_DIR}/bin"
STAMP_FILE="${K8S_DIR}/versions.txt"
KUBEAPITEST_DIR="${KUO_CACHE}/kubeapitest"
KUBEAPITEST_VERSION_DIR="${KUBEAPITEST_DIR}/k8s/${K8S_NUMERIC}-${HOST_OS}-${HOST_ARCH}"
# Each part is built into its own directory and marked complete, so a failure
# in one part does not throw away the (long) build of another.
PARTS_DIR="${KUO_CACHE}/parts"
K8S_PART_DIR="${PARTS_DIR}/kubernetes-${K8S_VERSION}-${HOST_OS}-${HOST_ARCH}"
ETCD_PART_DIR="${PARTS_DIR}/etcd-${ETCD_VERSION}-${HOST_OS}-${HOST_ARCH}"
WORK_DIR="${KUO_CACHE}/work"
TMP_ROOT="${KUO_CACHE}/tmp"
PART_MARKER=".complete"

expected_stamp() {
  printf 'kubernetes=%s\netcd=%s\nplatform=%s/%s\n' "${K8S_VERSION}" "${ETCD_VERSION}" "${HOST_OS}" "${HOST_ARCH}"
}

# ---------------------------------------------------------------------------
# Completeness checks (no `go`, no network: this is the fast path).

bin_dir_complete() {
  [[ -f "${STAMP_FILE}" ]] || return 1
  [[ "$(cat "${STAMP_FILE}")" == "$(expected_stamp)" ]] || return 1
  local b
  for b in "${K8S_BINARIES[@]}" etcd; do
    [[ -f "${BIN_DIR}/${b}" && -x "${BIN_DIR}/${b}" ]] || return 1
  done
}

kubeapitest_complete() {
  local b
  for b in "${KUBEAPITEST_BINARIES[@]}"; do
    # -x follows the symlink, so this also checks that its target exists.
    [[ -x "${KUBEAPITEST_VERSION_DIR}/${b}" ]] || return 1
    [[ "$(readlink "${KUBEAPITEST_VERSION_DIR}/${b}")" == "$(kubeapitest_link_target "${b}")" ]] || return 1
  done
}

# Relative, so the whole cache directory can be moved or mounted elsewhere.
kubeapitest_link_target() {
  printf '../../../k8s/%s/bin/%s' "${K8S_VERSION}" "$1"
}

part_complete() {
  local dir=$1
  shift
  [[ -f "${dir}/${PART_MARKER}" ]] || return 1
  local b
  for b in "$@"; do
    [[ -f "${dir}/${b}" && -x "${dir}/${b}" ]] || return 1
  done
}

all_complete() {
  bin_dir_complete && kubeapitest_complete
}

# ---------------------------------------------------------------------------
# Helpers.

# Temporary directories all live in TMP_ROOT, which is only used while the
# build lock is held: it is wiped when the lock is taken and on exit, which
# also removes leftovers of an interrupted (killed) run.
cleanup() {
  rm -rf "${TMP_ROOT}"
}

new_tmp_dir() {
  mkdir -p "${TMP_ROOT}"
  local d
  d="$(mktemp -d "${TMP_ROOT}/$1.XXXXXX")"
  # mktemp creates 0700; the result is moved into place as is.
  chmod 0755 "${d}"
  printf '%s' "${d}"
}

# replace_dir SRC DST: move the fully prepared SRC to DST. The rename is atomic;
# an existing DST (stale or incomplete) is moved aside first and then deleted.
replace_dir() {
  local src=$1 dst=$2 old=""
  mkdir -p "$(dirname "${dst}")"
  if [[ -e "${dst}" || -L "${dst}" ]]; then
    old="$(new_tmp_dir "old")"
    mv "${dst}" "${old}/"
  fi
  mv "${src}" "${dst}"
  if [[ -n "${old}" ]]; then
    rm -rf "${old}"
  fi
}

setup_go_env() {
  require_cmd go
  export GOPATH="${KUO_CACHE}/go/path"
  export GOMODCACHE="${KUO_CACHE}/go/mod"
  export GOCACHE="${KUO_CACHE}/go/build"
  # -modcacherw: keep the module cache deletable with plain `rm -rf`.
  # Deliberately replaces any user GOFLAGS (e.g. -mod=vendor would break this).
  export GOFLAGS="-modcacherw"
  export GOWORK=off
  export GO111MODULE=on
  export CGO_ENABLED=0
  mkdir -p "${GOPATH}" "${GOMODCACHE}" "${GOCACHE}"
  log "using $(go version) (GOTOOLCHAIN=$(go env GOTOOLCHAIN), GOPROXY=$(go env GOPROXY))"
  log "Go caches: GOMODCACHE=${GOMODCACHE} GOCACHE=${GOCACHE}"
}

# go_mod_file MODULE@VERSION: downloads a module's go.mod and prints its path.
go_mod_file() {
  local json mod
  json="$(go mod download -json "$1")" || die "go mod download $1 failed"
  mod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
  [[ -n "${mod}" && -f "${mod}" ]] || die "could not find go.mod of $1 in: ${json}"
  printf '%s' "${mod}"
}

# go_mod_dir MODULE@VERSION: downloads a module and prints its source directory.
go_mod_dir() {
  local json dir
  json="$(go mod download -json "$1")" || die "go mod download $1 failed"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
  [[ -n "${dir}" && -d "${dir}" ]] || die "could not find source dir of $1 in: ${json}"
  printf '%s' "${dir}"
}

# ---------------------------------------------------------------------------
# Part 1: Kubernetes.

build_kubernetes() {
  local mod_file go_directive info_file build_date mod_dir out ldflags
  local -a staging pkgs
  log "kubernetes ${K8S_VERSION}: preparing wrapper module"

  mod_file="$(go_mod_file "k8s.io/kubernetes@${K8S_VERSION}")"
  go_directive="$(sed -n '/^go [0-9]/{s/^go \([0-9][0-9.]*\).*$/\1/p;q}' "${mod_file}")"
  [[ -n "${go_directive}" ]] || die "no go directive in ${mod_file}"

  mod_dir="${WORK_DIR}/kubernetes-${K8S_VERSION}"
  rm -rf "${mod_dir}"
  mkdir -p "${mod_dir}"
  cd "${mod_dir}"

  go mod init local/kbuild 2>/dev/null || die "go mod init failed in ${mod_dir}"
  # Same language version as k8s.io/kubernetes itself (also avoids toolchain
  # switches triggered by a newer go line than needed).
  go mod edit -go="${go_directive}"
  go mod edit -require="k8s.io/kubernetes@${K8S_VERSION}"

  # k8s.io/kubernetes replaces its staging modules with ./staging/src/...
  # directories that are not part of the module zip; replace directives of
  # dependencies are ignored anyway, so point them at the published releases.
  mapfile -t staging < <(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*|\1|p' "${mod_file}")
  ((${#staging[@]} > 0)) || die "found no staging replace directives in ${mod_file}"
  local m
  for m in "${staging[@]}"; do
    go mod edit -replace="${m}=${m}@${K8S_STAGING_VERSION}"
  done
  log "kubernetes ${K8S_VERSION}: ${#staging[@]} staging modules pinned to ${K8S_STAGING_VERSION}"

  # Carry over godebug settings (e.g. `godebug default=go1.24`): they only
  # take effect when declared by the main module.
  # Both the one-line form and the `godebug ( ... )` block form.
  local gd
  while read -r gd; do
    if [[ -n "${gd}" ]]; then
      go mod edit -godebug="${gd}"
      log "kubernetes ${K8S_VERSION}: godebug ${gd}"
    fi
  done < <(sed -n \
    -e 's/^godebug[[:space:]]\{1,\}\([^()[:space:]]*=[^[:space:]]*\)[[:space:]]*$/\1/p' \
    -e '/^godebug[[:space:]]*($/,/^)/{/=/s/^[[:space:]]*\([^[:space:]]*=[^[:space:]]*\).*$/\1/p;}' \
    "${mod_file}")

  pkgs=()
  {
    echo '//go:build tools'
    echo
    echo '// Package tools pins the Kubernetes commands built by hack/k8s-binaries.sh.'
    echo 'package tools'
    echo
    echo 'import ('
    local b
    for b in "${K8S_BINARIES[@]}"; do
      echo "	_ \"k8s.io/kubernetes/cmd/${b}\""
      pkgs+=("k8s.io/kubernetes/cmd/${b}")
    done
    echo ')'
  } >tools.go

  log "kubernetes ${K8S_VERSION}: go mod tidy (downloads all dependencies on a cold cache)"
  timed "kubernetes ${K8S_VERSION}: go mod tidy" go mod tidy

  # Same version variables as kube::version::ldflags (hack/lib/version.sh).
  # The proxy does not expose the git commit; the build date is the tag time
  # recorded by the proxy, which keeps the build reproducible.
  info_file="${mod_file%.mod}.info"
  build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "${info_file}" 2>/dev/null || true)"
  [[ -n "${build_date}" ]] || build_date="1970-01-01T00:00:00Z"
  ldflags="-s -w"
  local key val pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    for key in gitVersion gitMajor gitMinor gitTreeState buildDate; do
      case "${key}" in
        gitVersion) val="${K8S_VERSION}" ;;
        gitMajor) val="${K8S_MAJOR}" ;;
        gitMinor) val="${K8S_MINOR}" ;;
        gitTreeState) val="clean" ;;
        buildDate) val="${build_date}" ;;
      esac
      ldflags+=" -X ${pkg}.${key}=${val}"
    done
  done

  out="$(new_tmp_dir "kubernetes-${K8S_VERSION}")"
  log "kubernetes ${K8S_VERSION}: compiling ${K8S_BINARIES[*]} (-p ${KUO_BUILD_JOBS})"
  # Flags as in kube::golang::build_binaries (hack/lib/golang.sh) for non-debug
  # builds: -trimpath, tags selinux,notest,grpcnotrace, -s -w; all static.
  timed "kubernetes ${K8S_VERSION}: go build" \
    go build -p "${KUO_BUILD_JOBS}" -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "${ldflags}" -o "${out}/" "${pkgs[@]}"

  for b in "${K8S_BINARIES[@]}"; do
    [[ -x "${out}/${b}" ]] || die "go build did not produce ${b}"
  done
  local got
  got="$("${out}/kube-apiserver" --version)"
  [[ "${got}" == "Kubernetes ${K8S_VERSION}" ]] || die "unexpected kube-apiserver --version output: '${got}'"
  got="$("${out}/kubectl" version --client -o json | sed -n '/"gitVersion"/{s/.*"gitVersion": "\([^"]*\)".*/\1/p;q;}')"
  [[ "${got}" == "${K8S_VERSION}" ]] || die "unexpected kubectl client version: '${got}'"

  printf 'kubernetes=%s\n' "${K8S_VERSION}" >"${out}/${PART_MARKER}"
  replace_dir "${out}" "${K8S_PART_DIR}"
}

# ---------------------------------------------------------------------------
# Part 2: etcd.

build_etcd() {
  local mod_dir src main_pkg out
  log "etcd ${ETCD_VERSION}: preparing wrapper module"

  mod_dir="${WORK_DIR}/etcd-${ETCD_VERSION}"
  rm -rf "${mod_dir}"
  mkdir -p "${mod_dir}"
  cd "${mod_dir}"
  go mod init local/etcdbuild 2>/dev/null || die "go mod init failed in ${mod_dir}"

  # The etcd server's main package: go.etcd.io/etcd/server/v3 (server/main.go)
  # in 3.5 and 3.6. `go install ...@version` refuses it because the module's
  # go.mod has replace directives, so build it from a wrapper module instead.
  src="$(go_mod_dir "go.etcd.io/etcd/server/v3@${ETCD_VERSION}")"
  main_pkg=""
  local f rel
  for f in "${src}/main.go" "${src}"/*/main.go "${src}"/*/*/main.go; do
    [[ -f "${f}" ]] || continue
    if grep -q '^package main$' "${f}" && grep -q 'etcdmain' "${f}"; then
      rel="${f#"${src}"}"
      rel="${rel%/main.go}"
      main_pkg="go.etcd.io/etcd/server/v3${rel}"
      break
    fi
  done
  [[ -n "${main_pkg}" ]] || die "could not find the etcd server main package in ${src}"
  log "etcd ${ETCD_VERSION}: main package ${main_pkg}"

  cat >tools.go <<EOF
//go:build tools

// Package tools pins the etcd server built by hack/k8s-binaries.sh.
package tools

import _ "${main_pkg}"
EOF
  go mod edit -require="go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
  timed "etcd ${ETCD_VERSION}: go mod tidy" go mod tidy
  local got_server
  got_server="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  [[ "${got_server}" == "${ETCD_VERSION}" ]] || die "MVS selected etcd server ${got_server}, wanted ${ETCD_VERSION}"

  out="$(new_tmp_dir "etcd-${ETCD_VERSION}")"
  # etcd's own build (scripts/build_lib.sh) uses CGO_ENABLED=0 -trimpath too.
  timed "etcd ${ETCD_VERSION}: go build" \
    go build -p "${KUO_BUILD_JOBS}" -trimpath -ldflags "-s -w" -o "${out}/etcd" "${main_pkg}"

  local want="${ETCD_VERSION#v}" got
  got="$("${out}/etcd" --version | sed -n 's/^etcd Version: //p')"
  [[ "${got}" == "${want}" ]] || die "unexpected etcd --version: '${got}' (wanted ${want})"

  printf 'etcd=%s\n' "${ETCD_VERSION}" >"${out}/${PART_MARKER}"
  replace_dir "${out}" "${ETCD_PART_DIR}"
}

# ---------------------------------------------------------------------------
# Assembly.

# Hard links when possible (same file system, no extra space), else copies.
link_or_copy() {
  ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"
}

assemble_bin_dir() {
  local tmp b
  tmp="$(new_tmp_dir "bindir-${K8S_VERSION}")"
  mkdir -p "${tmp}/bin"
  for b in "${K8S_BINARIES[@]}"; do
    link_or_copy "${K8S_PART_DIR}/${b}" "${tmp}/bin/${b}"
  done
  link_or_copy "${ETCD_PART_DIR}/etcd" "${tmp}/bin/etcd"
  expected_stamp >"${tmp}/versions.txt"
  replace_dir "${tmp}" "${K8S_DIR}"
  log "assembled ${BIN_DIR}"
}

assemble_kubeapitest_dir() {
  local tmp b
  tmp="$(new_tmp_dir "kubeapitest-${K8S_NUMERIC}")"
  for b in "${KUBEAPITEST_BINARIES[@]}"; do
    ln -s "$(kubeapitest_link_target "${b}")" "${tmp}/${b}"
  done
  mkdir -p "$(dirname "${KUBEAPITEST_VERSION_DIR}")"
  replace_dir "${tmp}" "${KUBEAPITEST_VERSION_DIR}"
  kubeapitest_complete || die "kube-api-test layout in ${KUBEAPITEST_VERSION_DIR} is broken"
  log "assembled ${KUBEAPITEST_VERSION_DIR}"
}

print_summary() {
  log "kubernetes ${K8S_VERSION}, etcd ${ETCD_VERSION} (${HOST_OS}/${HOST_ARCH})"
  log "bin dir:          ${BIN_DIR}"
  log "kube-api-test dir: ${KUBEAPITEST_DIR} (binaries in ${KUBEAPITEST_VERSION_DIR})"
  printf '%s\n' "${BIN_DIR}"
}

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  case "${1:-}" in
    "") ;;
    --print-bin-dir)
      bin_dir_complete || die "Kubernetes ${K8S_VERSION} binaries are not built; run $0"
      printf '%s\n' "${BIN_DIR}"
      return 0
      ;;
    --print-kubeapitest-dir)
      all_complete || die "kube-api-test binaries for ${K8S_NUMERIC} are not built; run $0"
      printf '%s\n' "${KUBEAPITEST_DIR}"
      return 0
      ;;
    --print-k8s-version)
      printf '%s\n' "${K8S_NUMERIC}"
      return 0
      ;;
    -h | --help)
      usage
      return 0
      ;;
    *)
      usage >&2
      die "unknown argument: $1"
      ;;
  esac
  (($# <= 1)) || die "too many arguments"

  if all_complete; then
    log "already built, nothing to do"
    print_summary
    return 0
  fi

  require_cmd flock mktemp sed grep ln
  mkdir -p "${KUO_CACHE}"
  # Serialise concurrent runs (e.g. parallel test tasks); the winner builds,
  # the others wait and then find everything complete.
  exec 9>"${KUO_CACHE}/.k8s-binaries.lock"
  if ! flock -n 9; then
    log "another build is running (lock ${KUO_CACHE}/.k8s-binaries.lock), waiting for it"
    flock 9
  fi
  cleanup
  trap cleanup EXIT
  # Turn signals into a normal exit so the EXIT trap removes temporary dirs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if all_complete; then
    log "built by a concurrent run"
    print_summary
    return 0
  fi

  KUO_BUILD_JOBS="${KUO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
  local total_start=${SECONDS}
  setup_go_env

  if part_complete "${ETCD_PART_DIR}" etcd; then
    log "etcd ${ETCD_VERSION}: already built (${ETCD_PART_DIR})"
  else
    timed "etcd ${ETCD_VERSION}: total" build_etcd
  fi

  if part_complete "${K8S_PART_DIR}" "${K8S_BINARIES[@]}"; then
    log "kubernetes ${K8S_VERSION}: already built (${K8S_PART_DIR})"
  else
    timed "kubernetes ${K8S_VERSION}: total" build_kubernetes
  fi

  bin_dir_complete || assemble_bin_dir
  kubeapitest_complete || assemble_kubeapitest_dir
  all_complete || die "internal error: build finished but the result is incomplete"

  rm -rf "${WORK_DIR}"
  log "all done in $(fmt_duration $((SECONDS - total_start)))"
  print_summary
}

main "$@"
