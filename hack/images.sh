#!/usr/bin/env bash
#
# Builds the container images the e2e tests and the demo use, as OCI image
# archives under ${KUO_CACHE}/images/ (default ~/.cache/kratos-upgrade-operator),
# without Docker, a registry or any image builder (hack/lib/oci.sh writes them):
#
#   kratos:<release>  oryd/kratos:<release>          oryd_kratos_<release>.tar
#       Ory Kratos built from source through the Go module proxy (static,
#       CGO_ENABLED=0, so no SQLite), /usr/bin/kratos, user ory (10000), CA
#       certificates, no shell. Entrypoint ["kratos"], Cmd ["serve"],
#       WorkingDir /home/ory. Binaries are cached in ${KUO_CACHE}/kratos/<release>/.
#   db-tools          kratos-upgrade-db-tools:<tag> (+ :latest, one archive)
#                                                    kratos-upgrade-db-tools_<tag>.tar
#       Debian bookworm (debootstrap minbase) with postgresql-client-15
#       (pg_dump, pg_restore, psql), the PostgreSQL 15 server (postgresql-15:
#       initdb, postgres, pg_ctl; PATH has /usr/lib/postgresql/15/bin first),
#       libnss-wrapper, the MariaDB client (mysql, mysqldump), sh and coreutils.
#       User postgres (999:999). No Entrypoint, Cmd ["/bin/sh"]. The server is
#       there so that a backup can be checked in the backup's own pod: restore
#       the dump into a throw-away PostgreSQL (initdb on an emptyDir, unix
#       socket only) and count rows. No cluster is created in the image and
#       nothing under /etc/postgresql or /run/postgresql is needed; LLVM (JIT)
#       is left out, so JIT is off. Running as a uid without a passwd entry
#       needs nss_wrapper for initdb; see the checks in build_db_tools_image.
#   busybox           kratos-upgrade-busybox:local   kratos-upgrade-busybox_local.tar
#       Debian's busybox-static with a symlink per applet (sh, wget, nc, sleep,
#       ...). No Entrypoint, Cmd ["sh"], runs as root.
#
# Usage:
#   hack/images.sh build [IMAGE...]   build what is missing or stale (default: all)
#   hack/images.sh list [--refs] [IMAGE...]
#                                     print the archive paths (with --refs:
#                                     "<image ref><TAB><archive path>"); exit 1
#                                     if one of them is not built
#   hack/images.sh load [IMAGE...]    import the archives into the local cluster's
#                                     containerd (hack/local-cluster.sh load-image);
#                                     images already there with the same digest are skipped
#   hack/images.sh verify-kratos      run the Kratos binaries against a throwaway
#                                     PostgreSQL: migrate in release order, check
#                                     schema_migration, serve, /admin/health/ready,
#                                     /admin/version (hack/images/kratos-demo config)
#   hack/images.sh pin-kratos RELEASE regenerate hack/images/kratos/RELEASE/{go.mod,go.sum}
#                                     from the recipe in this script
#
#   IMAGE is all | kratos | kratos:<release> | db-tools | busybox.
#
# Kratos sources: each release is built from a wrapper module pinned in
# hack/images/kratos/<release>/ (go.mod + go.sum, made by pin-kratos), so the
# dependency graph never drifts. Recipes exist for v0.10.1 v0.11.0 v0.13.0
# v1.0.0 v1.1.0 v1.3.1 v25.4.0 v26.2.0. The Go module proxy reachable here
# (checked 2026-11-29) serves github.com/ory/kratos v0.10.1 v0.11.0 v0.13.0
# v1.0.0 v1.1.0 v1.2.0 v1.3.1 and refuses v0.11.1 v1.3.0 ("403 Forbidden ...
# This module version is not available"); the default builds the chain the e2e
# tier walks, v0.10.1 -> v0.11.0 -> v0.13.0 -> v1.0.0 -> v1.3.1.
#
# Environment:
#   KUO_CACHE          cache root (default ~/.cache/kratos-upgrade-operator)
#   KRATOS_RELEASES    Kratos releases for `all`/`kratos`, oldest first
#                      (default "v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.3.1")
#   DB_TOOLS_TAG       tag of the database tools image (default bookworm-2; bump
#                      it to rebuild with newer Debian packages; bookworm-2 added
#                      the PostgreSQL 15 server)
#   DEBIAN_MIRROR      Debian mirror for debootstrap (default: from /etc/apt/sources.list*)
#   KUO_BUILD_JOBS     parallel compile jobs for `go build -p` (default: nproc)
#   KUO_STATE          local cluster state dir, for `load` (default
#                      /var/lib/kratos-upgrade-operator/cluster)
#
# Idempotent: everything carries a stamp of its inputs, so a second run only
# checks stamps and returns in about a second. Logs go to stderr; stdout only
# carries paths (build and list) and the verify-kratos summary.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

KRATOS_RELEASES="${KRATOS_RELEASES:-v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.3.1}"
DB_TOOLS_TAG="${DB_TOOLS_TAG:-bookworm-2}"
DEBIAN_SUITE=bookworm
KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"

IMAGES_DIR="${KUO_CACHE}/images"
KRATOS_BIN_ROOT="${KUO_CACHE}/kratos"
DEBS_DIR="${KUO_CACHE}/debs"
# Not ${KUO_CACHE}/work or /tmp: hack/k8s-binaries.sh wipes those.
WORK_ROOT="${KUO_CACHE}/images-work"
PIN_ROOT="${KUO_ROOT}/hack/images/kratos"
DEMO_DIR="${KUO_ROOT}/hack/images/kratos-demo"
OCI_LIB="${KUO_ROOT}/hack/lib/oci.sh"
# Bump when the way a Kratos binary is built changes (forces a rebuild). The
# image stamps also carry a hash of the function that assembles the image.
IMAGE_RECIPE_VERSION=1

KRATOS_MODULE=github.com/ory/kratos
KRATOS_VERSION_VAR=github.com/ory/kratos/driver/config.Version
# ory/client-go is only needed by the module graph (the binary never imports
# it); any real version will do where Kratos requires a placeholder.
CLIENT_GO_VERSION=v1.14.3

# Newest SQL migration per release (persistence/sql/migrations/sql), i.e. the
# expected max(version) of schema_migration after `migrate`.
kratos_expected_migration() {
  case "$1" in
    v0.10.1) echo 20220512102703000000 ;;
    v0.11.0) echo 20221024182336000000 ;;
    v0.13.0) echo 20230322144139000001 ;;
    v1.0.0) echo 20230705000000000001 ;;
    v1.1.0) echo 20240119094628000000 ;;
    v1.2.0 | v1.3.0 | v1.3.1) echo 20240425095000000001 ;;
    v25.4.0) echo 20250710085000000000 ;;
    v26.2.0) echo 20260114175904000000 ;;
    *) return 1 ;;
  esac
}

# kratos_recipe RELEASE: sets KR_MODVER (the version of github.com/ory/kratos
# to require) and KR_OVERRIDES (replace directives "old=new@version" for the
# local `=> ./dir` replaces of Kratos' go.mod, which a wrapper module cannot
# use because those directories are separate modules, not in the module zip).
# All other replace directives of Kratos' go.mod are copied as they are.
# KR_NOSUMDB: modules the checksum database does not know (GONOSUMDB for
# `go mod tidy` only; the committed go.sum then carries their hashes).
kratos_recipe() {
  KR_OVERRIDES=()
  KR_NOSUMDB=""
  case "$1" in
    v0.10.1)
      KR_MODVER=$1
      # v0.10.1's CLI imports kratos-client-go, replaced upstream by a local
      # directory; the version its go.mod requires (v0.6.3-alpha.1) does not
      # compile against the CLI, the release's own client version does.
      KR_OVERRIDES=("github.com/ory/kratos-client-go=github.com/ory/kratos-client-go@v0.10.1")
      ;;
    v0.11.0 | v1.0.0 | v1.1.0 | v1.3.1)
      KR_MODVER=$1
      ;;
    v0.13.0)
      KR_MODVER=$1
      # sum.golang.org answers 404 for kratos@v0.13.0 and ory/x@v0.0.551.
      KR_NOSUMDB="github.com/ory/kratos,github.com/ory/x"
      ;;
    v25.4.0)
      # Tag v25.4.0 is not a valid version of module github.com/ory/kratos
      # (no /v25 suffix): use the commit's pseudo-version. Its ./oryx tree is
      # byte-identical to ory/x at 5d3670e47fe7.
      KR_MODVER=v1.3.1-0.20251107121744-64e04ace9aaf
      KR_OVERRIDES=(
        "github.com/ory/x=github.com/ory/x@v0.0.730-0.20251106125211-5d3670e47fe7"
        "github.com/ory/client-go=github.com/ory/client-go@${CLIENT_GO_VERSION}"
      )
      ;;
    v26.2.0)
      KR_MODVER=v1.3.1-0.20260320110106-9d7085948039
      KR_OVERRIDES=(
        "github.com/ory/x=github.com/ory/x@v0.0.730-0.20260320084730-f7c341537bd5"
        "github.com/ory/client-go=github.com/ory/client-go@${CLIENT_GO_VERSION}"
      )
      ;;
    *)
      die "no recipe for Kratos '$1' (known: v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.1.0 v1.3.1 v25.4.0 v26.2.0)"
      ;;
  esac
}

