# shellcheck shell=bash
#
# Write OCI image archives without Docker, a registry or any image builder.
# Source it, do not execute it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/oci.sh"
#
# Needs: tar (GNU), gzip, sha256sum, jq, find, sort, stat, mktemp.
#
# Functions:
#
#   oci_normalize_ref REF
#       Prints REF in the fully qualified form containerd's CRI plugin (and so
#       the kubelet) looks images up by:
#         busybox:local          -> docker.io/library/busybox:local
#         kratos                 -> docker.io/library/kratos:latest
#         example.com/a/b:1      -> example.com/a/b:1
#         registry.k8s.io/pause:3.10 stays as it is.
#       Pod specs may keep using the short name ("busybox:local"); the kubelet
#       normalises it the same way. Fails (status 1) on an invalid reference.
#
#   oci_archive_from_rootfs ROOTFS_DIR IMAGE_REF OUT_TAR [ENTRYPOINT_JSON] [USER]
#       Packs ROOTFS_DIR as a single-layer image and writes an OCI image layout
#       archive (oci-layout, index.json, blobs/sha256/...) to OUT_TAR, replacing
#       it atomically. Load it with `ctr -n k8s.io images import OUT_TAR` (or
#       `hack/local-cluster.sh load-image OUT_TAR`); no --base-name or
#       --all-platforms is needed.
#         ENTRYPOINT_JSON  JSON array, e.g. '["/usr/bin/kratos"]'; "" or "null"
#                          for none.
#         USER             e.g. "65532:65532" or "10000"; "" for none (root).
#       Optional environment:
#         OCI_CMD          JSON array for Cmd (default: none)
#         OCI_ENV          JSON array of "KEY=VALUE" strings
#                          (default: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
#         OCI_WORKDIR      WorkingDir (default "/")
#         OCI_LABELS       JSON object of string labels (default: none)
#         OCI_EXPOSED_PORTS JSON array such as '["4433/tcp","4434/tcp"]' (default: none)
#         OCI_ARCH         architecture (default: the host's, e.g. amd64)
#         OCI_OS           os (default linux)
#         OCI_PRESERVE_OWNERSHIP=1  keep the numeric uid/gid of the files in
#                          ROOTFS_DIR (default: every entry is owned by 0:0).
#                          File modes are always kept as they are.
#         SOURCE_DATE_EPOCH mtime of every file and "created" of the image
#                          (default 0, i.e. 1970-01-01T00:00:00Z).
#       Reproducible: entries are sorted by name (C locale), ownership is
#       numeric, every mtime is SOURCE_DATE_EPOCH, gzip stores no name or time,
#       and the JSON documents are compact with a fixed key order. The same
#       rootfs (same contents, modes, and with OCI_PRESERVE_OWNERSHIP the same
#       owners) and arguments give a byte-identical archive.
#       The index.json entry carries both annotations that importers read:
#         io.containerd.image.name           = the normalised full reference
#         org.opencontainers.image.ref.name  = the tag
#       (containerd 1.6's `ctr images import` ignores a full reference in
#       ref.name unless --base-name matches it, and only names the image from
#       io.containerd.image.name.)
#
#   oci_archive_image_names OUT_TAR
#       Prints the image names recorded in an OCI archive's index.json (one a line).
#
#   oci_rootfs_add_user ROOTFS_DIR NAME UID GID [HOME]
#       Creates or extends ROOTFS_DIR/etc/passwd and etc/group with a root entry
#       (if absent) and the given user and group; creates HOME (default
#       /home/NAME) owned by UID:GID with mode 0755, and /tmp with mode 1777.
#       Use with OCI_PRESERVE_OWNERSHIP=1 so HOME keeps its owner in the image.

if [[ -n "${_KUO_OCI_SH_LOADED:-}" ]]; then
  return 0
fi
_KUO_OCI_SH_LOADED=1

