#!/usr/bin/env bash
#
# Builds the operator's container image without Docker, a registry or any image builder, with the
# layout of the repository's Containerfile: the Quarkus fast-jar (target/quarkus-app: lib/, app/,
# quarkus/, quarkus-run.jar) in /deployments, a Java 17 runtime, user 185, port 8080,
# ENTRYPOINT ["java", "-jar", "/deployments/quarkus-run.jar"] with JDK_JAVA_OPTIONS.
#
#   hack/operator-image.sh [--no-build] [--load] [--tag TAG]
#       1. ./mvnw -B -q -ntp package -DskipTests (skipped with --no-build: target/quarkus-app
#          must exist, e.g. because `mvn verify` has just packaged it);
#       2. the Java runtime: Debian bookworm (debootstrap minbase) with openjdk-17-jre-headless and
#          the user 185, built once and cached in ${KUO_CACHE}/operator-image/;
#       3. the image: that runtime plus /deployments, written as an OCI archive
#          ${KUO_CACHE}/images/kratos-upgrade-operator_<TAG>.tar naming
#          kratos-upgrade-operator:<TAG> and kratos-upgrade-operator:latest (hack/lib/oci.sh).
#          Skipped when the application and the runtime are unchanged since the last archive.
#       --load imports the archive into the local cluster's containerd (hack/local-cluster.sh
#       load-image), unless that image is already there with the same digest.
#       Prints the archive path on stdout.
#   hack/operator-image.sh --print-archive [--tag TAG]
#       prints the archive path; exit 1 if it is not built.
#
#   TAG defaults to the appVersion of helm/kratos-upgrade-operator/Chart.yaml, so the chart's
#   default image (kratos-upgrade-operator:<appVersion>, pullPolicy IfNotPresent) is this one.
#
# Environment:
#   KUO_CACHE       cache root (default ~/.cache/kratos-upgrade-operator)
#   DEBIAN_MIRROR   Debian mirror for debootstrap (default: from /etc/apt/sources.list*)
#   KUO_STATE       local cluster state dir, for --load (default /var/lib/kratos-upgrade-operator/cluster)
#
# The Debian helpers (mirror, chroot, package installation, the .deb cache of debootstrap, the
# OCI archive naming, containerd checks) are hack/images.sh's: this script sources its functions.
# Logs go to stderr; stdout only carries the archive path.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Bump when the way the runtime or the image is assembled changes (forces a rebuild).
OPERATOR_IMAGE_RECIPE=1
JRE_PACKAGES=(openjdk-17-jre-headless ca-certificates)
APP_UID=185
APP_GID=185
JAVA_OPTIONS='-XX:MaxRAMPercentage=75.0 -XX:TieredStopAtLevel=1 -XX:TrimNativeHeapInterval=5000 -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40 -XX:MaxNewSize=32m -XX:+ExitOnOutOfMemoryError -Djava.util.logging.manager=org.jboss.logmanager.LogManager'
CHART_YAML="${KUO_ROOT}/helm/kratos-upgrade-operator/Chart.yaml"
APP_DIR="${KUO_ROOT}/target/quarkus-app"

# ---------------------------------------------------------------------------
# hack/images.sh's functions.

load_images_functions() {
  local f="${KUO_ROOT}/hack/images.sh"
  [[ -r "${f}" ]] || die "missing ${f}"
  if grep -Eq '^[^#]*BASH_SOURCE\[0\]\}?"? == "?\$\{?0\}?"?' "${f}"; then
    # images.sh only runs its main when executed: source it as it is.
    # shellcheck source=hack/images.sh
    source "${f}"
  else
    # images.sh runs `main "$@"` unconditionally on its last line: source everything but that
    # line, with its own directory resolved (BASH_SOURCE of a process substitution is /dev/fd/N).
    # shellcheck disable=SC1090,SC2016 # the $(...) in the sed script is text to match
    source <(sed -e 's|\$(dirname "\${BASH_SOURCE\[0\]}")|'"${KUO_ROOT}/hack"'|g' -e '/^main "\$@"$/d' "${f}")
  fi
  local fn
  for fn in ensure_pkgs load_oci_lib debian_mirror debian_security_mirror chroot_run unmount_under cleanup \
    new_work_dir sha256_of archive_size add_archive_name archive_current write_stamp in_cluster cluster_ctr; do
    declare -F "${fn}" >/dev/null || die "hack/images.sh no longer defines ${fn}, which ${0##*/} uses"
  done
  [[ -n "${DEBIAN_SUITE:-}" && -n "${DEBS_DIR:-}" && -n "${IMAGES_DIR:-}" ]] ||
    die "hack/images.sh no longer sets DEBIAN_SUITE, DEBS_DIR or IMAGES_DIR"
  # Our own work directory and lock: images.sh's cleanup() empties WORK_ROOT when it takes its lock.
  WORK_ROOT="${KUO_CACHE}/operator-image-work"
  CLEANUP_PIDS=()
  CLEANUP_FUNCS=()
}