# v0.x and v1.x have `migrate sql`; v25+ have `migrate sql up|down|status`.
kratos_has_migrate_up() {
  [[ "$1" =~ ^v([0-9]+)\. ]] || return 1
  ((BASH_REMATCH[1] >= 2))
}

# ---------------------------------------------------------------------------
# Small helpers.

sha256_of() {
  sha256sum "$@" | cut -d' ' -f1
}

# new_work_dir NAME: a fresh directory under WORK_ROOT (removed on exit).
new_work_dir() {
  mkdir -p "${WORK_ROOT}"
  local d
  d="$(mktemp -d "${WORK_ROOT}/$1.XXXXXX")"
  chmod 0755 "${d}"
  printf '%s' "${d}"
}

# unmount_under DIR: lazily unmounts every mount point below DIR, deepest first.
unmount_under() {
  local dir=$1 m
  [[ -n "${dir}" ]] || return 0
  while read -r m; do
    umount -l "${m}" 2>/dev/null || warn "could not unmount ${m}"
  done < <(awk -v d="${dir%/}/" 'index($2, d) == 1 { print $2 }' /proc/mounts 2>/dev/null | sort -r)
}

# Kills what the current command started and removes its work directories.
# Mounts below the work directory (a debootstrap root's /proc) are undone
# first, so that `rm -rf` never walks into the host's /proc or /dev.
cleanup() {
  local pid f
  for pid in "${CLEANUP_PIDS[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
  for f in "${CLEANUP_FUNCS[@]}"; do
    "${f}" || true
  done
  if [[ -d "${WORK_ROOT}" ]]; then
    unmount_under "${WORK_ROOT}"
    if awk -v d="${WORK_ROOT}/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts 2>/dev/null; then
      warn "mounts left under ${WORK_ROOT}; not deleting it"
    else
      rm -rf "${WORK_ROOT}"
    fi
  fi
}
CLEANUP_PIDS=()
CLEANUP_FUNCS=()

take_lock() {
  mkdir -p "${KUO_CACHE}"
  exec 8>"${KUO_CACHE}/.images.lock"
  if ! flock -n 8; then
    log "another hack/images.sh run holds ${KUO_CACHE}/.images.lock, waiting for it"
    flock 8
  fi
  # Leftovers of an interrupted run (the lock guarantees nobody uses them).
  cleanup
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ensure_pkgs PKG...: installs missing Debian packages on the host; runs
# `apt-get update` only if the first attempt fails.
ensure_pkgs() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${p}")
  done
  ((${#missing[@]} == 0)) && return 0
  require_cmd apt-get
  [[ "$(id -u)" == 0 ]] || die "need root to install ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

load_oci_lib() {
  [[ -r "${OCI_LIB}" ]] || die "missing ${OCI_LIB}"
  # shellcheck source=hack/lib/oci.sh
  source "${OCI_LIB}"
  ensure_pkgs tar gzip jq coreutils findutils
}

# add_archive_name TAR REF: adds a second name for the (only) image in an OCI
# archive written by oci_archive_from_rootfs (a second index.json entry for
# the same manifest, which `ctr images import` turns into a second image name).
add_archive_name() {
  local tar=$1 ref=$2 name tag d
  name="$(oci_normalize_ref "${ref}")"
  tag=${name##*:}
  d="$(new_work_dir add-name)"
  tar -xf "${tar}" -C "${d}" index.json
  jq -c -j --arg name "${name}" --arg tag "${tag}" '
    .manifests += [.manifests[0] | .annotations = {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}]
    | .manifests |= unique_by(.annotations["io.containerd.image.name"])' \
    "${d}/index.json" >"${d}/index.json.new"
  mv "${d}/index.json.new" "${d}/index.json"
  chmod 0644 "${d}/index.json"
  cp "${tar}" "${d}/image.tar"
  tar --delete -f "${d}/image.tar" index.json
  LC_ALL=C tar -C "${d}" --format=gnu --numeric-owner --owner=0 --group=0 --mtime=@0 \
    -rf "${d}/image.tar" index.json
  mv -f "${d}/image.tar" "${tar}"
  rm -rf "${d}"
}

# recipe_hash FUNCTION...: a short hash of the functions' source, so that an
# edit of how an image is assembled rebuilds it.
recipe_hash() {
  declare -f "$@" | sha256sum | cut -c1-16
}

archive_size() {
  du -h --apparent-size "$1" | cut -f1
}

# ---------------------------------------------------------------------------
# Image catalogue.

kratos_archive() { printf '%s/oryd_kratos_%s.tar' "${IMAGES_DIR}" "$1"; }
kratos_ref() { printf 'oryd/kratos:%s' "$1"; }
DB_TOOLS_REF="kratos-upgrade-db-tools:${DB_TOOLS_TAG}"
DB_TOOLS_REF_LATEST="kratos-upgrade-db-tools:latest"
DB_TOOLS_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-db-tools_${DB_TOOLS_TAG}.tar"
BUSYBOX_REF="kratos-upgrade-busybox:local"
BUSYBOX_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-busybox_local.tar"
LOADGEN_REF="kratos-upgrade-loadgen:local"
LOADGEN_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-loadgen_local.tar"
LOADGEN_SRC="${KUO_ROOT}/hack/upgrade-bench/loadgen"

# expand_images ARG...: prints one image id a line (kratos:<release>, db-tools, busybox, loadgen). "all" is what
# the tests need; the upgrade benchmark's load generator is built by hack/upgrade-bench.sh.
expand_images() {
  (($# > 0)) || set -- all
  local a r
  for a in "$@"; do
    case "${a}" in
      all)
        for r in ${KRATOS_RELEASES}; do echo "kratos:${r}"; done
        echo db-tools
        echo busybox
        ;;
      kratos)
        for r in ${KRATOS_RELEASES}; do echo "kratos:${r}"; done
        ;;
      kratos:v*) echo "${a}" ;;
      oryd/kratos:v*) echo "kratos:${a#oryd/kratos:}" ;;
      db-tools | kratos-upgrade-db-tools*) echo db-tools ;;
      busybox | kratos-upgrade-busybox*) echo busybox ;;
      loadgen | kratos-upgrade-loadgen*) echo loadgen ;;
      *) die "unknown image '${a}' (all, kratos, kratos:<release>, db-tools, busybox, loadgen)" ;;
    esac
  done | awk '!seen[$0]++'
}

image_archive() {
  case "$1" in
    kratos:*) kratos_archive "${1#kratos:}" ;;
    db-tools) printf '%s' "${DB_TOOLS_ARCHIVE}" ;;
    busybox) printf '%s' "${BUSYBOX_ARCHIVE}" ;;
    loadgen) printf '%s' "${LOADGEN_ARCHIVE}" ;;
  esac
}

image_refs() {
  case "$1" in
    kratos:*) kratos_ref "${1#kratos:}" ;;
    db-tools) printf '%s %s' "${DB_TOOLS_REF}" "${DB_TOOLS_REF_LATEST}" ;;
    busybox) printf '%s' "${BUSYBOX_REF}" ;;
    loadgen) printf '%s' "${LOADGEN_REF}" ;;
  esac
}

# Each archive has a sidecar file with the stamp of its inputs.
stamp_file() { printf '%s.inputs' "$1"; }

archive_current() {
  local tar=$1 want=$2
  [[ -f "${tar}" && -f "$(stamp_file "${tar}")" ]] || return 1
  [[ "$(cat "$(stamp_file "${tar}")")" == "${want}" ]]
}

