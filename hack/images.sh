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
#   hydra:<release>   oryd/hydra:<release>           oryd_hydra_<release>.tar
#       Ory Hydra, built and laid out the same way: /usr/bin/hydra, Entrypoint
#       ["hydra"], Cmd ["serve","all"] as in Ory's own images (Ory's chart and
#       most Deployments pass their own args, e.g. serve all --dev -c FILE),
#       ports 4444 (public) and 4445 (admin). Binaries in ${KUO_CACHE}/hydra/<release>/.
#   keto:<release>    oryd/keto:<release>            oryd_keto_<release>.tar
#       Ory Keto, the same way: /usr/bin/keto, Entrypoint ["keto"], Cmd
#       ["serve"], ports 4466 (read), 4467 (write), 4468 (metrics), 4469 (OPL).
#       Binaries in ${KUO_CACHE}/keto/<release>/.
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
#   hack/images.sh verify-hydra       the same for the Hydra binaries: migrate in
#                                     order, schema_migration's newest version and
#                                     row count, the new release on the old schema
#                                     (503), /health/ready and /version on the admin
#                                     port, an OAuth2 client made by the first release
#                                     getting client_credentials tokens from every
#                                     release (hack/images/hydra-demo config)
#   hack/images.sh verify-keto        the same for the Keto binaries: `migrate up`,
#                                     schema_migration, /health/ready and /version
#                                     on the read and write ports, a relation tuple
#                                     written by the first release checked by every
#                                     release (hack/images/keto-demo config)
#   hack/images.sh pin-kratos RELEASE regenerate hack/images/kratos/RELEASE/{go.mod,go.sum}
#                                     from the recipe in this script; pin-hydra
#                                     and pin-keto likewise
#
#   IMAGE is all | kratos | kratos:<release> | hydra | hydra:<release> | keto |
#   keto:<release> | db-tools | busybox | loadgen. `all` (the default) is what
#   the e2e tier needs: the Kratos releases, the Hydra releases (HydraE2E),
#   db-tools and busybox; Keto images are built only when named.
#
# Sources: each release is built from a wrapper module pinned in
# hack/images/<product>/<release>/ (go.mod + go.sum, made by pin-<product>), so
# the dependency graph never drifts. One code path builds all three products;
# what differs (module, version variable, recipes, migrate command, image Cmd
# and ports, verify checks) is in the product_* functions and the per-product
# recipe sections below.
#   Kratos: recipes for v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.1.0 v1.3.1 v25.4.0
#   v26.2.0. The Go module proxy reachable here (checked 2026-11-29) serves
#   github.com/ory/kratos v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.1.0 v1.2.0 v1.3.1
#   and refuses v0.11.1 v1.3.0 ("403 Forbidden ... This module version is not
#   available"); the default builds the chain the e2e tier walks, v0.10.1 ->
#   v0.11.0 -> v0.13.0 -> v1.0.0 -> v1.3.1.
#   Hydra (github.com/ory/hydra/v2): recipes for v2.1.2 and v2.3.0. The proxy
#   also serves v2.2.0, which does not compile against any ory/hydra-client-go
#   it serves (found 2026-11-28), and refuses v2.0.3 (checked 2026-11-30).
#   Keto (github.com/ory/keto): recipes for v0.10.0-alpha.0 and v0.11.0-alpha.0.
#   The proxy serves v0.10.0-alpha.0, v0.11.0-alpha.0 and v0.14.0 and refuses
#   v0.11.1-alpha.0 (checked 2026-11-30); v0.14.0 needs github.com/ory/keto/proto
#   code newer than any proto version served, so it cannot be built here.
#
# Environment:
#   KUO_CACHE          cache root (default ~/.cache/kratos-upgrade-operator)
#   KRATOS_RELEASES    Kratos releases for `all`/`kratos`/verify-kratos, oldest first
#                      (default "v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.3.1")
#   HYDRA_RELEASES     Hydra releases for `hydra`/verify-hydra, oldest first
#                      (default "v2.1.2 v2.3.0")
#   KETO_RELEASES      Keto releases for `keto`/verify-keto, oldest first
#                      (default "v0.10.0-alpha.0 v0.11.0-alpha.0")
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
# carries paths (build and list) and the verify-<product> summary.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

KRATOS_RELEASES="${KRATOS_RELEASES:-v0.10.1 v0.11.0 v0.13.0 v1.0.0 v1.3.1}"
HYDRA_RELEASES="${HYDRA_RELEASES:-v2.1.2 v2.3.0}"
KETO_RELEASES="${KETO_RELEASES:-v0.10.0-alpha.0 v0.11.0-alpha.0}"
DB_TOOLS_TAG="${DB_TOOLS_TAG:-bookworm-2}"
DEBIAN_SUITE=bookworm
KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"

IMAGES_DIR="${KUO_CACHE}/images"
DEBS_DIR="${KUO_CACHE}/debs"
# Not ${KUO_CACHE}/work or /tmp: hack/k8s-binaries.sh wipes those.
WORK_ROOT="${KUO_CACHE}/images-work"
DEMO_DIR="${KUO_ROOT}/hack/images/kratos-demo"
HYDRA_DEMO_DIR="${KUO_ROOT}/hack/images/hydra-demo"
KETO_DEMO_DIR="${KUO_ROOT}/hack/images/keto-demo"
OCI_LIB="${KUO_ROOT}/hack/lib/oci.sh"
# Bump when the way an Ory binary is built changes (forces a rebuild). The
# image stamps also carry a hash of the function that assembles the image.
IMAGE_RECIPE_VERSION=1

# ---------------------------------------------------------------------------
# Products: what differs between Ory Kratos, Hydra and Keto. Everything below
# the recipes (wrapper module, binary, image, verify) takes the product as its
# first argument and asks these functions.

PRODUCTS="kratos hydra keto"

is_product() { [[ " ${PRODUCTS} " == *" $1 "* ]]; }

# product_module PRODUCT: the Go module (and main package) that is built.
product_module() {
  case "$1" in
    kratos) echo github.com/ory/kratos ;;
    hydra) echo github.com/ory/hydra/v2 ;;
    keto) echo github.com/ory/keto ;;
  esac
}

# product_version_var PRODUCT: the variable `-X` sets to the release (what
# `<product> version` and GET /version answer; "master" without it).
product_version_var() {
  case "$1" in
    kratos) echo github.com/ory/kratos/driver/config.Version ;;
    hydra) echo github.com/ory/hydra/v2/driver/config.Version ;;
    keto) echo github.com/ory/keto/internal/driver/config.Version ;;
  esac
}

product_title() {
  case "$1" in
    kratos) echo "Ory Kratos" ;;
    hydra) echo "Ory Hydra" ;;
    keto) echo "Ory Keto" ;;
  esac
}