oci_normalize_ref() {
  local ref=${1:-} name tag="" digest="" last first
  [[ -n "${ref}" ]] || { echo "oci_normalize_ref: empty reference" >&2; return 1; }
  if [[ "${ref}" == *@* ]]; then
    digest=${ref#*@}
    ref=${ref%%@*}
  fi
  last=${ref##*/}
  if [[ "${last}" == *:* ]]; then
    tag=${last##*:}
    name=${ref%:*}
  else
    name=${ref}
  fi
  first=${name%%/*}
  if [[ "${name}" != */* ]] || [[ "${first}" != *.* && "${first}" != *:* && "${first}" != localhost ]]; then
    name=docker.io/${name}
  fi
  if [[ "${name}" == docker.io/* && "${name#docker.io/}" != */* ]]; then
    name=docker.io/library/${name#docker.io/}
  fi
  if [[ -z "${tag}" && -z "${digest}" ]]; then
    tag=latest
  fi
  # Domain may carry a port; the path must be lowercase.
  if ! [[ "${name#*/}" =~ ^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$ ]]; then
    echo "oci_normalize_ref: invalid repository name in '${1}' (lowercase letters, digits, . _ - and / only)" >&2
    return 1
  fi
  if [[ -n "${tag}" ]] && ! [[ "${tag}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    echo "oci_normalize_ref: invalid tag in '${1}'" >&2
    return 1
  fi
  if [[ -n "${digest}" ]] && ! [[ "${digest}" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "oci_normalize_ref: invalid digest in '${1}'" >&2
    return 1
  fi
  printf '%s%s%s\n' "${name}" "${tag:+:${tag}}" "${digest:+@${digest}}"
}

_oci_host_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    ppc64le) echo ppc64le ;;
    s390x) echo s390x ;;
    *) uname -m ;;
  esac
}

# Runs in a subshell so that errexit and the cleanup trap stay local.
oci_archive_from_rootfs() (
  set -euo pipefail
  if (($# < 3 || $# > 5)); then
    echo "usage: oci_archive_from_rootfs ROOTFS_DIR IMAGE_REF OUT_TAR [ENTRYPOINT_JSON] [USER]" >&2
    exit 2
  fi
  local rootfs=$1 ref=$2 out=$3 entrypoint=${4:-null} user=${5:-}
  local c
  for c in tar gzip sha256sum jq find sort stat mktemp; do
    command -v "${c}" >/dev/null 2>&1 || { echo "oci_archive_from_rootfs: ${c} not found" >&2; exit 1; }
  done
  [[ -d "${rootfs}" ]] || { echo "oci_archive_from_rootfs: not a directory: ${rootfs}" >&2; exit 1; }
  [[ "${ref}" != *@* ]] || { echo "oci_archive_from_rootfs: a digest reference cannot name a new image: ${ref}" >&2; exit 1; }

  local name tag
  name=$(oci_normalize_ref "${ref}")
  tag=${name##*:}

  [[ -n "${entrypoint}" ]] || entrypoint=null
  local cmd=${OCI_CMD:-null}
  local env=${OCI_ENV:-'["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'}
  local labels=${OCI_LABELS:-null}
  local ports=${OCI_EXPOSED_PORTS:-null}
  local workdir=${OCI_WORKDIR:-/}
  local arch=${OCI_ARCH:-$(_oci_host_arch)}
  local os=${OCI_OS:-linux}
  local epoch=${SOURCE_DATE_EPOCH:-0}
  [[ "${epoch}" =~ ^[0-9]+$ ]] || { echo "oci_archive_from_rootfs: SOURCE_DATE_EPOCH must be an integer" >&2; exit 1; }
  local created
  created=$(date -u -d "@${epoch}" +%Y-%m-%dT%H:%M:%SZ)

  jq -e 'type == "array" and all(type == "string")' <<<"${entrypoint}" >/dev/null 2>&1 || [[ "${entrypoint}" == null ]] ||
    { echo "oci_archive_from_rootfs: ENTRYPOINT_JSON must be a JSON array of strings: ${entrypoint}" >&2; exit 1; }
  jq -e 'type == "array" and all(type == "string")' <<<"${cmd}" >/dev/null 2>&1 || [[ "${cmd}" == null ]] ||
    { echo "oci_archive_from_rootfs: OCI_CMD must be a JSON array of strings: ${cmd}" >&2; exit 1; }
  jq -e 'type == "array" and all(type == "string" and contains("="))' <<<"${env}" >/dev/null 2>&1 ||
    { echo "oci_archive_from_rootfs: OCI_ENV must be a JSON array of \"KEY=VALUE\" strings: ${env}" >&2; exit 1; }
  jq -e 'type == "object" and all(.[]; type == "string")' <<<"${labels}" >/dev/null 2>&1 || [[ "${labels}" == null ]] ||
    { echo "oci_archive_from_rootfs: OCI_LABELS must be a JSON object of strings: ${labels}" >&2; exit 1; }
  jq -e 'type == "array" and all(type == "string")' <<<"${ports}" >/dev/null 2>&1 || [[ "${ports}" == null ]] ||
    { echo "oci_archive_from_rootfs: OCI_EXPOSED_PORTS must be a JSON array such as [\"4433/tcp\"]: ${ports}" >&2; exit 1; }

  local outdir
  outdir=$(cd "$(dirname "${out}")" && pwd -P) || { echo "oci_archive_from_rootfs: output directory missing: ${out}" >&2; exit 1; }
  out="${outdir}/$(basename "${out}")"

  local work
  work=$(mktemp -d "${outdir}/.oci-build.XXXXXX")
  trap 'rm -rf "${work}"' EXIT
  local layout="${work}/layout"
  mkdir -p "${layout}/blobs/sha256"

  # 1. The layer: an uncompressed tar (its digest is the diff_id), then gzip.
  local owner_opts=(--owner=0 --group=0)
  [[ "${OCI_PRESERVE_OWNERSHIP:-0}" == 1 ]] && owner_opts=()
  (cd "${rootfs}" && find . -mindepth 1 -printf '%P\0') | LC_ALL=C sort -z >"${work}/files"
  LC_ALL=C tar -C "${rootfs}" --null --no-recursion --verbatim-files-from -T "${work}/files" \
    --format=gnu --numeric-owner "${owner_opts[@]}" --mtime="@${epoch}" \
    --no-acls --no-xattrs --no-selinux -cf "${work}/layer.tar"
  local diff_id
  diff_id=$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)
  gzip -n -6 -c "${work}/layer.tar" >"${work}/layer.tar.gz"
  rm -f "${work}/layer.tar"
  local layer_digest layer_size
  layer_digest=$(sha256sum "${work}/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "${work}/layer.tar.gz")
  mv "${work}/layer.tar.gz" "${layout}/blobs/sha256/${layer_digest}"

  # 2. The image configuration.
  jq -n -c -j \
    --arg created "${created}" --arg arch "${arch}" --arg os "${os}" \
    --arg user "${user}" --arg workdir "${workdir}" --arg diff_id "sha256:${diff_id}" \
    --argjson entrypoint "${entrypoint}" --argjson cmd "${cmd}" --argjson env "${env}" \
    --argjson labels "${labels}" --argjson ports "${ports}" '
    {
      created: $created,
      architecture: $arch,
      os: $os,
      config: (
        {}
        + (if $user != "" then {User: $user} else {} end)
        + (if $ports != null then {ExposedPorts: ($ports | map({(.): {}}) | add // {})} else {} end)
        + {Env: $env}
        + (if $entrypoint != null then {Entrypoint: $entrypoint} else {} end)
        + (if $cmd != null then {Cmd: $cmd} else {} end)
        + {WorkingDir: $workdir}
        + (if $labels != null then {Labels: $labels} else {} end)
      ),
      rootfs: {type: "layers", diff_ids: [$diff_id]},
      history: [{created: $created, created_by: "hack/lib/oci.sh oci_archive_from_rootfs"}]
    }' >"${work}/config.json"
  local config_digest config_size
  config_digest=$(sha256sum "${work}/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "${work}/config.json")
  mv "${work}/config.json" "${layout}/blobs/sha256/${config_digest}"

  # 3. The manifest.
  jq -n -c -j \
    --arg cd "sha256:${config_digest}" --argjson cs "${config_size}" \
    --arg ld "sha256:${layer_digest}" --argjson ls "${layer_size}" '
    {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}]
    }' >"${work}/manifest.json"
  local manifest_digest manifest_size
  manifest_digest=$(sha256sum "${work}/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "${work}/manifest.json")
  mv "${work}/manifest.json" "${layout}/blobs/sha256/${manifest_digest}"

  # 4. index.json and oci-layout.
  jq -n -c -j \
    --arg md "sha256:${manifest_digest}" --argjson ms "${manifest_size}" \
    --arg arch "${arch}" --arg os "${os}" --arg name "${name}" --arg tag "${tag}" '
    {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $md,
        size: $ms,
        platform: {architecture: $arch, os: $os},
        annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}
      }]
    }' >"${layout}/index.json"
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"${layout}/oci-layout"

  # 5. The archive itself, just as reproducible.
  find "${layout}" -type d -exec chmod 0755 {} +
  find "${layout}" -type f -exec chmod 0644 {} +
  (cd "${layout}" && find . -mindepth 1 -printf '%P\0') | LC_ALL=C sort -z >"${work}/layout-files"
  LC_ALL=C tar -C "${layout}" --null --no-recursion --verbatim-files-from -T "${work}/layout-files" \
    --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@${epoch}" \
    --no-acls --no-xattrs --no-selinux -cf "${work}/image.tar"
  chmod 0644 "${work}/image.tar"
  mv -f "${work}/image.tar" "${out}"
  echo "oci_archive_from_rootfs: wrote ${out}: ${name} manifest sha256:${manifest_digest} config sha256:${config_digest} layer ${layer_size} bytes" >&2
)

oci_archive_image_names() {
  local tarball=${1:?usage: oci_archive_image_names OUT_TAR}
  tar -xOf "${tarball}" index.json 2>/dev/null |
    jq -r '.manifests[]? | .annotations["io.containerd.image.name"] // .annotations["org.opencontainers.image.ref.name"] // empty'
}

oci_rootfs_add_user() {
  if (($# < 4 || $# > 5)); then
    echo "usage: oci_rootfs_add_user ROOTFS_DIR NAME UID GID [HOME]" >&2
    return 2
  fi
  local rootfs=$1 name=$2 uid=$3 gid=$4 home=${5:-/home/$2}
  [[ "${uid}" =~ ^[0-9]+$ && "${gid}" =~ ^[0-9]+$ ]] || { echo "oci_rootfs_add_user: UID and GID must be numbers" >&2; return 1; }
  mkdir -p "${rootfs}/etc" "${rootfs}/tmp" || return 1
  chmod 1777 "${rootfs}/tmp"
  touch "${rootfs}/etc/passwd" "${rootfs}/etc/group"
  grep -q '^root:' "${rootfs}/etc/passwd" || echo 'root:x:0:0:root:/root:/bin/sh' >>"${rootfs}/etc/passwd"
  grep -q '^root:' "${rootfs}/etc/group" || echo 'root:x:0:' >>"${rootfs}/etc/group"
  grep -q "^${name}:" "${rootfs}/etc/passwd" || echo "${name}:x:${uid}:${gid}:${name}:${home}:/sbin/nologin" >>"${rootfs}/etc/passwd"
  grep -q "^[^:]*:[^:]*:${gid}:" "${rootfs}/etc/group" || echo "${name}:x:${gid}:" >>"${rootfs}/etc/group"
  chmod 0644 "${rootfs}/etc/passwd" "${rootfs}/etc/group"
  mkdir -p "${rootfs}${home}"
  chown "${uid}:${gid}" "${rootfs}${home}"
  chmod 0755 "${rootfs}${home}"
}