write_stamp() {
  printf '%s\n' "$2" >"$(stamp_file "$1").tmp"
  mv -f "$(stamp_file "$1").tmp" "$(stamp_file "$1")"
}

# ---------------------------------------------------------------------------
# Go.

# Same layout as hack/k8s-binaries.sh (setup_go_env), so both share one module
# and build cache.
setup_go_env() {
  [[ -n "${GO_ENV_READY:-}" ]] && return 0
  command -v go >/dev/null 2>&1 ||
    die "go is not on PATH; Kratos v1.3.1 needs Go >= 1.23 (Debian bookworm's golang is too old)"
  use_go_caches
  KUO_BUILD_JOBS="${KUO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
  log "using $(go version) (GOTOOLCHAIN=$(go env GOTOOLCHAIN), GOPROXY=$(go env GOPROXY))"
  GO_ENV_READY=1
}

# go_mod_download MODULE@VERSION: prints `go mod download -json` output; dies
# with the proxy's own error text if the module cannot be had.
go_mod_download() {
  local json err
  json="$(go mod download -json "$1" 2>&1)" || true
  err="$(jq -r '.Error // empty' <<<"${json}" 2>/dev/null || echo "${json}")"
  [[ -z "${err}" ]] || die "cannot download $1 through the Go module proxy: ${err}"
  printf '%s' "${json}"
}

# ---------------------------------------------------------------------------
# Kratos: wrapper module (pin) and binary.

write_tools_go() {
  cat >"$1/tools.go" <<'EOF'
//go:build tools

// Package tools makes `go mod tidy` keep github.com/ory/kratos (the main
// package that hack/images.sh builds) in this wrapper module.
package tools

import _ "github.com/ory/kratos"
EOF
}

# generate_kratos_module RELEASE DIR: writes go.mod, go.sum and tools.go of the
# wrapper module for RELEASE into DIR (needs the Go module proxy).
generate_kratos_module() {
  local release=$1 dir=$2 json mod_file go_directive
  setup_go_env
  kratos_recipe "${release}"
  log "kratos ${release}: resolving ${KRATOS_MODULE}@${KR_MODVER}"
  json="$(export GONOSUMDB="${KR_NOSUMDB}"; go_mod_download "${KRATOS_MODULE}@${KR_MODVER}")"
  mod_file="$(jq -r .GoMod <<<"${json}")"
  [[ -f "${mod_file}" ]] || die "no go.mod for ${KRATOS_MODULE}@${KR_MODVER}: ${json}"
  local mod_json
  mod_json="$(go mod edit -json "${mod_file}")"
  go_directive="$(jq -r '.Go // empty' <<<"${mod_json}")"
  [[ -n "${go_directive}" ]] || die "no go directive in ${mod_file}"

  mkdir -p "${dir}"
  rm -f "${dir}/go.mod" "${dir}/go.sum"
  (
    cd "${dir}"
    go mod init "local/kratos-${release//./-}" 2>/dev/null
    go mod edit -go="${go_directive}" -require="${KRATOS_MODULE}@${KR_MODVER}"

    # Copy Kratos' versioned replace directives (module replaces are only
    # honoured in the main module), except those of tools and test helpers
    # that never reach the binary (their forks are not all in the checksum
    # database: aeneasr/go-swagger answers 404 there).
    local old new
    while IFS=$'\t' read -r old new; do
      case "${old%@*}" in
        github.com/go-swagger/go-swagger | github.com/bradleyjkemp/cupaloy/v2)
          log "kratos ${release}: not copying replace ${old} => ${new} (tool/test only)"
          continue
          ;;
      esac
      go mod edit -replace="${old}=${new}"
      log "kratos ${release}: replace ${old} => ${new}"
    done < <(jq -r '.Replace[]? | select(.New.Version != null)
      | [(.Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)),
         (.New.Path + "@" + .New.Version)] | @tsv' <<<"${mod_json}")

    # Local replaces (./internal/client-go, ./pkg/client-go, ./oryx) point
    # at separate modules that are not in the module zip: the recipe must
    # override them, unless Kratos requires a real version of that module.
    local path req o found
    while read -r path; do
      [[ -n "${path}" ]] || continue
      found=""
      for o in "${KR_OVERRIDES[@]}"; do
        [[ "${o%%=*}" == "${path}" ]] && found=1
      done
      [[ -n "${found}" ]] && continue
      req="$(jq -r --arg p "${path}" '.Require[]? | select(.Path == $p) | .Version' <<<"${mod_json}")"
      if [[ -n "${req}" && "${req}" != v0.0.0-00010101000000-000000000000 ]]; then
        log "kratos ${release}: ${path} => local directory upstream; using the required ${req}"
      else
        die "kratos ${release}: ${path} is replaced by a local directory in ${KRATOS_MODULE}@${KR_MODVER} and the recipe has no override for it"
      fi
    done < <(jq -r '.Replace[]? | select(.New.Version == null) | .Old.Path' <<<"${mod_json}")
    for o in "${KR_OVERRIDES[@]}"; do
      go mod edit -replace="${o}"
      log "kratos ${release}: replace ${o%%=*} => ${o#*=} (recipe)"
    done

    write_tools_go .
    GONOSUMDB="${KR_NOSUMDB}" timed "kratos ${release}: go mod tidy" go mod tidy
    local got
    got="$(go list -m -f '{{.Version}}' "${KRATOS_MODULE}")"
    [[ "${got}" == "${KR_MODVER}" ]] || die "kratos ${release}: MVS selected ${KRATOS_MODULE} ${got}, wanted ${KR_MODVER}"
  )
}

kratos_pin_dir() { printf '%s/%s' "${PIN_ROOT}" "$1"; }

kratos_pinned() {
  local d
  d="$(kratos_pin_dir "$1")"
  [[ -f "${d}/go.mod" && -f "${d}/go.sum" ]]
}

# The stamp of a Kratos binary: release, ldflags and the pinned module graph.
kratos_bin_stamp() {
  local release=$1 d
  d="$(kratos_pin_dir "${release}")"
  printf 'release=%s\nrecipe=%s\n' "${release}" "${IMAGE_RECIPE_VERSION}"
  printf 'ldflags=-s -w -X %s=%s\n' "${KRATOS_VERSION_VAR}" "${release}"
  if kratos_pinned "${release}"; then
    printf 'go.mod=%s\ngo.sum=%s\n' "$(sha256_of "${d}/go.mod")" "$(sha256_of "${d}/go.sum")"
  else
    kratos_recipe "${release}"
    printf 'unpinned=%s %s\n' "${KR_MODVER}" "${KR_OVERRIDES[*]}"
  fi
}

kratos_bin() { printf '%s/%s/kratos' "${KRATOS_BIN_ROOT}" "$1"; }

kratos_bin_current() {
  local release=$1 bin
  bin="$(kratos_bin "${release}")"
  [[ -x "${bin}" && -f "${bin}.inputs" ]] || return 1
  [[ "$(cat "${bin}.inputs")" == "$(kratos_bin_stamp "${release}")" ]]
}

# check_kratos_binary RELEASE BIN: `kratos version` and the migrate help.
check_kratos_binary() {
  local release=$1 bin=$2 out
  out="$("${bin}" version 2>&1)" || die "kratos ${release}: '${bin} version' failed: ${out}"
  grep -Eq "^Version:[[:space:]]+${release//./\\.}\$" <<<"${out}" ||
    die "kratos ${release}: unexpected 'kratos version' output: ${out}"
  if kratos_has_migrate_up "${release}"; then
    out="$("${bin}" migrate sql up --help 2>&1)" || die "kratos ${release}: 'migrate sql up --help' failed: ${out}"
  else
    out="$("${bin}" migrate sql --help 2>&1)" || die "kratos ${release}: 'migrate sql --help' failed: ${out}"
  fi
  grep -q -- '--read-from-env' <<<"${out}" || die "kratos ${release}: migrate help lacks --read-from-env: ${out}"
}