# product_releases PRODUCT: the releases `all`/<product> mean, oldest first.
product_releases() {
  case "$1" in
    kratos) echo "${KRATOS_RELEASES}" ;;
    hydra) echo "${HYDRA_RELEASES}" ;;
    keto) echo "${KETO_RELEASES}" ;;
  esac
}

# product_image_config PRODUCT: the image's Cmd and exposed ports, as Ory's
# own images have them (Entrypoint is always ["<product>"]).
#   kratos: Cmd ["serve"]; 4433 public, 4434 admin.
#   hydra:  Cmd ["serve","all"] (.docker/Dockerfile-* at v2.1.2 and v2.3.0);
#           4444 public, 4445 admin. Ory's chart and most Deployments pass
#           their own args (serve all --config ... [--dev]).
#   keto:   Cmd ["serve"]; 4466 read, 4467 write, 4468 metrics, 4469 OPL
#           syntax check (v0.14.0's config schema; older releases 4466/4467).
product_image_cmd() {
  case "$1" in
    hydra) echo '["serve","all"]' ;;
    *) echo '["serve"]' ;;
  esac
}
product_image_ports() {
  case "$1" in
    kratos) echo '["4433/tcp","4434/tcp"]' ;;
    hydra) echo '["4444/tcp","4445/tcp"]' ;;
    keto) echo '["4466/tcp","4467/tcp","4468/tcp","4469/tcp"]' ;;
  esac
}

# product_recipe PRODUCT RELEASE: sets MOD_VERSION (the version of the
# product's module to require), MOD_OVERRIDES (replace directives
# "old=new@version" for the local `=> ./dir` replaces of the product's go.mod,
# which a wrapper module cannot use because those directories are separate
# modules, not in the module zip) and MOD_NOSUMDB (modules the checksum
# database does not know: GONOSUMDB for `go mod tidy` only; the committed
# go.sum then carries their hashes). All other replace directives of the
# product's go.mod are copied as they are. Dies on a release without a recipe.
product_recipe() {
  MOD_OVERRIDES=()
  MOD_NOSUMDB=""
  "$1_recipe" "$2"
}

# product_expected_migration PRODUCT RELEASE: the newest SQL migration, i.e.
# the expected max(version) of schema_migration after migrating a PostgreSQL
# database to RELEASE; product_expected_rows: count(*) of schema_migration after
# migrating release by release from the oldest of the product's releases
# (empty when not known).
product_expected_migration() { "$1_expected_migration" "$2"; }
product_expected_rows() { "$1_expected_rows" "$2" 2>/dev/null || true; }

# product_migrate_args PRODUCT RELEASE: the arguments that apply every pending
# migration with the DSN from the environment, without a prompt (one a line).
product_migrate_args() {
  case "$1" in
    kratos)
      if kratos_has_migrate_up "$2"; then printf '%s\n' migrate sql up -e --yes; else printf '%s\n' migrate sql -e --yes; fi
      ;;
    hydra)
      if hydra_has_migrate_up "$2"; then printf '%s\n' migrate sql up -e --yes; else printf '%s\n' migrate sql -e --yes; fi
      ;;
    keto) printf '%s\n' migrate up --yes ;;
  esac
}

# ---------------------------------------------------------------------------
# Kratos.

# ory/client-go is only needed by the module graph (the binary never imports
# it); any real version will do where Kratos requires a placeholder.
CLIENT_GO_VERSION=v1.14.3

# Newest SQL migration per release (persistence/sql/migrations/sql).
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
kratos_expected_rows() { return 1; }

kratos_recipe() {
  case "$1" in
    v0.10.1)
      MOD_VERSION=$1
      # v0.10.1's CLI imports kratos-client-go, replaced upstream by a local
      # directory; the version its go.mod requires (v0.6.3-alpha.1) does not
      # compile against the CLI, the release's own client version does.
      MOD_OVERRIDES=("github.com/ory/kratos-client-go=github.com/ory/kratos-client-go@v0.10.1")
      ;;
    v0.11.0 | v1.0.0 | v1.1.0 | v1.3.1)
      MOD_VERSION=$1
      ;;
    v0.13.0)
      MOD_VERSION=$1
      # sum.golang.org answers 404 for kratos@v0.13.0 and ory/x@v0.0.551.
      MOD_NOSUMDB="github.com/ory/kratos,github.com/ory/x"
      ;;
    v25.4.0)
      # Tag v25.4.0 is not a valid version of module github.com/ory/kratos
      # (no /v25 suffix): use the commit's pseudo-version. Its ./oryx tree is
      # byte-identical to ory/x at 5d3670e47fe7.
      MOD_VERSION=v1.3.1-0.20251107121744-64e04ace9aaf
      MOD_OVERRIDES=(
        "github.com/ory/x=github.com/ory/x@v0.0.730-0.20251106125211-5d3670e47fe7"
        "github.com/ory/client-go=github.com/ory/client-go@${CLIENT_GO_VERSION}"
      )
      ;;
    v26.2.0)
      MOD_VERSION=v1.3.1-0.20260320110106-9d7085948039
      MOD_OVERRIDES=(
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
# Hydra (module github.com/ory/hydra/v2 since v2.1.0; the v2.0.x tags declare
# module github.com/ory/hydra, so they are no valid module version at all).

# Newest SQL migration per release (persistence/sql/migrations), and the
# schema_migration rows on PostgreSQL after migrating v2.1.2 -> v2.2.0 -> v2.3.0
# (observed with the real binaries; hack/images/README.md).
hydra_expected_migration() {
  case "$1" in
    v2.1.2) echo 20230512112801000001 ;;
    v2.2.0) echo 20240129174410000001 ;;
    v2.3.0) echo 20241129111700000000 ;;
    *) return 1 ;;
  esac
}
hydra_expected_rows() {
  case "$1" in
    v2.1.2) echo 200 ;;
    v2.2.0) echo 206 ;;
    v2.3.0) echo 212 ;;
    *) return 1 ;;
  esac
}

hydra_recipe() {
  case "$1" in
    v2.1.2 | v2.3.0)
      MOD_VERSION=$1
      ;;
    *)
      # v2.2.0 needs the API client of Hydra's own repository (internal/httpclient,
      # not a module on the proxy): no ory/hydra-client-go version served fits.
      die "no recipe for Hydra '$1' (known: v2.1.2 v2.3.0; v2.2.0 is not buildable from the Go module proxy)"
      ;;
  esac
}

# v2.3.0 introduced `migrate sql up|down|status` (cmd/migrate_sql_up.go);
# before, `migrate sql` migrates up.
hydra_has_migrate_up() {
  [[ "$1" =~ ^v([0-9]+)\.([0-9]+)\. ]] || return 1
  ((BASH_REMATCH[1] > 2 || (BASH_REMATCH[1] == 2 && BASH_REMATCH[2] >= 3)))
}