take_operator_lock() {
  mkdir -p "${KUO_CACHE}"
  exec 6>"${KUO_CACHE}/.operator-image.lock"
  if ! flock -n 6; then
    log "another hack/operator-image.sh run holds ${KUO_CACHE}/.operator-image.lock, waiting for it"
    flock 6
  fi
  cleanup
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ---------------------------------------------------------------------------
# The Java runtime (cached).

JRE_ROOT="${KUO_CACHE}/operator-image"

jre_stamp() {
  printf 'recipe=%s\nsuite=%s\npackages=%s\nuser=%s:%s\nmirror=%s\n' "${OPERATOR_IMAGE_RECIPE}" \
    "${DEBIAN_SUITE}" "${JRE_PACKAGES[*]}" "${APP_UID}" "${APP_GID}" "$(debian_mirror)"
}

jre_rootfs_dir() {
  printf '%s/jre-rootfs-%s' "${JRE_ROOT}" "$(jre_stamp | sha256sum | cut -c1-16)"
}

# debian_rootfs ROOT PACKAGE...: a minimal Debian ${DEBIAN_SUITE} in ROOT with PACKAGE... installed
# and no documentation. (The same steps as hack/images.sh's build_db_tools_image; worth a shared
# function there.)
debian_rootfs() {
  local r=$1 mirror security arch work
  shift
  ensure_pkgs debootstrap util-linux mount
  require_cmd debootstrap chroot mount umount mountpoint dpkg
  mirror="$(debian_mirror)"
  security="$(debian_security_mirror "${mirror}")"
  arch="$(dpkg --print-architecture)"
  work="$(dirname "${r}")"
  mkdir -p "${DEBS_DIR}/${DEBIAN_SUITE}-${arch}"
  if ! timed "runtime: debootstrap ${DEBIAN_SUITE} (minbase) from ${mirror}" \
    debootstrap --variant=minbase --arch="${arch}" --cache-dir="${DEBS_DIR}/${DEBIAN_SUITE}-${arch}" \
    "${DEBIAN_SUITE}" "${r}" "${mirror}" >"${work}/debootstrap.log" 2>&1; then
    tail -n 30 "${work}/debootstrap.log" >&2
    die "runtime: debootstrap failed (log above)"
  fi
  cat >"${r}/etc/apt/sources.list" <<EOF
deb ${mirror} ${DEBIAN_SUITE} main
deb ${mirror} ${DEBIAN_SUITE}-updates main
deb ${security} ${DEBIAN_SUITE}-security main
EOF
  cat >"${r}/etc/dpkg/dpkg.cfg.d/01-kuo-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
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
  timed "runtime: apt-get update" chroot_run "${r}" apt-get update >"${work}/apt.log" 2>&1 ||
    { tail -n 30 "${work}/apt.log" >&2; die "runtime: apt-get update in the chroot failed"; }
  timed "runtime: apt-get install $*" chroot_run "${r}" apt-get install -y --no-install-recommends "$@" >>"${work}/apt.log" 2>&1 ||
    { tail -n 30 "${work}/apt.log" >&2; die "runtime: apt-get install in the chroot failed"; }
  chroot_run "${r}" apt-get clean
}

# debian_rootfs_slim ROOT: unmounts and removes what an image does not need.
debian_rootfs_slim() {
  local r=$1
  unmount_under "${r}"
  rm -rf "${r}/var/lib/apt/lists/"* "${r}/var/cache/apt/"* "${r}/var/cache/debconf/"*-old \
    "${r}/var/lib/dpkg/"*-old "${r}/var/cache/ldconfig/aux-cache" "${r}/debootstrap" \
    "${r}/usr/share/man/"* "${r}/usr/share/info/"* "${r}/usr/share/lintian" \
    "${r}/usr/sbin/policy-rc.d" "${r}/root/.bash_history" "${r:?}/dev/"*
  find "${r}/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  find "${r}/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "${r}/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "${r}/var/log" -type f -delete
  : >"${r}/etc/resolv.conf"
  printf 'localhost\n' >"${r}/etc/hostname"
  chmod 1777 "${r}/tmp"
  rm -rf "${r}/tmp/"* "${r}/var/tmp/"*
}

build_jre_rootfs() {
  local dst=$1 work r
  work="$(new_work_dir jre)"
  r="${work}/rootfs"
  debian_rootfs "${r}" "${JRE_PACKAGES[@]}"

  # The application user of Quarkus images (uid 185); /deployments belongs to root and is
  # read-only for it, as is everything but /tmp.
  chroot_run "${r}" groupadd --system --gid "${APP_GID}" quarkus
  chroot_run "${r}" useradd --system --uid "${APP_UID}" --gid "${APP_GID}" --home-dir /deployments \
    --no-create-home --shell /usr/sbin/nologin quarkus
  mkdir -p "${r}/deployments"
  chmod 0755 "${r}/deployments"

  local v
  v="$(chroot --userspec="${APP_UID}:${APP_GID}" "${r}" /usr/bin/java -version 2>&1)" ||
    die "runtime: java does not run in the chroot as ${APP_UID}: ${v}"
  grep -q 'version "17' <<<"${v}" || die "runtime: unexpected java -version: ${v}"
  log "runtime: $(head -n1 <<<"${v}")"
  debian_rootfs_slim "${r}"
  # Class data sharing archive and other JDK caches stay as Debian ships them.

  jre_stamp >"${r}/.kuo-jre-stamp"
  mkdir -p "${JRE_ROOT}"
  rm -rf "${dst}"
  mv "${r}" "${dst}"
  rm -rf "${work}"
  log "runtime: ${dst} ($(du -sh "${dst}" | cut -f1))"
}

ensure_jre_rootfs() {
  local dst
  dst="$(jre_rootfs_dir)"
  if [[ -f "${dst}/.kuo-jre-stamp" && "$(cat "${dst}/.kuo-jre-stamp")" == "$(jre_stamp)" ]]; then
    log "runtime: cached (${dst})"
  else
    timed "runtime: Debian ${DEBIAN_SUITE} with ${JRE_PACKAGES[*]}" build_jre_rootfs "${dst}"
  fi
  # Older runtimes (another recipe or mirror) are not needed any more.
  find "${JRE_ROOT}" -mindepth 1 -maxdepth 1 -type d -name 'jre-rootfs-*' ! -path "${dst}" -exec rm -rf {} +
  JRE_ROOTFS="${dst}"
}

# ---------------------------------------------------------------------------
# The image.

archive_path() { printf '%s/kratos-upgrade-operator_%s.tar' "${IMAGES_DIR}" "$1"; }

# A copy of target/quarkus-app to build from: the tree is shared with whoever runs Maven next, and
# a Quarkus build replaces it while it runs.
snapshot_app() {
  local d i
  d="$(new_work_dir app)"
  for i in 1 2 3 4 5 6; do
    rm -rf "${d}/app"
    if [[ -f "${APP_DIR}/quarkus-run.jar" ]] && cp -R "${APP_DIR}" "${d}/app" 2>/dev/null &&
      [[ -f "${d}/app/quarkus-run.jar" && -d "${d}/app/lib" && -d "${d}/app/app" && -d "${d}/app/quarkus" ]]; then
      APP_SNAPSHOT="${d}/app"
      return 0
    fi
    log "target/quarkus-app is incomplete (a Maven build running?); retrying in 5s"
    sleep 5
  done
  die "no complete Quarkus application in ${APP_DIR}; run without --no-build (or ./mvnw package)"
}

# Content of the application: relative path and checksum of every file, sorted.
app_digest() {
  (cd "${APP_SNAPSHOT}" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

image_stamp() {
  printf 'recipe=%s\ntag=%s\nruntime=%s\napp=%s\noci.sh=%s\njava-options=%s\n' "${OPERATOR_IMAGE_RECIPE}" "$1" \
    "$(jre_stamp | sha256sum | cut -d' ' -f1)" "$(app_digest)" "$(sha256_of "${OCI_LIB}")" "${JAVA_OPTIONS}"
}

build_image() {
  local tag=$1 tar=$2 work r
  work="$(new_work_dir image)"
  r="${work}/rootfs"
  # Hard links: the cached runtime is not copied (nothing below changes its files).
  cp -al "${JRE_ROOTFS}" "${r}"
  rm -f "${r}/.kuo-jre-stamp"
  # The 4 parts of the fast-jar, as the Containerfile copies them; owned by root, read-only.
  rm -rf "${r}/deployments"
  mkdir -p "${r}/deployments"
  cp -R --no-preserve=ownership "${APP_SNAPSHOT}/lib" "${APP_SNAPSHOT}/app" "${APP_SNAPSHOT}/quarkus" \
    "${APP_SNAPSHOT}/quarkus-run.jar" "${r}/deployments/"
  chown -R 0:0 "${r}/deployments"
  find "${r}/deployments" -type d -exec chmod 0755 {} +
  find "${r}/deployments" -type f -exec chmod 0644 {} +

  mkdir -p "${IMAGES_DIR}"
  local labels version
  version="$(app_version)"
  labels="$(jq -n -c --arg v "${version}" --arg t "${tag}" '{
    "org.opencontainers.image.title": "kratos-upgrade-operator",
    "org.opencontainers.image.description": "Kubernetes operator that upgrades Ory Kratos safely",
    "org.opencontainers.image.version": $v,
    "io.kratos-upgrade.image.tag": $t,
    "io.kratos-upgrade.image.built-by": "hack/operator-image.sh"}')"
  OCI_PRESERVE_OWNERSHIP=1 OCI_WORKDIR=/deployments OCI_EXPOSED_PORTS='["8080/tcp"]' OCI_LABELS="${labels}" \
    OCI_ENV="$(jq -n -c --arg o "${JAVA_OPTIONS}" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8", "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-'"$(dpkg --print-architecture)"'", "JDK_JAVA_OPTIONS=" + $o]')" \
    oci_archive_from_rootfs "${r}" "kratos-upgrade-operator:${tag}" "${tar}" \
    '["java","-jar","/deployments/quarkus-run.jar"]' "${APP_UID}:${APP_GID}"
  [[ "${tag}" == latest ]] || add_archive_name "${tar}" "kratos-upgrade-operator:latest"
  rm -rf "${work}"
}

app_version() {
  local v
  v="$(awk -F'"' '/^appVersion:/ { print $2; exit }' "${CHART_YAML}" 2>/dev/null)"
  [[ -n "${v}" ]] || v="$(awk '/^appVersion:/ { print $2; exit }' "${CHART_YAML}" 2>/dev/null)"
  [[ -n "${v}" ]] || die "cannot read appVersion from ${CHART_YAML}"
  printf '%s' "${v}"
}

load_into_cluster() {
  local tar=$1
  [[ -f "${KUO_STATE}/env" ]] || die "the local cluster is not set up (${KUO_STATE}/env missing); run hack/local-cluster.sh up"
  cluster_ctr version >/dev/null 2>&1 ||
    die "containerd of the local cluster is not reachable; run hack/local-cluster.sh up"
  if in_cluster "${tar}"; then
    log "image already in the cluster's containerd ($(oci_archive_image_names "${tar}" | tr '\n' ' '))"
    return 0
  fi
  timed "load into the local cluster" "${KUO_ROOT}/hack/local-cluster.sh" load-image "${tar}"
}

main() {
  local build=1 load=0 print=0 tag=""
  while (($# > 0)); do
    case "$1" in
      --no-build) build=0 ;;
      --load) load=1 ;;
      --print-archive) print=1 ;;
      --tag)
        tag=${2:?--tag needs a value}
        shift
        ;;
      --tag=*) tag=${1#--tag=} ;;
      -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 0
        ;;
      *) die "unknown argument '$1' (see $0 --help)" ;;
    esac
    shift
  done
  load_images_functions
  [[ -n "${tag}" ]] || tag="$(app_version)"
  [[ "${tag}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "invalid tag '${tag}'"
  local tar
  tar="$(archive_path "${tag}")"
  if ((print)); then
    [[ -f "${tar}" ]] || { log "not built: ${tar} (run $0)"; exit 1; }
    printf '%s\n' "${tar}"
    return 0
  fi

  local start=${SECONDS}
  cd "${KUO_ROOT}"
  if ((build)); then
    require_cmd java
    timed "maven package" ./mvnw -B -q -ntp package -DskipTests >&2
  fi
  take_operator_lock
  load_oci_lib
  snapshot_app
  ensure_jre_rootfs
  local want
  want="$(image_stamp "${tag}")"
  if archive_current "${tar}" "${want}"; then
    log "image up to date: ${tar} ($(archive_size "${tar}"))"
  else
    timed "image kratos-upgrade-operator:${tag}" build_image "${tag}" "${tar}"
    write_stamp "${tar}" "${want}"
    log "wrote ${tar} ($(archive_size "${tar}"); uncompressed $(du -sh --apparent-size "${JRE_ROOTFS}" | cut -f1) runtime + $(du -sh --apparent-size "${APP_SNAPSHOT}" | cut -f1) application)"
  fi
  ((load)) && load_into_cluster "${tar}"
  log "done in $(fmt_duration $((SECONDS - start)))"
  printf '%s\n' "${tar}"
}

main "$@"