build_kratos_binary() {
  local release=$1 work out ldflags
  setup_go_env
  work="$(new_work_dir "kratos-${release}")"
  if kratos_pinned "${release}"; then
    cp "$(kratos_pin_dir "${release}")"/go.mod "$(kratos_pin_dir "${release}")"/go.sum "${work}/"
    write_tools_go "${work}"
    log "kratos ${release}: using the pinned wrapper module $(kratos_pin_dir "${release}")"
  else
    warn "kratos ${release}: no pinned wrapper module in $(kratos_pin_dir "${release}"); generating one (run '$0 pin-kratos ${release}' to pin it)"
    generate_kratos_module "${release}" "${work}"
  fi
  cd "${work}"
  timed "kratos ${release}: go mod download" go mod download "${KRATOS_MODULE}"
  ldflags="-s -w -X ${KRATOS_VERSION_VAR}=${release}"
  mkdir -p "${work}/out"
  timed "kratos ${release}: go build" \
    go build -mod=readonly -p "${KUO_BUILD_JOBS}" -trimpath -ldflags "${ldflags}" \
    -o "${work}/out/kratos" "${KRATOS_MODULE}"
  check_kratos_binary "${release}" "${work}/out/kratos"
  kratos_bin_stamp "${release}" >"${work}/out/kratos.inputs"
  go version >"${work}/out/go-version.txt"
  go version -m "${work}/out/kratos" >"${work}/out/modules.txt"
  mkdir -p "${KRATOS_BIN_ROOT}"
  rm -rf "${KRATOS_BIN_ROOT:?}/${release}"
  mv "${work}/out" "${KRATOS_BIN_ROOT}/${release}"
  cd /
  rm -rf "${work}"
  log "kratos ${release}: $(kratos_bin "${release}") ($(du -h "$(kratos_bin "${release}")" | cut -f1))"
}

ensure_kratos_binary() {
  local release=$1
  kratos_recipe "${release}" # dies on an unknown release
  if kratos_bin_current "${release}"; then
    return 0
  fi
  timed "kratos ${release}: binary" build_kratos_binary "${release}"
  kratos_bin_current "${release}" || die "kratos ${release}: binary is not complete after the build"
}

kratos_image_stamp() {
  local release=$1 bin
  bin="$(kratos_bin "${release}")"
  printf 'ref=%s\nrecipe=%s\nkratos=%s\ncacerts=%s\noci.sh=%s\n' \
    "$(kratos_ref "${release}")" "$(recipe_hash build_kratos_image)" "$(sha256_of "${bin}")" \
    "$(sha256_of /etc/ssl/certs/ca-certificates.crt)" "$(sha256_of "${OCI_LIB}")"
}

build_kratos_image() {
  local release=$1 tar r
  tar="$(kratos_archive "${release}")"
  r="$(new_work_dir "kratos-rootfs-${release}")/rootfs"
  mkdir -p "${r}/usr/bin" "${r}/etc/ssl/certs"
  install -m 0755 "$(kratos_bin "${release}")" "${r}/usr/bin/kratos"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "${r}/etc/ssl/certs/ca-certificates.crt"
  printf 'hosts: files dns\n' >"${r}/etc/nsswitch.conf"
  chmod 0644 "${r}/etc/nsswitch.conf"
  oci_rootfs_add_user "${r}" ory 10000 10000 /home/ory
  chmod 1777 "${r}/tmp"
  mkdir -p "${IMAGES_DIR}"
  OCI_CMD='["serve"]' OCI_WORKDIR=/home/ory OCI_PRESERVE_OWNERSHIP=1 \
    OCI_EXPOSED_PORTS='["4433/tcp","4434/tcp"]' \
    OCI_LABELS="$(jq -n -c --arg v "${release}" '{"org.opencontainers.image.title":"Ory Kratos","org.opencontainers.image.version":$v,"org.opencontainers.image.source":"https://github.com/ory/kratos","org.opencontainers.image.description":"Ory Kratos built from source by kratos-upgrade-operator hack/images.sh (CGO_ENABLED=0, no SQLite)"}')" \
    oci_archive_from_rootfs "${r}" "$(kratos_ref "${release}")" "${tar}" '["kratos"]' 10000
  rm -rf "$(dirname "${r}")"
}

ensure_kratos_image() {
  local release=$1 tar want
  ensure_kratos_binary "${release}"
  ensure_pkgs ca-certificates
  tar="$(kratos_archive "${release}")"
  want="$(kratos_image_stamp "${release}")"
  if archive_current "${tar}" "${want}"; then
    log "kratos ${release}: up to date (${tar}, $(archive_size "${tar}"))"
    return 0
  fi
  timed "kratos ${release}: image" build_kratos_image "${release}"
  write_stamp "${tar}" "${want}"
  log "kratos ${release}: wrote ${tar} ($(archive_size "${tar}"))"
}

# ---------------------------------------------------------------------------
# Database tools image (debootstrap).

# The first Debian archive URI of the host's APT sources that serves the suite.
debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
    printf '%s' "${DEBIAN_MIRROR%/}"
    return 0
  fi
  local f uri=""
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r "${f}" ]] || continue
    if [[ "${f}" == *.sources ]]; then
      uri="$(awk -v s="${DEBIAN_SUITE}" '
        /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
        /^URIs:/ { u = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
        END { if (u != "" && ok) print u }' "${f}" | grep -v -- '-security' | head -n1)"
    else
      uri="$(awk -v s="${DEBIAN_SUITE}" '$1 == "deb" {
          i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
          if ($(i + 1) == s) { print $i; exit } }' "${f}")"
    fi
    [[ -n "${uri}" ]] && break
  done
  printf '%s' "${uri:-http://deb.debian.org/debian}" | sed 's|/*$||'
}

# The matching security archive: .../debian -> .../debian-security.
debian_security_mirror() {
  local m=$1
  case "${m}" in
    */debian) printf '%s-security' "${m}" ;;
    *) printf 'http://deb.debian.org/debian-security' ;;
  esac
}

# postgresql-15 (the server) and libnss-wrapper: for restoring a dump into a
# throw-away server inside the pod, also as a uid without a passwd entry.
DB_TOOLS_PACKAGES=(postgresql-client-15 postgresql-15 libnss-wrapper default-mysql-client ca-certificates)

db_tools_stamp() {
  printf 'ref=%s,%s\nrecipe=%s\nsuite=%s\npackages=%s\nmirror=%s\noci.sh=%s\n' \
    "${DB_TOOLS_REF}" "${DB_TOOLS_REF_LATEST}" "$(recipe_hash build_db_tools_image chroot_run add_archive_name)" "${DEBIAN_SUITE}" \
    "${DB_TOOLS_PACKAGES[*]}" "$(debian_mirror)" "$(sha256_of "${OCI_LIB}")"
}