# ---------------------------------------------------------------------------
# Keto (module github.com/ory/keto; its API messages are the separate module
# github.com/ory/keto/proto, replaced upstream by the ./proto directory).

# Newest SQL migration per release (internal/persistence/sql/migrations/sql),
# and the schema_migration rows on PostgreSQL after migrating
# v0.10.0-alpha.0 -> v0.11.0-alpha.0 (observed with the real binaries; the rows
# include ory/x's networks migration 20150100000001000000 and the Go migration
# 20220513200500000000, which are not files of that directory). v0.11.0-alpha.0
# adds no migration to v0.10.0-alpha.0.
keto_expected_migration() {
  case "$1" in
    v0.10.0-alpha.0 | v0.11.0-alpha.0) echo 20220513200600000001 ;;
    *) return 1 ;;
  esac
}
keto_expected_rows() {
  case "$1" in
    v0.10.0-alpha.0 | v0.11.0-alpha.0) echo 16 ;;
    *) return 1 ;;
  esac
}

keto_recipe() {
  case "$1" in
    v0.10.0-alpha.0)
      # ./proto at the tag is the Go code of proto/v0.10.0-alpha.0.
      MOD_VERSION=$1
      MOD_OVERRIDES=("github.com/ory/keto/proto=github.com/ory/keto/proto@v0.10.0-alpha.0")
      ;;
    v0.11.0-alpha.0)
      # ./proto at the tag is the Go code of proto/v0.11.0-alpha.0 (which the
      # proxy cannot fetch) and of proto/v0.11.1-alpha.0 (only proto's own
      # go.mod differs). The required proto v0.10.0-alpha.0 lacks the OPL
      # package.
      MOD_VERSION=$1
      MOD_OVERRIDES=("github.com/ory/keto/proto=github.com/ory/keto/proto@v0.11.1-alpha.0")
      ;;
    *)
      # v0.14.0 compiles only against ./proto at its tag (BatchCheckRequest,
      # BatchCheckResponse, CheckResponseWithError): proto v0.13.0-alpha.0, the
      # newest the proxy serves, lacks them, and the pseudo-version of the
      # v0.14.0 commit is refused (403).
      die "no recipe for Keto '$1' (known: v0.10.0-alpha.0 v0.11.0-alpha.0; v0.14.0 is not buildable from the Go module proxy)"
      ;;
  esac
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

# ory_archive PRODUCT RELEASE, ory_ref PRODUCT RELEASE
ory_archive() { printf '%s/oryd_%s_%s.tar' "${IMAGES_DIR}" "$1" "$2"; }
ory_ref() { printf 'oryd/%s:%s' "$1" "$2"; }
DB_TOOLS_REF="kratos-upgrade-db-tools:${DB_TOOLS_TAG}"
DB_TOOLS_REF_LATEST="kratos-upgrade-db-tools:latest"
DB_TOOLS_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-db-tools_${DB_TOOLS_TAG}.tar"
BUSYBOX_REF="kratos-upgrade-busybox:local"
BUSYBOX_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-busybox_local.tar"
LOADGEN_REF="kratos-upgrade-loadgen:local"
LOADGEN_ARCHIVE="${IMAGES_DIR}/kratos-upgrade-loadgen_local.tar"
LOADGEN_SRC="${KUO_ROOT}/hack/upgrade-bench/loadgen"

# expand_images ARG...: prints one image id a line (<product>:<release>, db-tools, busybox, loadgen). "all" is what
# the tests need (Kratos, and Hydra for HydraE2E); Keto images are built when asked for by name. The upgrade
# benchmark's load generator is built by hack/upgrade-bench.sh.
expand_images() {
  (($# > 0)) || set -- all
  local a r p
  for a in "$@"; do
    case "${a}" in
      all)
        for r in ${KRATOS_RELEASES}; do echo "kratos:${r}"; done
        for r in $(product_releases hydra); do echo "hydra:${r}"; done
        echo db-tools
        echo busybox
        ;;
      kratos | hydra | keto)
        for r in $(product_releases "${a}"); do echo "${a}:${r}"; done
        ;;
      kratos:v* | hydra:v* | keto:v*) echo "${a}" ;;
      oryd/kratos:v* | oryd/hydra:v* | oryd/keto:v*)
        p=${a#oryd/}
        echo "${p}"
        ;;
      db-tools | kratos-upgrade-db-tools*) echo db-tools ;;
      busybox | kratos-upgrade-busybox*) echo busybox ;;
      loadgen | kratos-upgrade-loadgen*) echo loadgen ;;
      *) die "unknown image '${a}' (all, kratos, kratos:<release>, hydra, hydra:<release>, keto, keto:<release>, db-tools, busybox, loadgen)" ;;
    esac
  done | awk '!seen[$0]++'
}

image_archive() {
  case "$1" in
    kratos:* | hydra:* | keto:*) ory_archive "${1%%:*}" "${1#*:}" ;;
    db-tools) printf '%s' "${DB_TOOLS_ARCHIVE}" ;;
    busybox) printf '%s' "${BUSYBOX_ARCHIVE}" ;;
    loadgen) printf '%s' "${LOADGEN_ARCHIVE}" ;;
  esac
}

image_refs() {
  case "$1" in
    kratos:* | hydra:* | keto:*) ory_ref "${1%%:*}" "${1#*:}" ;;
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
# Ory products: wrapper module (pin) and binary.

# write_tools_go DIR PRODUCT
write_tools_go() {
  local module
  module="$(product_module "$2")"
  cat >"$1/tools.go" <<EOF2
//go:build tools

// Package tools makes \`go mod tidy\` keep ${module} (the main
// package that hack/images.sh builds) in this wrapper module.
package tools

import _ "${module}"
EOF2
}

# generate_product_module PRODUCT RELEASE DIR: writes go.mod, go.sum and
# tools.go of the wrapper module for RELEASE into DIR (needs the Go module proxy).
generate_product_module() {
  local product=$1 release=$2 dir=$3 module json mod_file go_directive
  setup_go_env
  product_recipe "${product}" "${release}"
  module="$(product_module "${product}")"
  log "${product} ${release}: resolving ${module}@${MOD_VERSION}"
  json="$(export GONOSUMDB="${MOD_NOSUMDB}"; go_mod_download "${module}@${MOD_VERSION}")"
  mod_file="$(jq -r .GoMod <<<"${json}")"
  [[ -f "${mod_file}" ]] || die "no go.mod for ${module}@${MOD_VERSION}: ${json}"
  local mod_json
  mod_json="$(go mod edit -json "${mod_file}")"
  go_directive="$(jq -r '.Go // empty' <<<"${mod_json}")"
  [[ -n "${go_directive}" ]] || die "no go directive in ${mod_file}"

  mkdir -p "${dir}"
  rm -f "${dir}/go.mod" "${dir}/go.sum"
  (
    cd "${dir}"
    go mod init "local/${product}-${release//./-}" 2>/dev/null
    go mod edit -go="${go_directive}" -require="${module}@${MOD_VERSION}"

    # Copy the product's versioned replace directives (module replaces are
    # only honoured in the main module), except those of tools and test
    # helpers that never reach the binary (their forks are not all in the
    # checksum database: aeneasr/go-swagger answers 404 there).
    local old new
    while IFS=$'\t' read -r old new; do
      case "${old%@*}" in
        github.com/go-swagger/go-swagger | github.com/bradleyjkemp/cupaloy/v2)
          log "${product} ${release}: not copying replace ${old} => ${new} (tool/test only)"
          continue
          ;;
      esac
      go mod edit -replace="${old}=${new}"
      log "${product} ${release}: replace ${old} => ${new}"
    done < <(jq -r '.Replace[]? | select(.New.Version != null)
      | [(.Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)),
         (.New.Path + "@" + .New.Version)] | @tsv' <<<"${mod_json}")

    # Local replaces (Kratos' ./internal/client-go, ./pkg/client-go, ./oryx,
    # Hydra's ./internal/httpclient, Keto's ./proto) point at separate modules
    # that are not in the module zip: the recipe must override them, unless the product requires a real
    # version of that module.
    local path req o found
    while read -r path; do
      [[ -n "${path}" ]] || continue
      found=""
      for o in "${MOD_OVERRIDES[@]}"; do
        [[ "${o%%=*}" == "${path}" ]] && found=1
      done
      [[ -n "${found}" ]] && continue
      req="$(jq -r --arg p "${path}" '.Require[]? | select(.Path == $p) | .Version' <<<"${mod_json}")"
      if [[ -n "${req}" && "${req}" != v0.0.0-00010101000000-000000000000 ]]; then
        log "${product} ${release}: ${path} => local directory upstream; using the required ${req}"
      else
        die "${product} ${release}: ${path} is replaced by a local directory in ${module}@${MOD_VERSION} and the recipe has no override for it"
      fi
    done < <(jq -r '.Replace[]? | select(.New.Version == null) | .Old.Path' <<<"${mod_json}")
    for o in "${MOD_OVERRIDES[@]}"; do
      go mod edit -replace="${o}"
      log "${product} ${release}: replace ${o%%=*} => ${o#*=} (recipe)"
    done

    write_tools_go . "${product}"
    GONOSUMDB="${MOD_NOSUMDB}" timed "${product} ${release}: go mod tidy" go mod tidy
    local got
    got="$(go list -m -f '{{.Version}}' "${module}")"
    [[ "${got}" == "${MOD_VERSION}" ]] || die "${product} ${release}: MVS selected ${module} ${got}, wanted ${MOD_VERSION}"
  )
}

product_pin_dir() { printf '%s/hack/images/%s/%s' "${KUO_ROOT}" "$1" "$2"; }

product_pinned() {
  local d
  d="$(product_pin_dir "$1" "$2")"
  [[ -f "${d}/go.mod" && -f "${d}/go.sum" ]]
}

# The stamp of a binary: release, ldflags and the pinned module graph.
product_bin_stamp() {
  local product=$1 release=$2 d
  d="$(product_pin_dir "${product}" "${release}")"
  printf 'release=%s\nrecipe=%s\n' "${release}" "${IMAGE_RECIPE_VERSION}"
  printf 'ldflags=-s -w -X %s=%s\n' "$(product_version_var "${product}")" "${release}"
  if product_pinned "${product}" "${release}"; then
    printf 'go.mod=%s\ngo.sum=%s\n' "$(sha256_of "${d}/go.mod")" "$(sha256_of "${d}/go.sum")"
  else
    product_recipe "${product}" "${release}"
    printf 'unpinned=%s %s\n' "${MOD_VERSION}" "${MOD_OVERRIDES[*]}"
  fi
}

# product_bin PRODUCT RELEASE: ${KUO_CACHE}/<product>/<release>/<product>
product_bin() { printf '%s/%s/%s/%s' "${KUO_CACHE}" "$1" "$2" "$1"; }

product_bin_current() {
  local product=$1 release=$2 bin
  bin="$(product_bin "${product}" "${release}")"
  [[ -x "${bin}" && -f "${bin}.inputs" ]] || return 1
  [[ "$(cat "${bin}.inputs")" == "$(product_bin_stamp "${product}" "${release}")" ]]
}

# check_product_binary PRODUCT RELEASE BIN: `<product> version` names the
# release, and the migrate command's help has the flags the operator passes.
check_product_binary() {
  local product=$1 release=$2 bin=$3 out flag
  local -a help
  out="$("${bin}" version 2>&1)" || die "${product} ${release}: '${bin} version' failed: ${out}"
  grep -Eq "^Version:[[:space:]]+${release//./\\.}\$" <<<"${out}" ||
    die "${product} ${release}: unexpected '${product} version' output: ${out}"
  mapfile -t help < <(product_migrate_args "${product}" "${release}" | grep -v '^-')
  out="$("${bin}" "${help[@]}" --help 2>&1)" || die "${product} ${release}: '${help[*]} --help' failed: ${out}"
  for flag in $(product_migrate_args "${product}" "${release}" | grep '^-'); do
    case "${flag}" in
      -e) flag=--read-from-env ;;
    esac
    grep -q -- "${flag}" <<<"${out}" || die "${product} ${release}: '${help[*]} --help' lacks ${flag}: ${out}"
  done
}

build_product_binary() {
  local product=$1 release=$2 work module ldflags bin_root
  setup_go_env
  module="$(product_module "${product}")"
  bin_root="${KUO_CACHE}/${product}"
  work="$(new_work_dir "${product}-${release}")"
  if product_pinned "${product}" "${release}"; then
    cp "$(product_pin_dir "${product}" "${release}")"/go.mod "$(product_pin_dir "${product}" "${release}")"/go.sum "${work}/"
    write_tools_go "${work}" "${product}"
    log "${product} ${release}: using the pinned wrapper module $(product_pin_dir "${product}" "${release}")"
  else
    warn "${product} ${release}: no pinned wrapper module in $(product_pin_dir "${product}" "${release}"); generating one (run '$0 pin-${product} ${release}' to pin it)"
    generate_product_module "${product}" "${release}" "${work}"
  fi
  cd "${work}"
  timed "${product} ${release}: go mod download" go mod download "${module}"
  ldflags="-s -w -X $(product_version_var "${product}")=${release}"
  mkdir -p "${work}/out"
  timed "${product} ${release}: go build" \
    go build -mod=readonly -p "${KUO_BUILD_JOBS}" -trimpath -ldflags "${ldflags}" \
    -o "${work}/out/${product}" "${module}"
  check_product_binary "${product}" "${release}" "${work}/out/${product}"
  product_bin_stamp "${product}" "${release}" >"${work}/out/${product}.inputs"
  go version >"${work}/out/go-version.txt"
  go version -m "${work}/out/${product}" >"${work}/out/modules.txt"
  mkdir -p "${bin_root}"
  rm -rf "${bin_root:?}/${release}"
  mv "${work}/out" "${bin_root}/${release}"
  cd /
  rm -rf "${work}"
  log "${product} ${release}: $(product_bin "${product}" "${release}") ($(du -h "$(product_bin "${product}" "${release}")" | cut -f1))"
}