chroot_run() {
  local r=$1
  shift
  chroot "${r}" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

build_db_tools_image() {
  local work r mirror security arch
  ensure_pkgs debootstrap util-linux mount
  require_cmd debootstrap chroot mount umount mountpoint dpkg
  mirror="$(debian_mirror)"
  security="$(debian_security_mirror "${mirror}")"
  arch="$(dpkg --print-architecture)"
  work="$(new_work_dir db-tools)"
  r="${work}/rootfs"
  mkdir -p "${DEBS_DIR}/${DEBIAN_SUITE}-${arch}"

  log "db-tools: debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirror}"
  if ! timed "db-tools: debootstrap" \
    debootstrap --variant=minbase --arch="${arch}" \
    --cache-dir="${DEBS_DIR}/${DEBIAN_SUITE}-${arch}" \
    "${DEBIAN_SUITE}" "${r}" "${mirror}" >"${work}/debootstrap.log" 2>&1; then
    tail -n 30 "${work}/debootstrap.log" >&2
    [[ -f "${r}/debootstrap/debootstrap.log" ]] && tail -n 30 "${r}/debootstrap/debootstrap.log" >&2
    die "db-tools: debootstrap failed (log above)"
  fi

  cat >"${r}/etc/apt/sources.list" <<EOF
deb ${mirror} ${DEBIAN_SUITE} main
deb ${mirror} ${DEBIAN_SUITE}-updates main
deb ${security} ${DEBIAN_SUITE}-security main
EOF
  # Do not install documentation; keep the copyright files.
  cat >"${r}/etc/dpkg/dpkg.cfg.d/01-kuo-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
  # MariaDB client programs a backup never runs (about 4.5 MB each).
  local b
  for b in mariadb-binlog mariadb-check mariadb-conv mariadb-import mariadb-plugin mariadb-show \
    mariadb-slap mariadb-tzinfo-to-sql mariadb-waitpid my_print_defaults perror replace \
    resolve_stack_dump innotop mytop; do
    printf 'path-exclude=/usr/bin/%s\n' "${b}"
  done >>"${r}/etc/dpkg/dpkg.cfg.d/01-kuo-nodoc"
  # postgresql-15 depends on libllvm14 (and that on libz3-4), about 130 MB, for
  # JIT compilation only. Without llvmjit.so the server turns JIT off by itself
  # (pg_jit_available() is false, queries run as usual); the checks below run
  # queries with jit_above_cost=0 to make sure.
  cat >>"${r}/etc/dpkg/dpkg.cfg.d/01-kuo-nodoc" <<'EOF'
path-exclude=/usr/lib/*/libLLVM-14.so*
path-exclude=/usr/lib/*/libz3.so*
path-exclude=/usr/lib/postgresql/15/lib/llvmjit*
path-exclude=/usr/lib/postgresql/15/lib/bitcode/*
EOF
  cat >"${r}/etc/apt/apt.conf.d/01-kuo-minimal" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  printf '#!/bin/sh\nexit 101\n' >"${r}/usr/sbin/policy-rc.d"
  chmod 0755 "${r}/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "${r}/etc/resolv.conf" 2>/dev/null || true

  mountpoint -q "${r}/proc" || mount -t proc proc "${r}/proc"

  # Non-root user like the postgres image's (999:999); the backup volume is
  # 0777. Created before the packages, so that postgresql-common's postinst
  # finds it and does not pick another uid.
  chroot_run "${r}" groupadd --system --gid 999 postgres
  chroot_run "${r}" useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql \
    --no-create-home --shell /bin/sh postgres
  # postgresql-15's postinst creates a "main" cluster unless this says no (read
  # through createcluster.conf's include_dir, which postgresql-common installs
  # before postgresql-15 is configured; a drop-in avoids a conffile prompt).
  mkdir -p "${r}/etc/postgresql-common/createcluster.d"
  printf '# kratos-upgrade-db-tools: no cluster in the image; jobs run initdb on their own volume.\ncreate_main_cluster = false\n' \
    >"${r}/etc/postgresql-common/createcluster.d/00-kuo-no-main-cluster.conf"

  timed "db-tools: apt-get update" chroot_run "${r}" apt-get update >"${work}/apt.log" 2>&1 ||
    { tail -n 30 "${work}/apt.log" >&2; die "db-tools: apt-get update in the chroot failed"; }
  timed "db-tools: apt-get install ${DB_TOOLS_PACKAGES[*]}" \
    chroot_run "${r}" apt-get install -y --no-install-recommends "${DB_TOOLS_PACKAGES[@]}" >>"${work}/apt.log" 2>&1 ||
    { tail -n 30 "${work}/apt.log" >&2; die "db-tools: apt-get install in the chroot failed"; }
  chroot_run "${r}" apt-get clean

  [[ "$(chroot_run "${r}" id -u postgres):$(chroot_run "${r}" id -g postgres)" == 999:999 ]] ||
    die "db-tools: user postgres is not 999:999 after the install"
  if [[ -n "$(ls -A "${r}/etc/postgresql")" || -e "${r}/var/lib/postgresql/15" ]]; then
    die "db-tools: the packages created a cluster (/etc/postgresql/15, /var/lib/postgresql/15)"
  fi
  # ssl-cert's postinst made a snakeoil key pair; nothing here uses it, and a
  # private key should not ship in an image.
  find "${r}/etc/ssl/certs" -maxdepth 1 -lname ssl-cert-snakeoil.pem -delete
  rm -f "${r}/etc/ssl/certs/ssl-cert-snakeoil.pem" "${r}/etc/ssl/private/ssl-cert-snakeoil.key" "${r}/run/adduser"
  mkdir -p "${r}/var/lib/postgresql"
  chown 999:999 "${r}/var/lib/postgresql"
  chmod 0755 "${r}/var/lib/postgresql"

  # Checks, as the image's user.
  local v
  for v in pg_dump pg_restore psql; do
    chroot --userspec=999:999 "${r}" "/usr/lib/postgresql/15/bin/${v}" --version >&2 ||
      die "db-tools: ${v} does not run in the chroot"
    chroot --userspec=999:999 "${r}" "/usr/bin/${v}" --version >/dev/null ||
      die "db-tools: /usr/bin/${v} (pg_wrapper) does not run in the chroot"
  done
  for v in mysqldump mysql; do
    chroot --userspec=999:999 "${r}" "/usr/bin/${v}" --version >&2 ||
      die "db-tools: ${v} does not run in the chroot"
  done
  chroot --userspec=999:999 "${r}" /bin/sh -c \
    'set -e; echo abc | sha256sum | cut -c1-8 | tr a-f A-F | wc -c >/dev/null; cd /tmp; touch x; mv x y; rm y; gzip --version >/dev/null' ||
    die "db-tools: sh/coreutils check failed in the chroot"

  # The throw-away server, the way a verification Job runs it: initdb into a
  # fresh directory, postgres on a unix socket only, a table dumped with
  # pg_dump -Fc and restored with pg_restore into a second database, rows
  # counted, pg_ctl stop -m fast. Run as 999:999 (the image's user) and as
  # 10000:10000, which has no passwd or group entry.
  #
  # What a Job needs when its uid has no passwd entry (found 2026-11-29 with
  # PostgreSQL 15.20):
  #   - initdb looks up its effective uid whatever -U or USER say ("initdb:
  #     could not look up effective user ID 10000: user does not exist"), so
  #     it must run under nss_wrapper: a one-line passwd file for the uid in a
  #     writable directory, then LD_PRELOAD=libnss_wrapper.so
  #     NSS_WRAPPER_PASSWD=<that file> NSS_WRAPPER_GROUP=/etc/group (both
  #     variables, or nss_wrapper stays off; the gid need not be in the group
  #     file). Pass -U postgres so the superuser's name does not depend on the
  #     uid.
  #   - postgres and pg_ctl need no passwd entry (no nss_wrapper). Let initdb
  #     create the data directory below the emptyDir (<emptyDir>/data): it must
  #     belong to the server's uid and be 0700 or 0750, which initdb cannot
  #     arrange for a directory it does not own.
  #   - psql, pg_dump, pg_restore (libpq) need PGUSER (or -U), else "local
  #     user with ID 10000 does not exist". With initdb's default trust for
  #     local connections no password is needed.
  #   - The checks call the binaries through PATH (/usr/lib/postgresql/15/bin
  #     first); /usr/bin/psql etc. are postgresql-common's Perl wrapper.
  cat >"${r}/tmp/kuo-pg-check.sh" <<'EOF'
set -eu
d="$(mktemp -d /tmp/kuo-pg-check.XXXXXX)"
trap 'pg_ctl -D "$d/data" -m immediate stop >/dev/null 2>&1 || :; rm -rf "$d"' EXIT
who="uid $(id -u) gid $(id -g)"
if id -un >/dev/null 2>&1; then
  initdb -D "$d/data" -U postgres >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; exit 1; }
else
  who="${who} (no passwd entry; initdb under nss_wrapper)"
  printf 'postgres:x:%s:%s::%s:/bin/sh\n' "$(id -u)" "$(id -g)" "$d" >"$d/passwd"
  LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$d/passwd" NSS_WRAPPER_GROUP=/etc/group \
    initdb -D "$d/data" -U postgres >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; exit 1; }
fi
postgres -D "$d/data" -k "$d" -c listen_addresses= >"$d/server.log" 2>&1 &
export PGHOST="$d" PGUSER=postgres PGDATABASE=postgres
i=0
until pg_isready -q; do
  i=$((i + 1))
  [ "$i" -lt 300 ] || { cat "$d/server.log" >&2; echo "server did not start" >&2; exit 1; }
  sleep 0.1
done
[ "$(psql -X -Atc 'select 1')" = 1 ]
psql -X -q -v ON_ERROR_STOP=1 -c 'create table t (id int primary key, v text)' \
  -c "insert into t select g, md5(g::text) from generate_series(1, 1000) g" -c 'create database restored'
pg_dump -Fc -f "$d/dump" postgres
pg_restore -d restored --exit-on-error "$d/dump"
n="$(PGOPTIONS='-c jit_above_cost=0 -c jit_inline_above_cost=0 -c jit_optimize_above_cost=0' \
  psql -X -d restored -Atc 'select count(*) from t')"
[ "${n}" = 1000 ] || { echo "restored ${n} rows, want 1000" >&2; exit 1; }
jit="$(psql -X -Atc 'select pg_jit_available()')"
pg_ctl -D "$d/data" -w -t 30 stop -m fast >/dev/null
echo "postgres $(postgres -V | awk '{print $3}') as ${who}: initdb, unix socket, select 1, pg_dump/pg_restore 1000 rows ok, jit available: ${jit}" >&2
EOF
  local u
  for u in 999:999 10000:10000; do
    chroot --userspec="${u}" "${r}" /usr/bin/env -i HOME=/tmp LANG=C.UTF-8 \
      PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/sh /tmp/kuo-pg-check.sh ||
      die "db-tools: the PostgreSQL server check failed as ${u} in the chroot"
  done
  rm -f "${r}/tmp/kuo-pg-check.sh"
  [[ -z "$(find "${r}/tmp" -mindepth 1 -maxdepth 1 -name 'kuo-pg-check.*')" ]] ||
    die "db-tools: the server check left files in /tmp"

  unmount_under "${r}"
  # Slim down: package lists, caches, logs, docs, device nodes from debootstrap.
  rm -rf "${r}/var/lib/apt/lists/"* "${r}/var/cache/apt/"* "${r}/var/cache/debconf/"*-old \
    "${r}/var/lib/dpkg/"*-old "${r}/var/cache/ldconfig/aux-cache" "${r}/debootstrap" \
    "${r}/usr/share/man/"* "${r}/usr/share/info/"* "${r}/usr/share/lintian" \
    "${r}/usr/sbin/policy-rc.d" "${r}/root/.bash_history" "${r:?}/dev/"*
  find "${r}/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  find "${r}/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "${r}/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "${r}/var/log" -type f -delete
  # Symlinks to the excluded programs (mysqlslap -> mariadb-slap, ...).
  find "${r}/usr/bin" -xtype l -delete
  : >"${r}/etc/resolv.conf"
  printf 'localhost\n' >"${r}/etc/hostname"
  chmod 1777 "${r}/tmp"
  rm -rf "${r}/tmp/"* "${r}/var/tmp/"*

  mkdir -p "${IMAGES_DIR}"
  OCI_CMD='["/bin/sh"]' OCI_WORKDIR=/var/lib/postgresql OCI_PRESERVE_OWNERSHIP=1 \
    OCI_ENV='["PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"]' \
    OCI_LABELS="$(jq -n -c --arg t "${DB_TOOLS_TAG}" '{"org.opencontainers.image.title":"kratos-upgrade-db-tools","org.opencontainers.image.version":$t,"org.opencontainers.image.description":"Debian bookworm with postgresql-client-15, the PostgreSQL 15 server and the MariaDB client, for database backups and restore checks"}')" \
    oci_archive_from_rootfs "${r}" "${DB_TOOLS_REF}" "${DB_TOOLS_ARCHIVE}" "" 999:999
  add_archive_name "${DB_TOOLS_ARCHIVE}" "${DB_TOOLS_REF_LATEST}"
  log "db-tools: rootfs $(du -sh "${r}" | cut -f1), archive $(archive_size "${DB_TOOLS_ARCHIVE}")"
  rm -rf "${work}"
}

ensure_db_tools_image() {
  local want
  want="$(db_tools_stamp)"
  if archive_current "${DB_TOOLS_ARCHIVE}" "${want}"; then
    log "db-tools: up to date (${DB_TOOLS_ARCHIVE}, $(archive_size "${DB_TOOLS_ARCHIVE}"))"
    return 0
  fi
  timed "db-tools: image" build_db_tools_image
  write_stamp "${DB_TOOLS_ARCHIVE}" "${want}"
}

# ---------------------------------------------------------------------------
# Busybox test image.

# Prints the path of a busybox binary from Debian's busybox-static: the host's
# if that package is installed, else one unpacked from the downloaded .deb (the
# host's packages are not changed).
busybox_static_binary() {
  if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' &&
    [[ -x /bin/busybox ]] && dpkg -S /bin/busybox 2>/dev/null | grep -q '^busybox-static:'; then
    printf '/bin/busybox'
    return 0
  fi
  local d="${DEBS_DIR}/busybox-static" deb
  mkdir -p "${d}"
  deb="$(find "${d}" -maxdepth 1 -name 'busybox-static_*.deb' | sort | tail -n1)"
  if [[ -z "${deb}" ]]; then
    (cd "${d}" && apt-get download busybox-static >&2) ||
      { apt-get update >&2 && (cd "${d}" && apt-get download busybox-static >&2); } ||
      die "cannot download Debian's busybox-static"
    deb="$(find "${d}" -maxdepth 1 -name 'busybox-static_*.deb' | sort | tail -n1)"
    [[ -n "${deb}" ]] || die "apt-get download busybox-static left no .deb in ${d}"
  fi
  rm -rf "${d}/root"
  dpkg-deb -x "${deb}" "${d}/root"
  printf '%s' "${d}/root/bin/busybox"
}

busybox_stamp() {
  printf 'ref=%s\nrecipe=%s\nbusybox=%s\noci.sh=%s\n' \
    "${BUSYBOX_REF}" "$(recipe_hash build_busybox_image busybox_rootfs)" "$(sha256_of "$1")" "$(sha256_of "${OCI_LIB}")"
}

# busybox_rootfs BUSYBOX DIR: a root file system of busybox and its applets, root and nobody, a /tmp.
busybox_rootfs() {
  local bb=$1 r=$2 a
  mkdir -p "${r}/bin" "${r}/etc" "${r}/tmp" "${r}/root"
  install -m 0755 "${bb}" "${r}/bin/busybox"
  for a in $("${bb}" --list); do
    [[ "${a}" == busybox || "${a}" == */* ]] && continue
    ln -s busybox "${r}/bin/${a}"
  done
  local must
  for must in sh wget nc sleep touch; do
    [[ -L "${r}/bin/${must}" ]] || die "busybox: applet ${must} missing from ${bb}"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${r}/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"${r}/etc/group"
  printf 'hosts: files dns\n' >"${r}/etc/nsswitch.conf"
  chmod 0644 "${r}/etc/passwd" "${r}/etc/group" "${r}/etc/nsswitch.conf"
  chmod 0700 "${r}/root"
  chmod 1777 "${r}/tmp"
  "${r}/bin/sh" -c 'echo ok' >/dev/null || die "busybox: sh does not run"
}

build_busybox_image() {
  local r
  r="$(new_work_dir busybox)/rootfs"
  busybox_rootfs "$1" "${r}"
  mkdir -p "${IMAGES_DIR}"
  OCI_CMD='["sh"]' OCI_ENV='["PATH=/bin"]' \
    oci_archive_from_rootfs "${r}" "${BUSYBOX_REF}" "${BUSYBOX_ARCHIVE}" "" ""
  rm -rf "$(dirname "${r}")"
}

ensure_busybox_image() {
  local bb want
  bb="$(busybox_static_binary)"
  want="$(busybox_stamp "${bb}")"
  if archive_current "${BUSYBOX_ARCHIVE}" "${want}"; then
    log "busybox: up to date (${BUSYBOX_ARCHIVE}, $(archive_size "${BUSYBOX_ARCHIVE}"))"
    return 0
  fi
  timed "busybox: image" build_busybox_image "${bb}"
  write_stamp "${BUSYBOX_ARCHIVE}" "${want}"
}

# The upgrade benchmark's load generator (hack/upgrade-bench/loadgen, standard library only), with busybox so
# that the benchmark can reach into the pod (touch the stop file).
loadgen_stamp() {
  printf 'ref=%s\nrecipe=%s\nsrc=%s\nbusybox=%s\ngo=%s\noci.sh=%s\n' "${LOADGEN_REF}" \
    "$(recipe_hash build_loadgen_image busybox_rootfs)" \
    "$(cd "${LOADGEN_SRC}" && find . -type f \( -name '*.go' -o -name go.mod \) ! -name '*_test.go' | sort | xargs sha256sum | sha256sum)" \
    "$(sha256_of "$1")" "$(go version)" "$(sha256_of "${OCI_LIB}")"
}