ensure_product_binary() {
  local product=$1 release=$2
  product_recipe "${product}" "${release}" # dies on an unknown release
  if product_bin_current "${product}" "${release}"; then
    return 0
  fi
  timed "${product} ${release}: binary" build_product_binary "${product}" "${release}"
  product_bin_current "${product}" "${release}" || die "${product} ${release}: binary is not complete after the build"
}

product_image_stamp() {
  local product=$1 release=$2 bin
  bin="$(product_bin "${product}" "${release}")"
  printf 'ref=%s\nrecipe=%s\n%s=%s\nconfig=%s %s\ncacerts=%s\noci.sh=%s\n' \
    "$(ory_ref "${product}" "${release}")" "$(recipe_hash build_product_image)" \
    "${product}" "$(sha256_of "${bin}")" "$(product_image_cmd "${product}")" "$(product_image_ports "${product}")" \
    "$(sha256_of /etc/ssl/certs/ca-certificates.crt)" "$(sha256_of "${OCI_LIB}")"
}

# The image: the static binary at /usr/bin/<product>, CA certificates, user
# ory (10000), no shell. (Ory's own Hydra images run as a system user "ory"
# (v2.1) or nonroot 65532 (v2.3+); a uid of our own changes nothing for the
# operator: Ory's chart sets runAsUser anyway.)
build_product_image() {
  local product=$1 release=$2 tar r title
  tar="$(ory_archive "${product}" "${release}")"
  title="$(product_title "${product}")"
  r="$(new_work_dir "${product}-rootfs-${release}")/rootfs"
  mkdir -p "${r}/usr/bin" "${r}/etc/ssl/certs"
  install -m 0755 "$(product_bin "${product}" "${release}")" "${r}/usr/bin/${product}"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "${r}/etc/ssl/certs/ca-certificates.crt"
  printf 'hosts: files dns\n' >"${r}/etc/nsswitch.conf"
  chmod 0644 "${r}/etc/nsswitch.conf"
  oci_rootfs_add_user "${r}" ory 10000 10000 /home/ory
  chmod 1777 "${r}/tmp"
  mkdir -p "${IMAGES_DIR}"
  OCI_CMD="$(product_image_cmd "${product}")" OCI_WORKDIR=/home/ory OCI_PRESERVE_OWNERSHIP=1 \
    OCI_EXPOSED_PORTS="$(product_image_ports "${product}")" \
    OCI_LABELS="$(jq -n -c --arg v "${release}" --arg t "${title}" --arg p "${product}" '{"org.opencontainers.image.title":$t,"org.opencontainers.image.version":$v,"org.opencontainers.image.source":("https://github.com/ory/" + $p),"org.opencontainers.image.description":($t + " built from source by kratos-upgrade-operator hack/images.sh (CGO_ENABLED=0, no SQLite)")}')" \
    oci_archive_from_rootfs "${r}" "$(ory_ref "${product}" "${release}")" "${tar}" "[\"${product}\"]" 10000
  rm -rf "$(dirname "${r}")"
}

ensure_product_image() {
  local product=$1 release=$2 tar want
  ensure_product_binary "${product}" "${release}"
  ensure_pkgs ca-certificates
  tar="$(ory_archive "${product}" "${release}")"
  want="$(product_image_stamp "${product}" "${release}")"
  if archive_current "${tar}" "${want}"; then
    log "${product} ${release}: up to date (${tar}, $(archive_size "${tar}"))"
    return 0
  fi
  timed "${product} ${release}: image" build_product_image "${product}" "${release}"
  write_stamp "${tar}" "${want}"
  log "${product} ${release}: wrote ${tar} ($(archive_size "${tar}"))"
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
      kratos:* | hydra:* | keto:*) ensure_product_image "${i%%:*}" "${i#*:}" ;;
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