build_loadgen_image() {
  local r
  r="$(new_work_dir loadgen)/rootfs"
  busybox_rootfs "$1" "${r}"
  mkdir -p "${r}/usr/local/bin"
  (cd "${LOADGEN_SRC}" && go build -trimpath -o "${r}/usr/local/bin/loadgen" .)
  mkdir -p "${IMAGES_DIR}"
  OCI_ENV='["PATH=/usr/local/bin:/bin"]' \
    oci_archive_from_rootfs "${r}" "${LOADGEN_REF}" "${LOADGEN_ARCHIVE}" '["/usr/local/bin/loadgen"]' "65534:65534"
  rm -rf "$(dirname "${r}")"
}

ensure_loadgen_image() {
  local bb want
  setup_go_env
  bb="$(busybox_static_binary)"
  want="$(loadgen_stamp "${bb}")"
  if archive_current "${LOADGEN_ARCHIVE}" "${want}"; then
    log "loadgen: up to date (${LOADGEN_ARCHIVE}, $(archive_size "${LOADGEN_ARCHIVE}"))"
    return 0
  fi
  timed "loadgen: image" build_loadgen_image "${bb}"
  write_stamp "${LOADGEN_ARCHIVE}" "${want}"
}

# ---------------------------------------------------------------------------
# Commands.

cmd_build() {
  local -a images
  local expanded
  expanded="$(expand_images "$@")"
  mapfile -t images <<<"${expanded}"
  take_lock
  load_oci_lib
  local start=${SECONDS} i
  for i in "${images[@]}"; do
    case "${i}" in
      kratos:*) ensure_kratos_image "${i#kratos:}" ;;
      db-tools) ensure_db_tools_image ;;
      busybox) ensure_busybox_image ;;
      loadgen) ensure_loadgen_image ;;
    esac
  done
  log "build: done in $(fmt_duration $((SECONDS - start)))"
  for i in "${images[@]}"; do
    image_archive "${i}"
    echo
  done
}

cmd_list() {
  local refs=0
  if [[ "${1:-}" == --refs ]]; then
    refs=1
    shift
  fi
  local -a images
  local expanded
  expanded="$(expand_images "$@")"
  mapfile -t images <<<"${expanded}"
  local i tar ref rc=0
  for i in "${images[@]}"; do
    tar="$(image_archive "${i}")"
    [[ -f "${tar}" ]] || { warn "${i}: not built (${tar}); run $0 build ${i}"; rc=1; }
    if ((refs)); then
      for ref in $(image_refs "${i}"); do
        printf '%s\t%s\n' "${ref}" "${tar}"
      done
    else
      printf '%s\n' "${tar}"
    fi
  done
  return "${rc}"
}

# ctr command for the local cluster, from ${KUO_STATE}/env.
cluster_ctr() {
  local sock
  sock="$(sed -n 's/^CONTAINERD_SOCK=//p' "${KUO_STATE}/env" 2>/dev/null | tail -n1)"
  [[ -n "${sock}" && -S "${sock}" ]] || return 1
  require_cmd ctr
  ctr -a "${sock}" -n k8s.io "$@"
}

# in_cluster TAR: true if every image name in TAR is in containerd with the
# archive's manifest digest.
in_cluster() {
  local tar=$1 digest names n got
  digest="$(tar -xOf "${tar}" index.json | jq -r '.manifests[0].digest')"
  names="$(oci_archive_image_names "${tar}")"
  [[ -n "${names}" ]] || return 1
  for n in ${names}; do
    got="$(cluster_ctr images ls "name==${n}" 2>/dev/null | awk 'NR > 1 { print $3 }')"
    [[ "${got}" == "${digest}" ]] || return 1
  done
}