# cmd_pin PRODUCT RELEASE
cmd_pin() {
  local product=$1
  shift
  (($# == 1)) || die "usage: $0 pin-${product} RELEASE"
  local release=$1 work dst
  product_recipe "${product}" "${release}"
  take_lock
  ensure_pkgs jq
  work="$(new_work_dir "pin-${product}-${release}")"
  generate_product_module "${product}" "${release}" "${work}"
  dst="$(product_pin_dir "${product}" "${release}")"
  mkdir -p "${dst}"
  cp "${work}/go.mod" "${work}/go.sum" "${work}/tools.go" "${dst}/"
  log "pinned ${dst}/{go.mod,go.sum,tools.go}"
}

# ---------------------------------------------------------------------------
# verify-<product>: real binaries against a throwaway PostgreSQL.

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
  runuser -u postgres -- "${VERIFY_PG_BIN}/psql" -X -q -t -A -h 127.0.0.1 -p "${VERIFY_PG_PORT}" -d "${VERIFY_DB}" -c "$1"
}

# start_server PRODUCT RELEASE LOG ARG...: starts `<product> ARG...` in the
# background with the environment VERIFY_ENV; sets SERVER_PID.
start_server() {
  local product=$1 release=$2 logf=$3
  shift 3
  env "${VERIFY_ENV[@]}" "$(product_bin "${product}" "${release}")" "$@" >"${logf}" 2>&1 &
  SERVER_PID=$!
  CLEANUP_PIDS+=("${SERVER_PID}")
}

stop_server() {
  kill "${SERVER_PID}" 2>/dev/null || true
  wait "${SERVER_PID}" 2>/dev/null || true
  local i p busy
  for i in $(seq 1 50); do
    busy=""
    for p in "${VERIFY_PORTS[@]}"; do
      port_free "${p}" || busy=1
    done
    [[ -z "${busy}" ]] && return 0
    sleep 0.1
  done
  die "${VERIFY_PRODUCT} did not release ports ${VERIFY_PORTS[*]}"
}

# wait_ready URL WANT_CODE LOG: polls URL until it answers WANT_CODE (up to
# 60 s); prints the body.
wait_ready() {
  local url=$1 want=$2 logf=$3 i code body
  for i in $(seq 1 120); do
    kill -0 "${SERVER_PID}" 2>/dev/null || { tail -n 20 "${logf}" >&2; die "${VERIFY_PRODUCT} serve exited"; }
    body="$(curl -s -m 2 -w '\n%{http_code}' "${url}" 2>/dev/null || true)"
    code="${body##*$'\n'}"
    body="${body%$'\n'*}"
    if [[ "${code}" == "${want}" ]]; then
      printf '%s' "${body}"
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "${logf}" >&2
  die "${url#http://127.0.0.1}: did not answer ${want} within 60 s (last: ${code} ${body})"
}

# http_code URL [CURL ARGS...]
http_code() {
  local url=$1
  shift
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "${url}"
}

# verify_migrate PRODUCT RELEASE: migrates the database with the release's
# migrate command (DSN from the environment), checks schema_migration's newest
# version (and its row count where known), that a second run changes nothing
# and, where the release has a status command, that it reports nothing pending.
# Sets VERIFY_MAX and VERIFY_COUNT and adds to VERIFY_SUMMARY.
verify_migrate() {
  local product=$1 release=$2 bin max want count want_count
  local -a migrate
  bin="$(product_bin "${product}" "${release}")"
  mapfile -t migrate < <(product_migrate_args "${product}" "${release}")
  migrate+=("${VERIFY_MIGRATE_EXTRA[@]}")
  local mstart=${SECONDS}
  if ! env "${VERIFY_ENV[@]}" "${bin}" "${migrate[@]}" \
    >"${VERIFY_DIR}/migrate-${release}.out" 2>"${VERIFY_DIR}/migrate-${release}.log"; then
    tail -n 30 "${VERIFY_DIR}/migrate-${release}.out" "${VERIFY_DIR}/migrate-${release}.log" >&2
    die "${product} ${release}: ${migrate[*]} failed"
  fi
  log "${product} ${release}: ${migrate[*]} done in $(fmt_duration $((SECONDS - mstart)))"
  grep -Eq 'Successfully applied|applied' "${VERIFY_DIR}/migrate-${release}.out" ||
    warn "${product} ${release}: migrate printed: $(cat "${VERIFY_DIR}/migrate-${release}.out")"
  max="$(verify_psql 'SELECT max(version) FROM schema_migration')"
  want="$(product_expected_migration "${product}" "${release}" || echo unknown)"
  log "${product} ${release}: schema_migration max(version) = ${max} (expected ${want})"
  [[ "${max}" == "${want}" ]] || die "${product} ${release}: schema_migration max(version) ${max} != expected ${want}"
  count="$(verify_psql 'SELECT count(*) FROM schema_migration')"
  want_count="$(product_expected_rows "${product}" "${release}")"
  if [[ -n "${want_count}" ]]; then
    [[ "${count}" == "${want_count}" ]] || die "${product} ${release}: schema_migration has ${count} rows, expected ${want_count}"
  fi
  # Idempotent: a second run succeeds and changes nothing.
  env "${VERIFY_ENV[@]}" "${bin}" "${migrate[@]}" >/dev/null 2>>"${VERIFY_DIR}/migrate-${release}.log" ||
    die "${product} ${release}: second migration run failed"
  [[ "$(verify_psql 'SELECT max(version) FROM schema_migration')" == "${max}" ]] || die "${product} ${release}: second migration changed the schema"
  [[ "$(verify_psql 'SELECT count(*) FROM schema_migration')" == "${count}" ]] || die "${product} ${release}: second migration added rows"
  local -a status=()
  case "${product}" in
    kratos) kratos_has_migrate_up "${release}" && status=(migrate sql status -e --format json) ;;
    hydra) hydra_has_migrate_up "${release}" && status=(migrate sql status -e --format json) ;;
    keto) status=(migrate status --format json "${VERIFY_MIGRATE_EXTRA[@]}") ;;
  esac
  if ((${#status[@]} > 0)); then
    env "${VERIFY_ENV[@]}" "${bin}" "${status[@]}" 2>/dev/null |
      jq -e 'all(.[]; .state == "Applied")' >/dev/null || die "${product} ${release}: ${status[*]} reports pending migrations"
  fi
  VERIFY_MAX=${max}
  VERIFY_COUNT=${count}
  VERIFY_SUMMARY+=("${release} ${migrate[*]}: schema_migration max(version)=${max} (${count} rows), expected ${want}${want_count:+ (${want_count} rows)}")
}

# --- Kratos: the demo configuration (hack/images/kratos-demo), admin API under /admin.

verify_setup_kratos() {
  VERIFY_PUBLIC_PORT="$(free_port 4433 $(seq 14433 14499))" || die "no free port for Kratos public"
  VERIFY_ADMIN_PORT="$(free_port 4434 $(seq 14500 14599))" || die "no free port for Kratos admin"
  VERIFY_PORTS=("${VERIFY_PUBLIC_PORT}" "${VERIFY_ADMIN_PORT}")
  VERIFY_ENV=("DSN=${VERIFY_DSN}" "SERVE_PUBLIC_PORT=${VERIFY_PUBLIC_PORT}" "SERVE_ADMIN_PORT=${VERIFY_ADMIN_PORT}")
  # The demo configuration, with the identity schema at its local path.
  sed "s|file:///etc/config/kratos/identity.schema.json|file://${VERIFY_DIR}/identity.schema.json|" \
    "${DEMO_DIR}/kratos.yaml" >"${VERIFY_DIR}/kratos.yaml"
  cp "${DEMO_DIR}/identity.schema.json" "${VERIFY_DIR}/identity.schema.json"
  grep -q "file://${VERIFY_DIR}/identity.schema.json" "${VERIFY_DIR}/kratos.yaml" ||
    die "${DEMO_DIR}/kratos.yaml does not reference file:///etc/config/kratos/identity.schema.json"
}

verify_one_kratos() {
  local release=$1 prev=$2 code body ver logf admin="http://127.0.0.1:${VERIFY_ADMIN_PORT}"
  logf="${VERIFY_DIR}/serve-${release}.log"

  if [[ -n "${prev}" ]]; then
    # The new release on the old schema: up, but not ready.
    start_server kratos "${release}" "${logf}.before" serve -c "${VERIFY_DIR}/kratos.yaml"
    body="$(wait_ready "${admin}/admin/health/ready" 503 "${logf}.before")"
    grep -q 'migrations have not yet been fully applied' <<<"${body}" ||
      die "kratos ${release} on the ${prev} schema: 503 without the expected message: ${body}"
    stop_server
    log "kratos ${release} on the ${prev} schema: /admin/health/ready 503 ${body}"
    VERIFY_SUMMARY+=("${release} serve on ${prev} schema: /admin/health/ready 503 ${body}")
  fi

  verify_migrate kratos "${release}"

  start_server kratos "${release}" "${logf}" serve -c "${VERIFY_DIR}/kratos.yaml"
  body="$(wait_ready "${admin}/admin/health/ready" 200 "${logf}")"
  ver="$(curl -s -m 5 "${admin}/admin/version")"
  [[ "$(jq -r .version <<<"${ver}")" == "${release}" ]] || die "kratos ${release}: /admin/version answered ${ver}"
  code="$(http_code "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/health/ready")"
  [[ "${code}" == 200 ]] || die "kratos ${release}: public /health/ready answered ${code}"
  # A self-service flow touches the database through the public API.
  code="$(http_code "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/self-service/registration/api" -H 'Accept: application/json')"
  [[ "${code}" == 200 ]] || die "kratos ${release}: GET /self-service/registration/api answered ${code}"
  stop_server
  log "kratos ${release}: ready ${body}, version ${ver}"
  VERIFY_SUMMARY+=("${release} serve: /admin/health/ready 200 ${body}; /admin/version ${ver}; public /health/ready 200; registration flow 200")
}

# --- Hydra: the demo configuration (hack/images/hydra-demo), `serve all --dev`
# (plain HTTP issuer); /health/ready and /version on the admin port.

verify_setup_hydra() {
  VERIFY_PUBLIC_PORT="$(free_port 4444 $(seq 14444 14499))" || die "no free port for Hydra public"
  VERIFY_ADMIN_PORT="$(free_port 4445 $(seq 14500 14599))" || die "no free port for Hydra admin"
  VERIFY_PORTS=("${VERIFY_PUBLIC_PORT}" "${VERIFY_ADMIN_PORT}")
  VERIFY_ENV=("DSN=${VERIFY_DSN}" "SERVE_PUBLIC_PORT=${VERIFY_PUBLIC_PORT}" "SERVE_ADMIN_PORT=${VERIFY_ADMIN_PORT}"
    "URLS_SELF_ISSUER=http://127.0.0.1:${VERIFY_PUBLIC_PORT}/")
  cp "${HYDRA_DEMO_DIR}/hydra.yaml" "${VERIFY_DIR}/hydra.yaml"
  HYDRA_CLIENT_ID=""
  HYDRA_CLIENT_SECRET=""
}

# hydra_token: a client credentials grant with the client the first release
# created; prints the access token.
hydra_token() {
  local out
  out="$(curl -s -m 10 -u "${HYDRA_CLIENT_ID}:${HYDRA_CLIENT_SECRET}" -d grant_type=client_credentials \
    "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/oauth2/token")"
  jq -e -r '.access_token // empty' <<<"${out}" 2>/dev/null || die "hydra: client credentials grant answered ${out}"
}

verify_one_hydra() {
  local release=$1 prev=$2 code body ver logf out token active admin="http://127.0.0.1:${VERIFY_ADMIN_PORT}"
  local -a serve=(serve all --dev -c "${VERIFY_DIR}/hydra.yaml")
  logf="${VERIFY_DIR}/serve-${release}.log"

  if [[ -n "${prev}" ]]; then
    # The new release on the old schema: up, but not ready (the body is not
    # the reason: "The error is unrecognizable").
    start_server hydra "${release}" "${logf}.before" "${serve[@]}"
    body="$(wait_ready "${admin}/health/ready" 503 "${logf}.before")"
    code="$(http_code "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/health/ready")"
    [[ "${code}" == 503 ]] || die "hydra ${release} on the ${prev} schema: public /health/ready answered ${code}, not 503"
    stop_server
    log "hydra ${release} on the ${prev} schema: admin /health/ready 503 ${body}; public 503"
    VERIFY_SUMMARY+=("${release} serve on ${prev} schema: admin and public /health/ready 503 ${body}")
  fi

  verify_migrate hydra "${release}"

  start_server hydra "${release}" "${logf}" "${serve[@]}"
  body="$(wait_ready "${admin}/health/ready" 200 "${logf}")"
  ver="$(curl -s -m 5 "${admin}/version")"
  [[ "$(jq -r .version <<<"${ver}")" == "${release}" ]] || die "hydra ${release}: admin /version answered ${ver}"
  code="$(http_code "http://127.0.0.1:${VERIFY_PUBLIC_PORT}/health/ready")"
  [[ "${code}" == 200 ]] || die "hydra ${release}: public /health/ready answered ${code}"
  if [[ -z "${HYDRA_CLIENT_ID}" ]]; then
    # An OAuth2 client made by the first release, used by every later one.
    out="$(curl -s -m 10 -H 'Content-Type: application/json' -d '{"client_name":"kuo-verify","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"demo"}' \
      "${admin}/admin/clients")"
    HYDRA_CLIENT_ID="$(jq -r '.client_id // empty' <<<"${out}")"
    HYDRA_CLIENT_SECRET="$(jq -r '.client_secret // empty' <<<"${out}")"
    [[ -n "${HYDRA_CLIENT_ID}" && -n "${HYDRA_CLIENT_SECRET}" ]] || die "hydra ${release}: POST /admin/clients answered ${out}"
    log "hydra ${release}: created OAuth2 client ${HYDRA_CLIENT_ID}"
  fi
  token="$(hydra_token)"
  active="$(curl -s -m 10 -d "token=${token}" "${admin}/admin/oauth2/introspect" | jq -r .active)"
  [[ "${active}" == true ]] || die "hydra ${release}: the new access token is not active on /admin/oauth2/introspect"
  stop_server
  log "hydra ${release}: ready ${body}, version ${ver}, client credentials grant and introspection ok"
  VERIFY_SUMMARY+=("${release} serve: admin /health/ready 200 ${body}; admin /version ${ver}; public /health/ready 200; client ${HYDRA_CLIENT_ID} (made by $(product_releases hydra | awk '{print $1}')): client_credentials token active")
}

# --- Keto: the demo configuration (hack/images/keto-demo), which `migrate`
# needs too (-c; there is no -e: the DSN comes from env DSN or the config);
# /health/ready and /version on the read (4466) and write (4467) ports.

verify_setup_keto() {
  VERIFY_READ_PORT="$(free_port 4466 $(seq 14466 14499))" || die "no free port for Keto read"
  VERIFY_WRITE_PORT="$(free_port 4467 $(seq 14500 14599))" || die "no free port for Keto write"
  VERIFY_METRICS_PORT="$(free_port 4468 $(seq 14600 14699))" || die "no free port for Keto metrics"
  VERIFY_OPL_PORT="$(free_port 4469 $(seq 14700 14799))" || die "no free port for Keto OPL"
  VERIFY_PORTS=("${VERIFY_READ_PORT}" "${VERIFY_WRITE_PORT}" "${VERIFY_METRICS_PORT}" "${VERIFY_OPL_PORT}")
  VERIFY_ENV=("DSN=${VERIFY_DSN}" "SERVE_READ_PORT=${VERIFY_READ_PORT}" "SERVE_WRITE_PORT=${VERIFY_WRITE_PORT}"
    "SERVE_METRICS_PORT=${VERIFY_METRICS_PORT}" "SERVE_OPL_PORT=${VERIFY_OPL_PORT}")
  cp "${KETO_DEMO_DIR}/keto.yaml" "${VERIFY_DIR}/keto.yaml"
  VERIFY_MIGRATE_EXTRA=(-c "${VERIFY_DIR}/keto.yaml")
  KETO_TUPLE_BY=""
}

verify_one_keto() {
  local release=$1 prev=$2 code body ver logf out read="http://127.0.0.1:${VERIFY_READ_PORT}" write="http://127.0.0.1:${VERIFY_WRITE_PORT}"
  local -a serve=(serve -c "${VERIFY_DIR}/keto.yaml")
  logf="${VERIFY_DIR}/serve-${release}.log"

  if [[ -n "${prev}" ]]; then
    # The new release on the old schema: not ready if it brings migrations.
    local want=503
    [[ "$(product_expected_migration keto "${release}")" == "$(product_expected_migration keto "${prev}")" ]] && want=200
    start_server keto "${release}" "${logf}.before" "${serve[@]}"
    body="$(wait_ready "${read}/health/ready" "${want}" "${logf}.before")"
    stop_server
    log "keto ${release} on the ${prev} schema: read /health/ready ${want} ${body}"
    VERIFY_SUMMARY+=("${release} serve on ${prev} schema: read /health/ready ${want} ${body}$([[ ${want} == 200 ]] && echo " (no new migration)")")
  fi

  verify_migrate keto "${release}"

  start_server keto "${release}" "${logf}" "${serve[@]}"
  body="$(wait_ready "${read}/health/ready" 200 "${logf}")"
  code="$(http_code "${write}/health/ready")"
  [[ "${code}" == 200 ]] || die "keto ${release}: write /health/ready answered ${code}"
  ver="$(curl -s -m 5 "${write}/version")"
  [[ "$(jq -r .version <<<"${ver}")" == "${release}" ]] || die "keto ${release}: write /version answered ${ver}"
  [[ "$(curl -s -m 5 "${read}/version" | jq -r .version)" == "${release}" ]] || die "keto ${release}: read /version is not ${release}"
  if [[ -z "${KETO_TUPLE_BY}" ]]; then
    # A relation tuple written by the first release, checked by every later one.
    code="$(http_code "${write}/admin/relation-tuples" -X PUT -H 'Content-Type: application/json' \
      -d '{"namespace":"documents","object":"doc-1","relation":"view","subject_id":"alice"}')"
    [[ "${code}" == 201 ]] || die "keto ${release}: PUT /admin/relation-tuples answered ${code}"
    KETO_TUPLE_BY=${release}
  fi
  out="$(curl -s -m 5 "${read}/relation-tuples/check?namespace=documents&object=doc-1&relation=view&subject_id=alice")"
  [[ "$(jq -r .allowed <<<"${out}")" == true ]] || die "keto ${release}: check documents:doc-1#view@alice answered ${out}"
  stop_server
  log "keto ${release}: ready ${body}, version ${ver}, check allowed"
  VERIFY_SUMMARY+=("${release} serve: read /health/ready 200 ${body}; write /health/ready 200; /version ${ver} (read and write); tuple written by ${KETO_TUPLE_BY}: check allowed")
}

# cmd_verify PRODUCT: every release of PRODUCT_RELEASES, oldest first, on one
# throwaway PostgreSQL: the new release on the old schema (not ready), migrate,
# serve (ready, version, a request that uses the database).
cmd_verify() {
  local product=$1
  local -a releases
  read -r -a releases <<<"$(product_releases "${product}")"
  ((${#releases[@]} > 0)) || die "${product^^}_RELEASES is empty"
  take_lock
  load_oci_lib
  ensure_pkgs postgresql curl util-linux
  local r
  for r in "${releases[@]}"; do
    ensure_product_binary "${product}" "${r}"
  done
  VERIFY_PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  [[ -x "${VERIFY_PG_BIN}/initdb" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  id postgres >/dev/null 2>&1 || die "user postgres missing (Debian's postgresql package creates it)"

  VERIFY_PRODUCT=${product}
  VERIFY_DB=${product}
  VERIFY_DIR="$(mktemp -d "/tmp/kuo-${product}-verify.XXXXXX")"
  chmod 0755 "${VERIFY_DIR}"
  CLEANUP_FUNCS+=(verify_cleanup)
  VERIFY_PG_PORT="$(free_port $(seq 55432 55500))" || die "no free port for PostgreSQL"
  VERIFY_DSN="postgres://postgres@127.0.0.1:${VERIFY_PG_PORT}/${VERIFY_DB}?sslmode=disable"
  VERIFY_SUMMARY=()
  VERIFY_MIGRATE_EXTRA=()

  install -d -o postgres -g postgres -m 0700 "${VERIFY_DIR}/data"
  install -d -o postgres -g postgres -m 0755 "${VERIFY_DIR}/sock"
  timed "postgres: initdb" runuser -u postgres -- "${VERIFY_PG_BIN}/initdb" -D "${VERIFY_DIR}/data" \
    -A trust -U postgres -E UTF8 --no-sync >"${VERIFY_DIR}/initdb.log" 2>&1 ||
    { cat "${VERIFY_DIR}/initdb.log" >&2; die "initdb failed"; }
  runuser -u postgres -- "${VERIFY_PG_BIN}/pg_ctl" -D "${VERIFY_DIR}/data" -l "${VERIFY_DIR}/sock/postgres.log" -w \
    -o "-p ${VERIFY_PG_PORT} -k ${VERIFY_DIR}/sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
    { cat "${VERIFY_DIR}/sock/postgres.log" >&2; die "PostgreSQL did not start"; }
  runuser -u postgres -- "${VERIFY_PG_BIN}/createdb" -h 127.0.0.1 -p "${VERIFY_PG_PORT}" "${VERIFY_DB}"
  local pgver
  pgver="$(runuser -u postgres -- "${VERIFY_PG_BIN}/psql" -X -t -A -h 127.0.0.1 -p "${VERIFY_PG_PORT}" -d "${VERIFY_DB}" -c 'SHOW server_version')"
  "verify_setup_${product}"
  log "postgres ${pgver} on 127.0.0.1:${VERIFY_PG_PORT} (${VERIFY_DIR}); $(product_title "${product}") ports ${VERIFY_PORTS[*]}"

  local start=${SECONDS} prev=""
  for r in "${releases[@]}"; do
    "verify_one_${product}" "${r}" "${prev}"
    prev=${r}
  done
  verify_cleanup
  log "verify-${product}: all checks passed in $(fmt_duration $((SECONDS - start))); throwaway PostgreSQL removed"
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
    verify-kratos | verify-hydra | verify-keto) cmd_verify "${cmd#verify-}" "$@" ;;
    pin-kratos | pin-hydra | pin-keto) cmd_pin "${cmd#pin-}" "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      die "unknown command '${cmd}' (build, list, load, verify-kratos|hydra|keto, pin-kratos|hydra|keto)"
      ;;
  esac
}

main "$@"