cmd_load() {
  local -a images todo=()
  local expanded
  expanded="$(expand_images "$@")"
  mapfile -t images <<<"${expanded}"
  load_oci_lib
  [[ -f "${KUO_STATE}/env" ]] || die "the local cluster is not set up (${KUO_STATE}/env missing); run hack/local-cluster.sh up"
  cluster_ctr version >/dev/null 2>&1 ||
    die "containerd of the local cluster is not reachable (CONTAINERD_SOCK from ${KUO_STATE}/env); run hack/local-cluster.sh up"
  local i tar
  for i in "${images[@]}"; do
    tar="$(image_archive "${i}")"
    [[ -f "${tar}" ]] || die "${i}: not built (${tar}); run $0 build ${i}"
    if in_cluster "${tar}"; then
      log "${i}: already in containerd ($(image_refs "${i}"))"
    else
      todo+=("${tar}")
    fi
  done
  ((${#todo[@]} > 0)) || return 0
  if grep -q 'load-image)' "${KUO_ROOT}/hack/local-cluster.sh" 2>/dev/null; then
    timed "load: ${#todo[@]} archive(s)" "${KUO_ROOT}/hack/local-cluster.sh" load-image "${todo[@]}"
  else
    for tar in "${todo[@]}"; do
      timed "load: ${tar}" cluster_ctr images import "${tar}" >&2
    done
  fi
}

cmd_pin_kratos() {
  (($# == 1)) || die "usage: $0 pin-kratos RELEASE"
  local release=$1 work dst
  kratos_recipe "${release}"
  take_lock
  ensure_pkgs jq
  work="$(new_work_dir "pin-${release}")"
  generate_kratos_module "${release}" "${work}"
  dst="$(kratos_pin_dir "${release}")"
  mkdir -p "${dst}"
  cp "${work}/go.mod" "${work}/go.sum" "${work}/tools.go" "${dst}/"
  log "pinned ${dst}/{go.mod,go.sum,tools.go}"
}

# ---------------------------------------------------------------------------
# verify-kratos: real binaries against a throwaway PostgreSQL.

VERIFY_DIR=""
VERIFY_PG_BIN=""

verify_cleanup() {
  [[ -n "${VERIFY_DIR}" && -d "${VERIFY_DIR}" ]] || return 0
  if [[ -f "${VERIFY_DIR}/data/postmaster.pid" ]]; then
    runuser -u postgres -- "${VERIFY_PG_BIN}/pg_ctl" -D "${VERIFY_DIR}/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "${VERIFY_DIR}"
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for p in "$@"; do
    if port_free "${p}"; then
      echo "${p}"
      return 0
    fi
  done
  return 1
}

verify_psql() {
  runuser -u postgres -- "${VERIFY_PG_BIN}/psql" -X -q -t -A -h 127.0.0.1 -p "${VERIFY_PG_PORT}" -d kratos -c "$1"
}

# start_kratos RELEASE LOG: starts `kratos serve` in the background; sets KRATOS_PID.
start_kratos() {
  local release=$1 logf=$2
  DSN="${VERIFY_DSN}" SERVE_PUBLIC_PORT="${VERIFY_PUBLIC_PORT}" SERVE_ADMIN_PORT="${VERIFY_ADMIN_PORT}" \
    "$(kratos_bin "${release}")" serve -c "${VERIFY_DIR}/kratos.yaml" >"${logf}" 2>&1 &
  KRATOS_PID=$!
  CLEANUP_PIDS+=("${KRATOS_PID}")
}

stop_kratos() {
  kill "${KRATOS_PID}" 2>/dev/null || true
  wait "${KRATOS_PID}" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    port_free "${VERIFY_ADMIN_PORT}" && port_free "${VERIFY_PUBLIC_PORT}" && return 0
    sleep 0.1
  done
  die "kratos did not release ports ${VERIFY_PUBLIC_PORT}/${VERIFY_ADMIN_PORT}"
}

# wait_ready WANT_CODE LOG: polls /admin/health/ready until it answers WANT_CODE
# (up to 60 s); prints the body.
wait_ready() {
  local want=$1 logf=$2 i code body
  for i in $(seq 1 120); do
    kill -0 "${KRATOS_PID}" 2>/dev/null || { tail -n 20 "${logf}" >&2; die "kratos serve exited"; }
    body="$(curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:${VERIFY_ADMIN_PORT}/admin/health/ready" 2>/dev/null || true)"
    code="${body##*$'\n'}"
    body="${body%$'\n'*}"
    if [[ "${code}" == "${want}" ]]; then
      printf '%s' "${body}"
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "${logf}" >&2
  die "/admin/health/ready did not answer ${want} within 60 s (last: ${code} ${body})"
}

verify_one() {
  local release=$1 prev=$2 bin out code body ver max want logf
  bin="$(kratos_bin "${release}")"
  logf="${VERIFY_DIR}/serve-${release}.log"

  if [[ -n "${prev}" ]]; then
    # The new release on the old schema: up, but not ready.
    start_kratos "${release}" "${logf}.before"
    body="$(wait_ready 503 "${logf}.before")"
    grep -q 'migrations have not yet been fully applied' <<<"${body}" ||
      die "kratos ${release} on the ${prev} schema: 503 without the expected message: ${body}"
    stop_kratos
    log "kratos ${release} on the ${prev} schema: /admin/health/ready 503 ${body}"
    VERIFY_SUMMARY+=("${release} serve on ${prev} schema: /admin/health/ready 503 ${body}")
  fi

  local -a migrate=(migrate sql)
  kratos_has_migrate_up "${release}" && migrate+=(up)
  local mstart=${SECONDS}
  if ! DSN="${VERIFY_DSN}" "${bin}" "${migrate[@]}" -e --yes \
    >"${VERIFY_DIR}/migrate-${release}.out" 2>"${VERIFY_DIR}/migrate-${release}.log"; then
    tail -n 30 "${VERIFY_DIR}/migrate-${release}.out" "${VERIFY_DIR}/migrate-${release}.log" >&2
    die "kratos ${release}: ${migrate[*]} -e --yes failed"
  fi
  log "kratos ${release}: ${migrate[*]} -e --yes done in $(fmt_duration $((SECONDS - mstart)))"
  out="$(cat "${VERIFY_DIR}/migrate-${release}.out")"
  grep -q 'Successfully applied' <<<"${out}" || warn "kratos ${release}: migrate printed: ${out}"
  max="$(verify_psql 'SELECT max(version) FROM schema_migration')"
  want="$(kratos_expected_migration "${release}" || echo unknown)"
  log "kratos ${release}: schema_migration max(version) = ${max} (expected ${want})"
  [[ "${max}" == "${want}" ]] || die "kratos ${release}: schema_migration max(version) ${max} != expected ${want}"
  # Idempotent: a second run succeeds and changes nothing.
  DSN="${VERIFY_DSN}" "${bin}" "${migrate[@]}" -e --yes >/dev/null 2>>"${VERIFY_DIR}/migrate-${release}.log" ||
    die "kratos ${release}: second migration run failed"
  [[ "$(verify_psql 'SELECT max(version) FROM schema_migration')" == "${max}" ]] || die "kratos ${release}: second migration changed the schema"
  if kratos_has_migrate_up "${release}"; then
    DSN="${VERIFY_DSN}" "${bin}" migrate sql status -e --format json 2>/dev/null |
      jq -e 'all(.[]; .state == "Applied")' >/dev/null || die "kratos ${release}: migrate sql status reports pending migrations"
  fi
  local count
  count="$(verify_psql 'SELECT count(*) FROM schema_migration')"

  start_kratos "${release}" "${logf}"
  body="$(wait_ready 200 "${logf}")"
  ver="$(curl -s -m 5 "http://127.0.0.1:${VERIFY_ADMIN_PORT}/admin/version")"
  [[ "$(jq -r .version <<<"${ver}")" == "${release}" ]] || die "kratos ${release}: /admin/version answered ${ver}"
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/health/ready")"
  [[ "${code}" == 200 ]] || die "kratos ${release}: public /health/ready answered ${code}"
  # A self-service flow touches the database through the public API.
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H 'Accept: application/json' \
    "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/self-service/registration/api")"
  [[ "${code}" == 200 ]] || die "kratos ${release}: GET /self-service/registration/api answered ${code}"
  stop_kratos
  log "kratos ${release}: ready ${body}, version ${ver}"
  VERIFY_SUMMARY+=("${release} ${migrate[*]} -e --yes: schema_migration max(version)=${max} (${count} rows), expected ${want}")
  VERIFY_SUMMARY+=("${release} serve: /admin/health/ready 200 ${body}; /admin/version ${ver}; public /health/ready 200; registration flow 200")
}

cmd_verify_kratos() {
  local -a releases
  read -r -a releases <<<"${KRATOS_RELEASES}"
  ((${#releases[@]} > 0)) || die "KRATOS_RELEASES is empty"
  take_lock
  load_oci_lib
  ensure_pkgs postgresql curl util-linux
  local r
  for r in "${releases[@]}"; do
    ensure_kratos_binary "${r}"
  done
  VERIFY_PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  [[ -x "${VERIFY_PG_BIN}/initdb" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  id postgres >/dev/null 2>&1 || die "user postgres missing (Debian's postgresql package creates it)"

  VERIFY_DIR="$(mktemp -d /tmp/kuo-kratos-verify.XXXXXX)"
  chmod 0755 "${VERIFY_DIR}"
  CLEANUP_FUNCS+=(verify_cleanup)
  VERIFY_PG_PORT="$(free_port $(seq 55432 55500))" || die "no free port for PostgreSQL"
  VERIFY_PUBLIC_PORT="$(free_port 4433 $(seq 14433 14499))" || die "no free port for Kratos public"
  VERIFY_ADMIN_PORT="$(free_port 4434 $(seq 14500 14599))" || die "no free port for Kratos admin"
  VERIFY_DSN="postgres://postgres@127.0.0.1:${VERIFY_PG_PORT}/kratos?sslmode=disable"
  VERIFY_SUMMARY=()

  install -d -o postgres -g postgres -m 0700 "${VERIFY_DIR}/data"
  install -d -o postgres -g postgres -m 0755 "${VERIFY_DIR}/sock"
  timed "postgres: initdb" runuser -u postgres -- "${VERIFY_PG_BIN}/initdb" -D "${VERIFY_DIR}/data" \
    -A trust -U postgres -E UTF8 --no-sync >"${VERIFY_DIR}/initdb.log" 2>&1 ||
    { cat "${VERIFY_DIR}/initdb.log" >&2; die "initdb failed"; }
  runuser -u postgres -- "${VERIFY_PG_BIN}/pg_ctl" -D "${VERIFY_DIR}/data" -l "${VERIFY_DIR}/sock/postgres.log" -w \
    -o "-p ${VERIFY_PG_PORT} -k ${VERIFY_DIR}/sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    { cat "${VERIFY_DIR}/sock/postgres.log" >&2; die "PostgreSQL did not start"; }
  runuser -u postgres -- "${VERIFY_PG_BIN}/createdb" -h 127.0.0.1 -p "${VERIFY_PG_PORT}" kratos
  local pgver
  pgver="$(runuser -u postgres -- "${VERIFY_PG_BIN}/psql" -X -t -A -h 127.0.0.1 -p "${VERIFY_PG_PORT}" -d kratos -c 'SHOW server_version')"
  log "postgres ${pgver} on 127.0.0.1:${VERIFY_PG_PORT} (${VERIFY_DIR}); Kratos ports ${VERIFY_PUBLIC_PORT}/${VERIFY_ADMIN_PORT}"

  # The demo configuration, with the identity schema at its local path.
  sed "s|file:///etc/config/kratos/identity.schema.json|file://${VERIFY_DIR}/identity.schema.json|" \
    "${DEMO_DIR}/kratos.yaml" >"${VERIFY_DIR}/kratos.yaml"
  cp "${DEMO_DIR}/identity.schema.json" "${VERIFY_DIR}/identity.schema.json"
  grep -q "file://${VERIFY_DIR}/identity.schema.json" "${VERIFY_DIR}/kratos.yaml" ||
    die "${DEMO_DIR}/kratos.yaml does not reference file:///etc/config/kratos/identity.schema.json"

  local start=${SECONDS} prev=""
  for r in "${releases[@]}"; do
    verify_one "${r}" "${prev}"
    prev=${r}
  done
  verify_cleanup
  log "verify-kratos: all checks passed in $(fmt_duration $((SECONDS - start))); throwaway PostgreSQL removed"
  printf 'PostgreSQL %s\n' "${pgver}"
  printf '%s\n' "${VERIFY_SUMMARY[@]}"
}

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd=${1:-}
  [[ -n "${cmd}" ]] || { usage >&2; exit 2; }
  shift
  case "${cmd}" in
    build) cmd_build "$@" ;;
    list) cmd_list "$@" ;;
    load) cmd_load "$@" ;;
    verify-kratos) cmd_verify_kratos "$@" ;;
    pin-kratos) cmd_pin_kratos "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      die "unknown command '${cmd}' (build, list, load, verify-kratos, pin-kratos)"
      ;;
  esac
}

main "$@"
