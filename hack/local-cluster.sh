#!/usr/bin/env bash
#
# A real single-node Kubernetes on this machine, for end-to-end tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
# (the binaries from hack/k8s-binaries.sh), Debian's containerd + runc + CNI
# plugins, and Debian's PostgreSQL 15 on the host as the "managed" database
# (and Debian's MariaDB 10.11 beside it, for Kratos's MySQL dialect).
# No Docker, kind, k3s, registry or internet: images are OCI archives imported
# into containerd (see load-image, hack/lib/oci.sh).
#
# Usage (as root):
#   hack/local-cluster.sh up [--no-smoke]
#        Start everything that is not running, wait for the node to be Ready
#        and a pod to run. Idempotent: when everything is up already it only
#        verifies and returns within about a second. The LAST stdout line is
#        the admin kubeconfig path; all logging goes to stderr.
#   hack/local-cluster.sh down [--purge]
#        Stop what `up` started and undo its side effects on the host
#        (mounts, iptables chains, cni0, the service route, kubepods cgroups,
#        sysctls, directories it created outside the state dir). Keeps the
#        state dir (PKI, etcd data, images, database) and the logs; --purge
#        also deletes the state dir except logs/.
#   hack/local-cluster.sh status
#        Print what runs; exit 0 when everything is up, 3 otherwise.
#   hack/local-cluster.sh load-image ARCHIVE...
#        Import OCI image archives (or `docker save` archives) into containerd's
#        k8s.io namespace. Pods then use the image with imagePullPolicy Never or
#        IfNotPresent.
#   hack/local-cluster.sh env
#        Print `export KEY=value` lines for eval (the same as $KUO_STATE/env).
#   hack/local-cluster.sh recycle-pvs
#        Make Released local-backup PersistentVolumes Available again (wipes
#        their directories). `up` does this too.
#   hack/local-cluster.sh fault stop|kill COMPONENT
#        For reliability tests: stop one component (SIGTERM, or SIGKILL with
#        kill): kube-apiserver, kubelet, kube-controller-manager, kube-scheduler,
#        kube-proxy, etcd, containerd, postgres or mariadb. `up` starts it again.
#   hack/local-cluster.sh fault small-volume NAME SIZE
#        A PersistentVolume of storage class local-backup-small backed by a tmpfs
#        of SIZE (e.g. 64k), labelled kuo.local/pv-dir=NAME: a backup volume that
#        fills up. `down` unmounts it.
#
# State, configuration and logs live under ONE directory:
#   KUO_STATE (default /var/lib/kratos-upgrade-operator/cluster)
#     env                 KEY=value lines (KUBECONFIG, CONTAINERD_SOCK, PG*...);
#                         read it with `set -a; . "$KUO_STATE/env"; set +a`
#     logs/<component>.log
#     pki/ kubeconfigs/ etcd/ containerd/ cni/ kubelet/ kube-proxy/ postgres/ mariadb/
#     volumes/pv-N/       the backing directories of the local-backup PVs
#     images/             the pause and busybox image archives built here
#     run/<component>.pid host/ (recorded sysctls and host state)
#
# Networking: the bridge cni0 holds 10.88.0.1/16, which is the node IP, the
# API server's address (https://10.88.0.1:6443) and where PostgreSQL listens
# for pods (10.88.0.1:5432). Pods get 10.88.0.0/16 addresses, Services
# 10.96.0.0/16 (kube-proxy, iptables mode). There is NO cluster DNS (no
# CoreDNS): reach Services by ClusterIP, use hostAliases, or environment
# variables injected by the kubelet (FOO_SERVICE_HOST).
#
# Environment (all optional):
#   KUO_STATE          state dir (see above)
#   KUO_NODE_NAME      node name (default kuo-node)
#   KUO_PG_PORT        PostgreSQL port (default 5432)
#   KUO_MYSQL_PORT     MariaDB port (default 3306)
#   KUO_PV_COUNT       number of local-backup PersistentVolumes (default 64: one per e2e test that
#                      backs up, with room for namespaces still being deleted)
#   KUO_PAUSE_IMAGE_TAR  an OCI archive of registry.k8s.io/pause:3.10 to use
#                      instead of building one from hack/cluster/pause.c
#   KUO_UP_TIMEOUT     seconds to wait for each start-up step (default 180)
#
# More (what tests can rely on, the env file, pitfalls): hack/cluster/README.md

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=hack/lib/oci.sh
source "${KUO_ROOT}/hack/lib/oci.sh"

KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"
S="${KUO_STATE}"
NODE_NAME="${KUO_NODE_NAME:-kuo-node}"
NODE_IP=10.88.0.1
POD_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
APISERVER_PORT=6443
APISERVER_URL="https://${NODE_IP}:${APISERVER_PORT}"
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
PG_PORT="${KUO_PG_PORT:-5432}"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
PV_COUNT="${KUO_PV_COUNT:-64}"
STORAGE_CLASS=local-backup
PAUSE_IMAGE=registry.k8s.io/pause:3.10
BUSYBOX_IMAGE=busybox:local
CNI_NETWORK=kuo-pods
UP_TIMEOUT="${KUO_UP_TIMEOUT:-180}"

LOGS="${S}/logs"
RUN="${S}/run"
PKI="${S}/pki"
KCFG="${S}/kubeconfigs"
ADMIN_KUBECONFIG="${KCFG}/admin.kubeconfig"
CTRD_DIR="${S}/containerd"
CONTAINERD_SOCK="${CTRD_DIR}/containerd.sock"
CTRD_STATE="${CTRD_DIR}/state"
CNI_CONF_DIR="${S}/cni/net.d"
CNI_IPAM_DIR="${S}/cni/networks"
KUBELET_DIR="${S}/kubelet"
PG_DIR="${S}/postgres"
PG_DATA="${PG_DIR}/data"
PG_SOCKET_DIR="${PG_DIR}/run"
MY_PORT="${KUO_MYSQL_PORT:-3306}"
MY_DIR="${S}/mariadb"
MY_DATA="${MY_DIR}/data"
MY_SOCKET="${MY_DIR}/run/mariadbd.sock"
HOST_DIR="${S}/host"
IMAGES_DIR="${S}/images"
VOLUMES_DIR="${S}/volumes"

# Packages `up` installs with apt when missing (checked with dpkg first).
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack openssl
  postgresql mariadb-server busybox-static iproute2 jq gcc libc6-dev procps util-linux curl)

# Sysctls that the kubelet, kube-proxy or the CNI bridge plugin may change;
# recorded before the first `up` and restored by `down`.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max
  net.ipv6.conf.all.forwarding net.ipv4.ip_forward)

# Paths outside the state dir that the components create; removed by `down`
# when they did not exist before `up`.
HOST_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni
  /run/netns /run/containerd /usr/libexec/kubernetes /dev/kmsg)

# Daemons in start order (postgres and mariadb are handled separately).
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

# ---------------------------------------------------------------------------
# helpers

BIN_DIR=""
bin_dir() {
  if [[ -z "${BIN_DIR}" ]]; then
    if ! BIN_DIR="$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir 2>/dev/null)"; then
      log "Kubernetes binaries not built yet: running hack/k8s-binaries.sh (cached afterwards)"
      "${KUO_ROOT}/hack/k8s-binaries.sh" >/dev/null
      BIN_DIR="$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir)"
    fi
  fi
  printf '%s\n' "${BIN_DIR}"
}

kc() {
  "${BIN_DIR}/kubectl" --kubeconfig "${ADMIN_KUBECONFIG}" --request-timeout=20s "$@"
}

ctr_() {
  ctr --address "${CONTAINERD_SOCK}" --namespace k8s.io "$@"
}

# expected executable basename for a component's pid check
component_exe() {
  case "$1" in
    postgres) echo postgres ;;
    mariadb) echo mariadbd ;;
    *) echo "$1" ;;
  esac
}

# pid_of COMPONENT: prints the recorded pid if that process is alive and still
# runs the expected executable (guards against pid reuse).
pid_of() {
  local name=$1 pidfile pid exe
  if [[ "${name}" == postgres ]]; then
    pidfile="${PG_DATA}/postmaster.pid"
  else
    pidfile="${RUN}/${name}.pid"
  fi
  [[ -r "${pidfile}" ]] || return 1
  pid=$(head -n1 "${pidfile}" 2>/dev/null) || return 1
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/${pid}/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}
  [[ "$(basename "${exe}")" == "$(component_exe "${name}")" ]] || return 1
  printf '%s\n' "${pid}"
}

alive() { pid_of "$1" >/dev/null 2>&1; }

# start_daemon NAME CMD...: runs CMD in its own session, output appended to
# logs/NAME.log, pid in run/NAME.pid.
start_daemon() {
  local name=$1
  shift
  printf '\n===== %s starting %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${name}" "$*" >>"${LOGS}/${name}.log"
  # 9>&-: the daemon must not inherit (and hold) our lock file descriptor
  setsid "$@" >>"${LOGS}/${name}.log" 2>&1 </dev/null 9>&- &
  echo $! >"${RUN}/${name}.pid"
  log "started ${name} (pid $!), log ${LOGS}/${name}.log"
}

# stop_pid NAME PID [TIMEOUT]: SIGTERM, wait, SIGKILL.
stop_pid() {
  local name=$1 pid=$2 timeout=${3:-20} i
  kill -TERM "${pid}" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    [[ -d "/proc/${pid}" ]] || { log "stopped ${name} (pid ${pid})"; return 0; }
    # a zombie child of ours counts as stopped
    [[ "$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null)" == Z ]] && { log "stopped ${name} (pid ${pid})"; return 0; }
    sleep 0.1
  done
  warn "${name} (pid ${pid}) did not stop after ${timeout}s: SIGKILL"
  kill -KILL "${pid}" 2>/dev/null || true
  sleep 0.2
}

stop_component() {
  local name=$1 timeout=${2:-20} pid
  if pid=$(pid_of "${name}"); then
    stop_pid "${name}" "${pid}" "${timeout}"
  fi
  rm -f "${RUN}/${name}.pid"
}

# wait_until DESC TIMEOUT COMPONENT CMD...: polls CMD every 0.25s; fails early
# (with the component's log tail) when COMPONENT ("-" for none) died.
wait_until() {
  local desc=$1 timeout=$2 comp=$3
  shift 3
  local start=${SECONDS}
  until "$@" >/dev/null 2>&1; do
    if [[ "${comp}" != - ]] && ! alive "${comp}"; then
      warn "${comp} exited while waiting for ${desc}; last log lines:"
      tail -n 30 "${LOGS}/${comp}.log" >&2 || true
      return 1
    fi
    if ((SECONDS - start >= timeout)); then
      warn "timed out after ${timeout}s waiting for ${desc}"
      [[ "${comp}" != - ]] && tail -n 30 "${LOGS}/${comp}.log" >&2
      return 1
    fi
    sleep 0.25
  done
}

port_busy() { # HOST PORT
  ss -Hltn "sport = :$2" 2>/dev/null | awk '{print $4}' | grep -Eq "^(\\*|0\\.0\\.0\\.0|\\[::\\]|${1//./\\.}):$2\$"
}

check_port_free() { # COMPONENT HOST PORT
  if port_busy "$2" "$3"; then
    die "$2:$3 is already in use by another process (needed by $1): $(ss -Hltnp "sport = :$3" | head -n 3)"
  fi
}

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    pkg_installed "${p}" || missing+=("${p}")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing with apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A temporary policy-rc.d keeps the packages' maintainer scripts from
  # starting their own services (Debian's containerd, the main PostgreSQL
  # cluster on port 5432) on a machine without systemd.
  local policy=/usr/sbin/policy-rc.d created_policy=0 rc=0
  if [[ ! -e "${policy}" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"${policy}"
    chmod 0755 "${policy}"
    created_policy=1
  fi
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
  ((created_policy)) && rm -f "${policy}"
  ((rc == 0)) || die "apt-get failed (exit ${rc})"
}

# ---------------------------------------------------------------------------
# host state: sysctls and paths created outside the state dir

record_host_state() {
  mkdir -p "${HOST_DIR}"
  if [[ ! -s "${HOST_DIR}/sysctl.saved" ]]; then
    local s v
    : >"${HOST_DIR}/sysctl.saved.tmp"
    for s in "${SYSCTLS[@]}"; do
      v=$(sysctl -n "${s}" 2>/dev/null) || continue
      printf '%s=%s\n' "${s}" "${v}" >>"${HOST_DIR}/sysctl.saved.tmp"
    done
    mv "${HOST_DIR}/sysctl.saved.tmp" "${HOST_DIR}/sysctl.saved"
    log "recorded host sysctls in ${HOST_DIR}/sysctl.saved"
  fi
  if [[ ! -e "${HOST_DIR}/paths.saved" ]]; then
    local p
    : >"${HOST_DIR}/paths.saved.tmp"
    for p in "${HOST_PATHS[@]}"; do
      [[ -e "${p}" || -L "${p}" ]] && printf '%s\n' "${p}" >>"${HOST_DIR}/paths.saved.tmp"
    done
    mv "${HOST_DIR}/paths.saved.tmp" "${HOST_DIR}/paths.saved"
  fi
}

restore_host_state() {
  if [[ -s "${HOST_DIR}/sysctl.saved" ]]; then
    local k v cur
    while IFS='=' read -r k v; do
      [[ -n "${k}" ]] || continue
      cur=$(sysctl -n "${k}" 2>/dev/null) || continue
      if [[ "${cur}" != "${v}" ]]; then
        sysctl -qw "${k}=${v}" >/dev/null 2>&1 && log "restored sysctl ${k}=${v} (was ${cur})" ||
          warn "could not restore sysctl ${k}=${v}"
      fi
    done <"${HOST_DIR}/sysctl.saved"
    rm -f "${HOST_DIR}/sysctl.saved"
  fi
  if [[ -e "${HOST_DIR}/paths.saved" ]]; then
    local p
    for p in "${HOST_PATHS[@]}"; do
      if ! grep -qxF "${p}" "${HOST_DIR}/paths.saved" && [[ -e "${p}" || -L "${p}" ]]; then
        if [[ "${p}" == /dev/kmsg ]]; then
          [[ -L "${p}" ]] && rm -f "${p}"
        else
          rm -rf "${p}" 2>/dev/null && log "removed ${p} (created by the cluster)" || warn "could not remove ${p}"
        fi
      fi
    done
    rm -f "${HOST_DIR}/paths.saved"
  fi
}

ensure_kmsg() {
  if [[ ! -e /dev/kmsg ]]; then
    ln -s /dev/console /dev/kmsg
    log "created /dev/kmsg -> /dev/console (the kubelet needs it)"
  fi
}

# ---------------------------------------------------------------------------
# PKI and kubeconfigs

OPENSSL_CNF=""
openssl_cnf() {
  OPENSSL_CNF="${PKI}/openssl.cnf"
  cat >"${OPENSSL_CNF}" <<'EOF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
}

# gen_cert NAME SUBJECT EKU [SAN]
gen_cert() {
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [[ -s "${PKI}/${name}.crt" && -s "${PKI}/${name}.key" ]] && return 0
  local ext="${PKI}/${name}.ext"
  {
    echo "basicConstraints = critical,CA:FALSE"
    echo "keyUsage = critical,digitalSignature"
    echo "extendedKeyUsage = ${eku}"
    echo "authorityKeyIdentifier = keyid"
    [[ -n "${san}" ]] && echo "subjectAltName = ${san}"
  } >"${ext}"
  # ECDSA P-256: a fraction of RSA's key generation time. KEY_TYPE=rsa for keys Java clients read
  # (fabric8 reads PKCS#8 keys as RSA unless told otherwise).
  local newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
  [[ "${KEY_TYPE:-ec}" == rsa ]] && newkey=(-newkey rsa:2048)
  openssl req -new "${newkey[@]}" -nodes -config "${OPENSSL_CNF}" -subj "${subj}" \
    -keyout "${PKI}/${name}.key" -out "${PKI}/${name}.csr" 2>/dev/null
  local ca=${CA_NAME:-ca}
  openssl x509 -req -in "${PKI}/${name}.csr" -CA "${PKI}/${ca}.crt" -CAkey "${PKI}/${ca}.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "${ext}" \
    -out "${PKI}/${name}.crt" 2>/dev/null
  chmod 0600 "${PKI}/${name}.key"
  rm -f "${PKI}/${name}.csr" "${ext}"
}

ensure_pki() {
  mkdir -p "${PKI}"
  chmod 0700 "${PKI}"
  openssl_cnf
  if [[ ! -s "${PKI}/ca.crt" || ! -s "${PKI}/ca.key" ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config "${OPENSSL_CNF}" -extensions v3_ca \
      -subj "/CN=kuo-local-cluster-ca" -days 3650 -sha256 \
      -keyout "${PKI}/ca.key" -out "${PKI}/ca.crt" 2>/dev/null
    chmod 0600 "${PKI}/ca.key"
  fi
  local host
  host=$(hostname)
  gen_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:${host},IP:127.0.0.1,IP:${KUBERNETES_SVC_IP},IP:${NODE_IP}"
  gen_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  KEY_TYPE=rsa gen_cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  gen_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  gen_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  gen_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  gen_cert kubelet-client "/O=system:nodes/CN=system:node:${NODE_NAME}" clientAuth
  gen_cert kubelet-serving "/CN=${NODE_NAME}" serverAuth "DNS:${NODE_NAME},DNS:${host},IP:${NODE_IP}"
  # front proxy (request-header authentication, as kubeadm sets it up): lets
  # the controller-manager and scheduler delegate authentication without
  # "missing content for CA bundle" errors, and makes API aggregation work.
  if [[ ! -s "${PKI}/front-proxy-ca.crt" || ! -s "${PKI}/front-proxy-ca.key" ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config "${OPENSSL_CNF}" -extensions v3_ca \
      -subj "/CN=kuo-local-front-proxy-ca" -days 3650 -sha256 \
      -keyout "${PKI}/front-proxy-ca.key" -out "${PKI}/front-proxy-ca.crt" 2>/dev/null
    chmod 0600 "${PKI}/front-proxy-ca.key"
  fi
  CA_NAME=front-proxy-ca gen_cert front-proxy-client "/CN=front-proxy-client" clientAuth
  if [[ ! -s "${PKI}/sa.key" ]]; then
    openssl genrsa -out "${PKI}/sa.key" 2048 2>/dev/null
    openssl rsa -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub" 2>/dev/null
    chmod 0600 "${PKI}/sa.key"
  fi
}

# write_kubeconfig FILE USER CERTNAME
write_kubeconfig() {
  local file=$1 user=$2 cert=$3
  local tmp="${file}.tmp"
  cat >"${tmp}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kuo-local
  cluster:
    server: ${APISERVER_URL}
    certificate-authority-data: $(base64 -w0 "${PKI}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 "${PKI}/${cert}.crt")
    client-key-data: $(base64 -w0 "${PKI}/${cert}.key")
contexts:
- name: kuo-local
  context:
    cluster: kuo-local
    user: ${user}
    namespace: default
current-context: kuo-local
EOF
  chmod 0600 "${tmp}"
  mv "${tmp}" "${file}"
}

ensure_kubeconfigs() {
  mkdir -p "${KCFG}"
  write_kubeconfig "${ADMIN_KUBECONFIG}" kubernetes-admin admin
  write_kubeconfig "${KCFG}/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
  write_kubeconfig "${KCFG}/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
  write_kubeconfig "${KCFG}/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  write_kubeconfig "${KCFG}/kubelet.kubeconfig" "system:node:${NODE_NAME}" kubelet-client
}

# ---------------------------------------------------------------------------
# network

ensure_network() {
  if ! ip link show cni0 >/dev/null 2>&1; then
    ip link add cni0 type bridge
    log "created bridge cni0"
  fi
  if ! ip -4 addr show dev cni0 | grep -q "inet ${NODE_IP}/16"; then
    ip addr add "${NODE_IP}/16" dev cni0
  fi
  ip link set cni0 up
  # The host must route the Service range via the bridge (no blackhole route),
  # so that host -> ClusterIP works after kube-proxy's DNAT.
  ip route replace "${SERVICE_CIDR}" dev cni0 src "${NODE_IP}"
  # Pods reach the outside (and each other through Services) only with forwarding.
  sysctl -qw net.ipv4.ip_forward=1 >/dev/null
  # ClusterIP traffic between two pods on the same bridge needs br_netfilter.
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=1 >/dev/null
  else
    warn "br_netfilter is not available (no /proc/sys/net/bridge): pod -> ClusterIP -> pod on the same node may not work"
  fi
}

write_cni_config() {
  mkdir -p "${CNI_CONF_DIR}" "${CNI_IPAM_DIR}"
  cat >"${CNI_CONF_DIR}/10-${CNI_NETWORK}.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "${CNI_NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${CNI_IPAM_DIR}",
        "ranges": [[{"subnet": "${POD_CIDR}", "rangeStart": "10.88.0.10", "gateway": "${NODE_IP}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "firewall"},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

# ---------------------------------------------------------------------------
# containerd and images

write_containerd_config() {
  mkdir -p "${CTRD_DIR}/root" "${CTRD_STATE}" "${CTRD_DIR}/opt" "${CTRD_DIR}/runc"
  cat >"${CTRD_DIR}/config.toml" <<EOF
# generated by hack/local-cluster.sh
version = 2
root = "${CTRD_DIR}/root"
state = "${CTRD_STATE}"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${CONTAINERD_SOCK}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${CTRD_DIR}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # The build VMs lack CAP_SYS_RESOURCE: a negative oom_score_adj cannot be set,
  # which makes runc fail with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${CTRD_DIR}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${CNI_CONF_DIR}"
    max_conf_num = 1
EOF
}

start_containerd() {
  alive containerd && return 0
  write_containerd_config
  if [[ -S "${CONTAINERD_SOCK}" ]]; then
    rm -f "${CONTAINERD_SOCK}" "${CONTAINERD_SOCK}.ttrpc"
  fi
  start_daemon containerd containerd --config "${CTRD_DIR}/config.toml"
  wait_until "containerd socket" "${UP_TIMEOUT}" containerd ctr --address "${CONTAINERD_SOCK}" version
}

build_pause_image() {
  local out=$1 src="${KUO_ROOT}/hack/cluster/pause.c"
  local stamp
  stamp=$(cat "${src}" "${KUO_ROOT}/hack/lib/oci.sh" | sha256sum | cut -c1-16)
  if [[ -s "${out}" && "$(cat "${out}.stamp" 2>/dev/null)" == "${stamp}" ]]; then
    return 0
  fi
  local work
  work=$(mktemp -d)
  mkdir -p "${work}/rootfs"
  gcc -static -O2 -s -Wall -o "${work}/rootfs/pause" "${src}"
  chmod 0755 "${work}/rootfs/pause"
  oci_archive_from_rootfs "${work}/rootfs" "${PAUSE_IMAGE}" "${out}" '["/pause"]' 65535:65535
  rm -rf "${work}"
  echo "${stamp}" >"${out}.stamp"
}

build_busybox_image() {
  local out=$1
  local stamp
  stamp=$( (sha256sum /bin/busybox "${KUO_ROOT}/hack/lib/oci.sh"; echo v1) | sha256sum | cut -c1-16)
  if [[ -s "${out}" && "$(cat "${out}.stamp" 2>/dev/null)" == "${stamp}" ]]; then
    return 0
  fi
  local work r a
  work=$(mktemp -d)
  r="${work}/rootfs"
  mkdir -p "${r}/bin" "${r}/etc" "${r}/tmp" "${r}/root" "${r}/home" "${r}/var/tmp"
  chmod 1777 "${r}/tmp" "${r}/var/tmp"
  chmod 0700 "${r}/root"
  install -m 0755 /bin/busybox "${r}/bin/busybox"
  for a in $(/bin/busybox --list); do
    [[ "${a}" == busybox ]] && continue
    ln -s busybox "${r}/bin/${a}"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"${r}/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"${r}/etc/group"
  chmod 0644 "${r}/etc/passwd" "${r}/etc/group"
  OCI_CMD='["sh"]' OCI_ENV='["PATH=/bin"]' oci_archive_from_rootfs "${r}" "${BUSYBOX_IMAGE}" "${out}" "" ""
  rm -rf "${work}"
  echo "${stamp}" >"${out}.stamp"
}

# image_present REF: is REF (normalised) in containerd's k8s.io namespace?
image_present() {
  local name
  name=$(oci_normalize_ref "$1")
  ctr_ images ls -q "name==${name}" 2>/dev/null | grep -qxF "${name}"
}

import_archive() {
  local tarball=$1 names
  [[ -r "${tarball}" ]] || die "cannot read image archive ${tarball}"
  names=$(oci_archive_image_names "${tarball}" 2>/dev/null | paste -sd' ' - || true)
  if [[ -n "${names}" ]]; then
    local n
    for n in ${names}; do
      [[ "$(oci_normalize_ref "${n}" 2>/dev/null)" == "${n}" ]] ||
        warn "${tarball}: image name '${n}' is not fully qualified; the kubelet looks images up as $(oci_normalize_ref "${n}" 2>/dev/null || echo '?')"
    done
  fi
  ctr_ images import "${tarball}" >&2
  log "imported ${tarball}${names:+ (${names})}"
}

ensure_images() {
  mkdir -p "${IMAGES_DIR}"
  local pause_tar="${KUO_PAUSE_IMAGE_TAR:-${IMAGES_DIR}/pause-3.10.tar}"
  if [[ -z "${KUO_PAUSE_IMAGE_TAR:-}" ]]; then
    build_pause_image "${pause_tar}"
  fi
  build_busybox_image "${IMAGES_DIR}/busybox-local.tar"
  image_present "${PAUSE_IMAGE}" || import_archive "${pause_tar}"
  image_present "${BUSYBOX_IMAGE}" || import_archive "${IMAGES_DIR}/busybox-local.tar"
  image_present "${PAUSE_IMAGE}" || die "${PAUSE_IMAGE} is not in containerd after the import"
}

# ---------------------------------------------------------------------------
# control plane

start_etcd() {
  alive etcd && return 0
  check_port_free etcd 127.0.0.1 "${ETCD_CLIENT_PORT}"
  check_port_free etcd 127.0.0.1 "${ETCD_PEER_PORT}"
  mkdir -p "${S}/etcd"
  chmod 0700 "${S}/etcd"
  # --unsafe-no-fsync: a throw-away test cluster; much faster on this disk.
  start_daemon etcd "${BIN_DIR}/etcd" \
    --name kuo --data-dir "${S}/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "kuo=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
  wait_until "etcd health" "${UP_TIMEOUT}" etcd curl -fsS "http://127.0.0.1:${ETCD_CLIENT_PORT}/health"
}

apiserver_ready() {
  curl -fsS --max-time 5 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" \
    "${APISERVER_URL}/readyz" >/dev/null 2>&1
}

# The audit log (logs/audit.log) serves the benchmarks, which tell clients apart by user name (the API server's
# own metrics have no user label): everything the user kuo-bench (the operator under measurement) asks,
# and, in the upgrade benchmark's namespace, the Job and Deployment controllers' and the kubelet's status writes
# with their bodies (they say when a Job's pod succeeded, a Job completed or a rollout finished;
# hack/upgrade-bench/step_latency.py).
audit_policy() {
  cat <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["kuo-bench"]
- level: Request
  users: ["system:serviceaccount:kube-system:job-controller", "system:serviceaccount:kube-system:deployment-controller"]
  verbs: [update, patch]
  namespaces: [upgrade-bench]
  resources:
  - {group: batch, resources: [jobs/status]}
  - {group: apps, resources: [deployments/status]}
- level: Request
  userGroups: ["system:nodes"]
  verbs: [update, patch]
  namespaces: [upgrade-bench]
  resources:
  - {group: "", resources: [pods/status]}
- level: None
EOF
}

start_apiserver() {
  # The API server reads its audit policy once: a running one with an older policy is restarted.
  if alive kube-apiserver; then
    [[ "$(audit_policy)" == "$(cat "${S}/audit-policy.yaml" 2>/dev/null)" ]] && return 0
    log "kube-apiserver: the audit policy changed, restarting it"
    stop_component kube-apiserver
  fi
  check_port_free kube-apiserver "${NODE_IP}" "${APISERVER_PORT}"
  audit_policy >"${S}/audit-policy.yaml"
  start_daemon kube-apiserver "${BIN_DIR}/kube-apiserver" \
    --advertise-address="${NODE_IP}" --bind-address="${NODE_IP}" --secure-port="${APISERVER_PORT}" \
    --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --tls-cert-file="${PKI}/apiserver.crt" --tls-private-key-file="${PKI}/apiserver.key" \
    --client-ca-file="${PKI}/ca.crt" \
    --kubelet-client-certificate="${PKI}/apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${PKI}/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-key-file="${PKI}/sa.pub" \
    --service-account-signing-key-file="${PKI}/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=false \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --requestheader-client-ca-file="${PKI}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="${PKI}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI}/front-proxy-client.key" \
    --audit-policy-file="${S}/audit-policy.yaml" --audit-log-path="${LOGS}/audit.log" \
    --audit-log-maxsize=200 --audit-log-maxbackup=1 \
    --profiling=false
  wait_until "kube-apiserver /readyz" "${UP_TIMEOUT}" kube-apiserver apiserver_ready
}

start_controller_manager() {
  alive kube-controller-manager && return 0
  check_port_free kube-controller-manager 127.0.0.1 10257
  local k="${KCFG}/kube-controller-manager.kubeconfig"
  start_daemon kube-controller-manager "${BIN_DIR}/kube-controller-manager" \
    --kubeconfig="${k}" --authentication-kubeconfig="${k}" --authorization-kubeconfig="${k}" \
    --bind-address=127.0.0.1 --secure-port=10257 \
    --cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
    --root-ca-file="${PKI}/ca.crt" \
    --service-account-private-key-file="${PKI}/sa.key" \
    --use-service-account-credentials=true \
    --controllers='*' \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --allocate-node-cidrs=false \
    --flex-volume-plugin-dir="${KUBELET_DIR}/volume-plugins" \
    --leader-elect=false \
    --profiling=false
}

start_scheduler() {
  alive kube-scheduler && return 0
  check_port_free kube-scheduler 127.0.0.1 10259
  local k="${KCFG}/kube-scheduler.kubeconfig"
  start_daemon kube-scheduler "${BIN_DIR}/kube-scheduler" \
    --kubeconfig="${k}" --authentication-kubeconfig="${k}" --authorization-kubeconfig="${k}" \
    --bind-address=127.0.0.1 --secure-port=10259 \
    --leader-elect=false --profiling=false
}

# ---------------------------------------------------------------------------
# node

write_kubelet_config() {
  mkdir -p "${KUBELET_DIR}" "${S}/pod-logs" "${KUBELET_DIR}/volume-plugins"
  echo "nameserver 127.0.0.1" >"${KUBELET_DIR}/resolv.conf"
  cat >"${KUBELET_DIR}/config.yaml" <<EOF
# generated by hack/local-cluster.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${CONTAINERD_SOCK}
failSwapOn: false
failCgroupV1: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization:
  mode: AlwaysAllow
tlsCertFile: ${PKI}/kubelet-serving.crt
tlsPrivateKeyFile: ${PKI}/kubelet-serving.key
rotateCertificates: false
serverTLSBootstrap: false
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
  imagefs.inodesFree: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: ${KUBELET_DIR}/resolv.conf
clusterDomain: cluster.local
podLogsDir: ${S}/pod-logs
volumePluginDir: ${KUBELET_DIR}/volume-plugins
serializeImagePulls: false
maxPods: 110
protectKernelDefaults: false
EOF
}

KUBELET_STARTED_AT=0
start_kubelet() {
  alive kubelet && return 0
  KUBELET_STARTED_AT=$(($(date +%s) - 1))
  check_port_free kubelet "${NODE_IP}" 10250
  check_port_free kubelet 127.0.0.1 10248
  write_kubelet_config
  start_daemon kubelet "${BIN_DIR}/kubelet" \
    --config="${KUBELET_DIR}/config.yaml" \
    --kubeconfig="${KCFG}/kubelet.kubeconfig" \
    --hostname-override="${NODE_NAME}" \
    --node-ip="${NODE_IP}" \
    --root-dir="${KUBELET_DIR}" \
    --cert-dir="${KUBELET_DIR}/pki"
}

start_kube_proxy() {
  alive kube-proxy && return 0
  check_port_free kube-proxy 127.0.0.1 10256
  check_port_free kube-proxy 127.0.0.1 10249
  mkdir -p "${S}/kube-proxy"
  cat >"${S}/kube-proxy/config.yaml" <<EOF
# generated by hack/local-cluster.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${KCFG}/kube-proxy.kubeconfig
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
detectLocalMode: ClusterCIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["primary"]
iptables:
  # true would set net.ipv4.conf.all.route_localnet=1
  localhostNodePorts: false
  masqueradeAll: false
# 0 = leave the conntrack sysctls alone (not writable in this VM anyway)
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
  start_daemon kube-proxy "${BIN_DIR}/kube-proxy" --config="${S}/kube-proxy/config.yaml"
}

node_ready() {
  [[ "$(kc get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# node_ready_since EPOCH: Ready, with a heartbeat from the kubelet at or after
# EPOCH (a restarted cluster otherwise shows the stale Ready status from etcd).
node_ready_since() {
  local since=$1 out st hb
  out=$(kc get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  read -r st hb <<<"${out}"
  [[ "${st}" == True && -n "${hb}" ]] || return 1
  (($(date -d "${hb}" +%s) >= since))
}

# ---------------------------------------------------------------------------
# PostgreSQL (Debian's server binaries, our own instance under the state dir)

pg_ready() {
  "${PG_BIN}/pg_isready" -q -h 127.0.0.1 -p "${PG_PORT}" -t 2
}

pg_superuser_password() {
  cat "${PG_DIR}/superuser-password"
}

# The server's own settings (written over kuo.conf at every start).
postgres_conf() {
  cat <<EOF
# generated by hack/local-cluster.sh (overrides postgresql.conf)
listen_addresses = '127.0.0.1,${NODE_IP}'
port = ${PG_PORT}
unix_socket_directories = '${PG_SOCKET_DIR}'
password_encryption = scram-sha-256
max_connections = 200
# blue/green's logical replication (a publication on the old database, a subscription on the new)
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
# a throw-away test database: durability is not needed
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
log_connections = off
EOF
}

start_postgres() {
  # wal_level is read at start only: a running server with older settings is restarted.
  if alive postgres; then
    [[ "$(postgres_conf)" == "$(cat "${PG_DATA}/kuo.conf" 2>/dev/null)" ]] && return 0
    log "postgres: its settings changed, restarting it"
    stop_postgres
  fi
  [[ -x "${PG_BIN}/postgres" ]] || die "PostgreSQL ${PG_VERSION} server not found in ${PG_BIN}"
  check_port_free postgres 127.0.0.1 "${PG_PORT}"
  check_port_free postgres "${NODE_IP}" "${PG_PORT}"
  mkdir -p "${PG_DIR}" "${PG_SOCKET_DIR}"
  chown postgres:postgres "${PG_SOCKET_DIR}"
  chmod 0755 "${PG_DIR}"
  if [[ ! -s "${PG_DATA}/PG_VERSION" ]]; then
    rm -rf "${PG_DATA}"
    mkdir -p "${PG_DATA}"
    chown postgres:postgres "${PG_DATA}"
    chmod 0700 "${PG_DATA}"
    [[ -s "${PG_DIR}/superuser-password" ]] || { openssl rand -hex 16 >"${PG_DIR}/superuser-password"; }
    chmod 0600 "${PG_DIR}/superuser-password"
    local pwfile
    pwfile=$(mktemp)
    pg_superuser_password >"${pwfile}"
    chown postgres "${pwfile}"
    log "initdb ${PG_DATA}"
    (cd / && runuser -u postgres -- "${PG_BIN}/initdb" -D "${PG_DATA}" -U postgres \
      --pwfile="${pwfile}" --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >>"${LOGS}/postgres-initdb.log" 2>&1) || {
      rm -f "${pwfile}"
      tail -n 20 "${LOGS}/postgres-initdb.log" >&2
      die "initdb failed"
    }
    rm -f "${pwfile}"
    echo "include_if_exists = 'kuo.conf'" >>"${PG_DATA}/postgresql.conf"
  fi
  postgres_conf >"${PG_DATA}/kuo.conf"
  cat >"${PG_DATA}/pg_hba.conf" <<EOF
# generated by hack/local-cluster.sh
# TYPE  DATABASE  USER      ADDRESS         METHOD
local   all       postgres                  peer
local   all       all                       scram-sha-256
host    all       all       127.0.0.1/32    scram-sha-256
host    all       all       ${POD_CIDR}   scram-sha-256
EOF
  chown postgres:postgres "${PG_DATA}/kuo.conf" "${PG_DATA}/pg_hba.conf"
  touch "${LOGS}/postgres.log"
  chown postgres:postgres "${LOGS}/postgres.log"
  rm -f "${PG_DATA}/postmaster.pid" # stale (the process is not alive, checked above)
  (cd / && setsid runuser -u postgres -- "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -l "${LOGS}/postgres.log" \
    -w -t 60 start >&2 </dev/null 9>&-) || {
    tail -n 20 "${LOGS}/postgres.log" >&2
    die "PostgreSQL did not start"
  }
  log "started postgres (pid $(pid_of postgres)) on 127.0.0.1:${PG_PORT} and ${NODE_IP}:${PG_PORT}, log ${LOGS}/postgres.log"
}

stop_postgres() {
  if alive postgres; then
    (cd / && runuser -u postgres -- "${PG_BIN}/pg_ctl" -D "${PG_DATA}" -m fast -w -t 30 stop >&2) ||
      { warn "pg_ctl stop failed"; stop_component postgres 10; }
    log "stopped postgres"
  fi
}

# ---------------------------------------------------------------------------
# MariaDB (Debian's server, our own instance under the state dir): the MySQL
# dialect. Kratos is tested upstream on MySQL 8; MariaDB is what Debian ships.

my_ready() {
  mariadb-admin --socket="${MY_SOCKET}" --connect-timeout=2 ping >/dev/null 2>&1
}

start_mariadb() {
  if alive mariadb; then
    return 0
  fi
  command -v mariadbd >/dev/null || die "MariaDB server not found (package mariadb-server)"
  check_port_free mariadb 127.0.0.1 "${MY_PORT}"
  check_port_free mariadb "${NODE_IP}" "${MY_PORT}"
  mkdir -p "${MY_DIR}/run"
  chown mysql:mysql "${MY_DIR}/run"
  chmod 0755 "${MY_DIR}"
  local fresh=0
  if [[ ! -d "${MY_DATA}/mysql" ]]; then
    rm -rf "${MY_DATA}"
    mkdir -p "${MY_DATA}"
    chown mysql:mysql "${MY_DATA}"
    log "mariadb-install-db ${MY_DATA}"
    mariadb-install-db --user=mysql --datadir="${MY_DATA}" --skip-test-db --auth-root-authentication-method=socket \
      >>"${LOGS}/mariadb-install.log" 2>&1 || { tail -n 20 "${LOGS}/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fresh=1
  fi
  [[ -s "${MY_DIR}/admin-password" ]] || openssl rand -hex 16 >"${MY_DIR}/admin-password"
  chmod 0600 "${MY_DIR}/admin-password"
  cat >"${MY_DIR}/my.cnf" <<EOF
# generated by hack/local-cluster.sh
[mariadbd]
user = mysql
datadir = ${MY_DATA}
socket = ${MY_SOCKET}
pid-file = ${MY_DIR}/run/mariadbd.pid
port = ${MY_PORT}
bind-address = 127.0.0.1,${NODE_IP}
skip-name-resolve
max_connections = 200
# Kratos's MySQL migration 20200317160354000002 inserts rows without values for NOT NULL columns
# that have no default: MariaDB's default strict mode refuses it (github.com/ory/kratos/issues/2909).
sql_mode = NO_ENGINE_SUBSTITUTION
# a throw-away test database: durability is not needed
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
EOF
  start_daemon mariadb mariadbd --defaults-file="${MY_DIR}/my.cnf"
  local i
  for ((i = 0; i < 150; i++)); do
    my_ready && break
    alive mariadb || { tail -n 20 "${LOGS}/mariadb.log" >&2; die "MariaDB exited; see ${LOGS}/mariadb.log"; }
    sleep 0.2
  done
  my_ready || die "MariaDB did not accept connections within 30 s; see ${LOGS}/mariadb.log"
  if ((fresh)); then
    # root logs in through the socket only; the tests use an admin user with a password, and the
    # anonymous users mariadb-install-db creates would shadow users of other hosts.
    mariadb --socket="${MY_SOCKET}" <<EOF || die "MariaDB: creating the admin user failed"
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER 'kuo'@'%' IDENTIFIED BY '$(cat "${MY_DIR}/admin-password")';
GRANT ALL PRIVILEGES ON *.* TO 'kuo'@'%' WITH GRANT OPTION;
EOF
  fi
  log "started mariadb (pid $(pid_of mariadb)) on 127.0.0.1:${MY_PORT} and ${NODE_IP}:${MY_PORT}, log ${LOGS}/mariadb.log"
}

# ---------------------------------------------------------------------------
# cluster objects

apply_storage() {
  local i manifest
  mkdir -p "${VOLUMES_DIR}"
  chmod 0755 "${VOLUMES_DIR}"
  manifest=$(
    cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${STORAGE_CLASS}
  labels: {app.kubernetes.io/managed-by: kuo-local-cluster}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: Immediate
EOF
    for ((i = 1; i <= PV_COUNT; i++)); do
      mkdir -p "${VOLUMES_DIR}/pv-${i}"
      chmod 0777 "${VOLUMES_DIR}/pv-${i}"
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${STORAGE_CLASS}-pv-${i}
  labels: {app.kubernetes.io/managed-by: kuo-local-cluster, kuo.local/pv-dir: pv-${i}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ${STORAGE_CLASS}
  volumeMode: Filesystem
  hostPath:
    path: ${VOLUMES_DIR}/pv-${i}
    type: DirectoryOrCreate
EOF
    done
  )
  kc apply -f - <<<"${manifest}" >&2
}

# Released (claim deleted) PVs keep their data (Retain); wipe and free them.
recycle_pvs() {
  local lines name dir
  lines=$(kc get pv -l app.kubernetes.io/managed-by=kuo-local-cluster \
    -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name} {.metadata.labels.kuo\.local/pv-dir}{"\n"}{end}' 2>/dev/null) || return 0
  while read -r name dir; do
    [[ -n "${name}" && -n "${dir}" ]] || continue
    find "${VOLUMES_DIR}/${dir}" -mindepth 1 -delete 2>/dev/null || true
    chmod 0777 "${VOLUMES_DIR}/${dir}"
    kc patch pv "${name}" --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null &&
      log "recycled released PersistentVolume ${name}"
  done <<<"${lines}"
}

smoke_pod() {
  local ns=default pod=kuo-smoke
  wait_until "service account default/default" "${UP_TIMEOUT}" - kc -n "${ns}" get serviceaccount default
  kc -n "${ns}" delete pod "${pod}" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: ${pod}
  namespace: ${ns}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: pause
    image: ${PAUSE_IMAGE}
    imagePullPolicy: Never
EOF
  if ! kc -n "${ns}" wait --for=condition=Ready "pod/${pod}" --timeout="${UP_TIMEOUT}s" >/dev/null; then
    kc -n "${ns}" describe pod "${pod}" >&2 || true
    die "smoke pod ${pod} did not become Ready"
  fi
  kc -n "${ns}" delete pod "${pod}" --wait=false >/dev/null
  log "smoke pod ran (pause image, pod network)"
}

# ---------------------------------------------------------------------------
# env file

env_lines() {
  cat <<EOF
KUO_STATE=${S}
KUBECONFIG=${ADMIN_KUBECONFIG}
KUO_K8S_BIN_DIR=${BIN_DIR}
KUBECTL=${BIN_DIR}/kubectl
KUO_API_SERVER=${APISERVER_URL}
KUO_NODE_NAME=${NODE_NAME}
KUO_NODE_IP=${NODE_IP}
KUO_POD_CIDR=${POD_CIDR}
KUO_SERVICE_CIDR=${SERVICE_CIDR}
KUO_CLUSTER_DNS=none
KUO_STORAGE_CLASS=${STORAGE_CLASS}
KUO_PAUSE_IMAGE=${PAUSE_IMAGE}
KUO_BUSYBOX_IMAGE=${BUSYBOX_IMAGE}
CONTAINERD_SOCK=${CONTAINERD_SOCK}
CONTAINERD_ADDRESS=${CONTAINERD_SOCK}
CONTAINERD_NAMESPACE=k8s.io
KUO_LOGS=${LOGS}
PGHOST=127.0.0.1
PGPORT=${PG_PORT}
PGUSER=postgres
PGPASSWORD=$(pg_superuser_password 2>/dev/null || true)
PGDATABASE=postgres
KUO_PG_HOST_FOR_PODS=${NODE_IP}
KUO_PG_SOCKET_DIR=${PG_SOCKET_DIR}
KUO_PG_BIN_DIR=${PG_BIN}
KUO_MYSQL_HOST=127.0.0.1
KUO_MYSQL_PORT=${MY_PORT}
KUO_MYSQL_USER=kuo
KUO_MYSQL_PASSWORD=$(cat "${MY_DIR}/admin-password" 2>/dev/null || true)
KUO_MYSQL_HOST_FOR_PODS=${NODE_IP}
KUO_MYSQL_SOCKET=${MY_SOCKET}
EOF
}

write_env_file() {
  {
    echo "# generated by hack/local-cluster.sh up; KEY=value lines without quoting."
    echo "# bash: set -a; . ${S}/env; set +a     (or: eval \"\$(hack/local-cluster.sh env)\")"
    env_lines
  } >"${S}/env.tmp"
  chmod 0600 "${S}/env.tmp"
  mv "${S}/env.tmp" "${S}/env"
}

# ---------------------------------------------------------------------------
# commands

preflight() {
  ((EUID == 0)) || die "must run as root (the kubelet, containerd and the network setup need it)"
  [[ "$(uname -s)" == Linux ]] || die "Linux only"
  local fs
  fs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || true)
  case "${fs}" in
    cgroup2fs) CGROUP_MODE=v2 ;;
    tmpfs) CGROUP_MODE=v1 ;;
    *) die "cannot determine the cgroup mode (/sys/fs/cgroup is '${fs}')" ;;
  esac
}

lock() {
  mkdir -p "${S}"
  exec 9>"${S}/.lock"
  flock -w 900 9 || die "another hack/local-cluster.sh holds ${S}/.lock"
}

all_up() {
  local c
  for c in "${COMPONENTS[@]}" postgres mariadb; do
    alive "${c}" || return 1
  done
  [[ "$(audit_policy)" == "$(cat "${S}/audit-policy.yaml" 2>/dev/null)" ]] || return 1
  [[ "$(postgres_conf)" == "$(cat "${PG_DATA}/kuo.conf" 2>/dev/null)" ]] || return 1
  apiserver_ready && node_ready && pg_ready && my_ready
}

cmd_up() {
  local smoke=1 arg
  for arg in "$@"; do
    case "${arg}" in
      --no-smoke) smoke=0 ;;
      *) die "up: unknown argument ${arg}" ;;
    esac
  done
  local start=${SECONDS}
  preflight
  ensure_packages
  require_cmd containerd ctr runc iptables ip openssl curl jq gcc setsid runuser flock ss sysctl
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/firewall && -x /usr/lib/cni/portmap && -x /usr/lib/cni/host-local ]] ||
    die "CNI plugins missing in /usr/lib/cni (package containernetworking-plugins)"
  bin_dir >/dev/null
  lock
  mkdir -p "${LOGS}" "${RUN}"
  chmod 0755 "${S}" "${LOGS}"

  if all_up; then
    apply_storage # a larger KUO_PV_COUNT takes effect on a running cluster too
    recycle_pvs
    write_env_file
    log "cluster already up (checked in $(fmt_duration $((SECONDS - start)))); env: ${S}/env"
    printf '%s\n' "${ADMIN_KUBECONFIG}"
    return 0
  fi

  log "bringing up the local cluster in ${S} (cgroup ${CGROUP_MODE}, node ${NODE_NAME}, ${NODE_IP})"
  record_host_state
  ensure_kmsg
  timed "PKI and kubeconfigs" ensure_pki
  ensure_kubeconfigs
  ensure_network
  write_cni_config
  timed "containerd" start_containerd
  timed "images" ensure_images
  timed "etcd" start_etcd
  timed "kube-apiserver" start_apiserver
  start_controller_manager
  start_scheduler
  start_kubelet
  start_kube_proxy
  timed "postgres" start_postgres
  timed "mariadb" start_mariadb
  write_env_file
  local t0=${SECONDS}
  wait_until "node ${NODE_NAME} registered" "${UP_TIMEOUT}" kubelet kc get node "${NODE_NAME}"
  wait_until "node ${NODE_NAME} Ready" "${UP_TIMEOUT}" kubelet node_ready_since "${KUBELET_STARTED_AT}"
  log "node ${NODE_NAME} Ready ($(fmt_duration $((SECONDS - t0))) after the kubelet start)"
  local c
  for c in kube-controller-manager kube-scheduler kube-proxy; do
    alive "${c}" || { tail -n 30 "${LOGS}/${c}.log" >&2; die "${c} exited; see ${LOGS}/${c}.log"; }
  done
  apply_storage
  recycle_pvs
  ((smoke)) && timed "smoke pod" smoke_pod
  log "cluster up in $(fmt_duration $((SECONDS - start))); env: ${S}/env; logs: ${LOGS}"
  printf '%s\n' "${ADMIN_KUBECONFIG}"
}

cmd_status() {
  preflight
  BIN_DIR=$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir 2>/dev/null || true)
  local c pid ok=1 up_count=0
  printf '%-26s %s\n' COMPONENT STATE
  for c in "${COMPONENTS[@]}" postgres mariadb; do
    if pid=$(pid_of "${c}"); then
      printf '%-26s running (pid %s)\n' "${c}" "${pid}"
      up_count=$((up_count + 1))
    else
      printf '%-26s stopped\n' "${c}"
      ok=0
    fi
  done
  if [[ -n "${BIN_DIR}" && -s "${ADMIN_KUBECONFIG}" ]] && apiserver_ready; then
    printf '%-26s ready (%s)\n' apiserver "${APISERVER_URL}"
    if node_ready; then
      printf '%-26s Ready\n' "node/${NODE_NAME}"
    else
      printf '%-26s NotReady\n' "node/${NODE_NAME}"
      ok=0
    fi
  else
    printf '%-26s not ready\n' apiserver
    printf '%-26s unknown\n' "node/${NODE_NAME}"
    ok=0
  fi
  if pg_ready; then
    printf '%-26s accepting connections (127.0.0.1:%s, %s:%s)\n' postgresql "${PG_PORT}" "${NODE_IP}" "${PG_PORT}"
  else
    printf '%-26s not accepting connections\n' postgresql
    ok=0
  fi
  if my_ready; then
    printf '%-26s accepting connections (127.0.0.1:%s, %s:%s)\n' mariadb "${MY_PORT}" "${NODE_IP}" "${MY_PORT}"
  else
    printf '%-26s not accepting connections\n' mariadb
    ok=0
  fi
  if ((ok)); then
    printf 'cluster: up; KUBECONFIG=%s; env file %s\n' "${ADMIN_KUBECONFIG}" "${S}/env"
    return 0
  fi
  printf 'cluster: down (%d of %d processes running)\n' "${up_count}" "$((${#COMPONENTS[@]} + 2))"
  return 3
}

# iptables_cleanup CMD: removes every KUBE-*/CNI-* chain and every rule that
# jumps to one, in all tables, for iptables or ip6tables.
iptables_cleanup() {
  local ipt=$1 table dump rule chains c
  command -v "${ipt}-save" >/dev/null 2>&1 || return 0
  for table in raw mangle nat filter; do
    dump=$("${ipt}-save" -t "${table}" 2>/dev/null) || continue
    while IFS= read -r rule; do
      [[ -n "${rule}" ]] || continue
      eval "${ipt} -w -t ${table} -D ${rule#-A }" 2>/dev/null || true
    done < <(grep -E '^-A ' <<<"${dump}" | grep -Ev '^-A (KUBE-|CNI-)' | grep -E -- '-(j|g) (KUBE-|CNI-)' || true)
    chains=$(grep -E '^:(KUBE-|CNI-)' <<<"${dump}" | cut -d' ' -f1 | tr -d ':' || true)
    for c in ${chains}; do "${ipt}" -w -t "${table}" -F "${c}" 2>/dev/null || true; done
    for c in ${chains}; do "${ipt}" -w -t "${table}" -X "${c}" 2>/dev/null || true; done
  done
}

unmount_all() {
  local m
  # deepest first
  while read -r m; do
    umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || warn "could not unmount ${m}"
  done < <(awk -v s="${S}" '$5 == s || index($5, s "/") == 1 || $5 ~ "^/run/netns/cni-" || $5 ~ "^/var/run/netns/cni-" {print $5}' /proc/self/mountinfo |
    awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2- | uniq)
  rm -f /run/netns/cni-* 2>/dev/null || true
}

kill_shims() {
  local p cmdline
  for p in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' 2>/dev/null <"${p}/cmdline") || continue
    if [[ "${cmdline}" == *containerd-shim* && "${cmdline}" == *"-address ${CONTAINERD_SOCK}"* ]]; then
      kill -KILL "${p#/proc/}" 2>/dev/null && log "killed leftover shim ${p#/proc/}"
    fi
  done
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods.slice; do
    [[ -d "${d}" ]] || continue
    find "${d}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [[ -d "${d}" ]] && warn "could not remove cgroup ${d} (processes left in it?)"
  done
}

cmd_down() {
  local purge=0 arg
  for arg in "$@"; do
    case "${arg}" in
      --purge) purge=1 ;;
      *) die "down: unknown argument ${arg}" ;;
    esac
  done
  local start=${SECONDS}
  preflight
  [[ -d "${S}" ]] || { log "nothing to do: ${S} does not exist"; return 0; }
  BIN_DIR=$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir 2>/dev/null || true)
  lock
  mkdir -p "${LOGS}" "${RUN}"

  # 1. Let the kubelet tear pods down properly (CNI DEL, unmounts): stop the
  #    controllers and the scheduler first so that nothing is recreated.
  stop_component kube-controller-manager
  stop_component kube-scheduler
  if [[ -n "${BIN_DIR}" ]] && alive kubelet && apiserver_ready; then
    log "deleting all pods"
    kc delete pods --all --all-namespaces --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1 ||
      warn "not every pod was deleted in time; cleaning up the rest by force"
  fi
  stop_component kube-proxy
  stop_component kubelet
  # The Node object would otherwise keep a stale Ready status until the next up.
  if [[ -n "${BIN_DIR}" ]] && apiserver_ready; then
    kc delete node "${NODE_NAME}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi

  # 2. Whatever still runs in containerd: kill and remove.
  if alive containerd; then
    local ids id
    ids=$(ctr_ tasks ls -q 2>/dev/null || true)
    for id in ${ids}; do ctr_ tasks kill -s SIGKILL "${id}" >/dev/null 2>&1 || true; done
    [[ -n "${ids}" ]] && sleep 1
    for id in ${ids}; do ctr_ tasks delete -f "${id}" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null || true); do ctr_ containers rm "${id}" >/dev/null 2>&1 || true; done
  fi
  # shim sockets live in /run/containerd/s whatever the state dir; note ours
  local sockets=()
  if [[ -d "${CTRD_STATE}/io.containerd.runtime.v2.task" ]]; then
    local f a
    while IFS= read -r f; do
      a=$(cat "${f}" 2>/dev/null) || continue
      sockets+=("${a#unix://}")
    done < <(find "${CTRD_STATE}/io.containerd.runtime.v2.task" -mindepth 3 -maxdepth 3 -name address 2>/dev/null)
  fi
  stop_component containerd 30
  kill_shims
  local sock
  for sock in "${sockets[@]}"; do rm -f "${sock}"; done

  # 3. control plane and database
  stop_component kube-apiserver
  stop_component etcd
  stop_postgres
  stop_component mariadb 30

  # 4. host side effects
  unmount_all
  rm -rf "${CTRD_STATE}" "${RUN:?}"/*.pid
  rm -rf "${CNI_IPAM_DIR}"
  iptables_cleanup iptables
  iptables_cleanup ip6tables
  ip route del "${SERVICE_CIDR}" dev cni0 2>/dev/null || true
  if ip link show cni0 >/dev/null 2>&1; then
    ip link del cni0 && log "removed bridge cni0"
  fi
  remove_cgroups
  rm -f /var/lib/cni/results/"${CNI_NETWORK}"-* 2>/dev/null || true
  restore_host_state

  if ((purge)); then
    log "purging ${S} (keeping ${LOGS})"
    find "${S}" -mindepth 1 -maxdepth 1 ! -name logs ! -name .lock -exec rm -rf {} +
  fi
  log "cluster down in $(fmt_duration $((SECONDS - start))) (logs kept in ${LOGS})"
}

cmd_load_image() {
  (($# > 0)) || die "usage: $0 load-image ARCHIVE..."
  preflight
  alive containerd || die "containerd is not running (hack/local-cluster.sh up)"
  local t
  for t in "$@"; do
    import_archive "${t}"
  done
}

cmd_env() {
  BIN_DIR=$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir 2>/dev/null || true)
  local line
  while IFS= read -r line; do
    printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
  done < <(env_lines)
}

cmd_recycle_pvs() {
  preflight
  bin_dir >/dev/null
  apiserver_ready || die "the API server is not up"
  recycle_pvs
}

cmd_fault() {
  local action=${1:-} target=${2:-}
  preflight
  case "${action}" in
    stop | kill)
      [[ -n "${target}" ]] || die "fault ${action}: which component?"
      if [[ "${target}" == postgres && "${action}" == stop ]]; then
        stop_postgres
        return 0
      fi
      local pid
      pid=$(pid_of "${target}") || { warn "${target} is not running"; return 0; }
      if [[ "${action}" == kill ]]; then
        kill -KILL "${pid}"
        log "killed ${target} (pid ${pid}, SIGKILL)"
      else
        stop_pid "${target}" "${pid}"
      fi
      [[ "${target}" == postgres ]] || rm -f "${RUN}/${target}.pid"
      ;;
    small-volume)
      local size=${3:-}
      [[ "${target}" =~ ^[a-z0-9-]+$ && -n "${size}" ]] || die "usage: fault small-volume NAME SIZE"
      bin_dir >/dev/null
      local dir="${VOLUMES_DIR}/${target}"
      mkdir -p "${dir}"
      mountpoint -q "${dir}" || mount -t tmpfs -o "size=${size},mode=0777" tmpfs "${dir}"
      kc apply -f - >&2 <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${STORAGE_CLASS}-small-${target}
  labels: {app.kubernetes.io/managed-by: kuo-local-cluster, kuo.local/pv-dir: ${target}}
spec:
  capacity: {storage: ${size}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ${STORAGE_CLASS}-small
  volumeMode: Filesystem
  hostPath: {path: ${dir}, type: Directory}
YAML
      log "PersistentVolume ${STORAGE_CLASS}-small-${target}: a ${size} tmpfs at ${dir}"
      ;;
    *) die "usage: fault stop|kill COMPONENT | fault small-volume NAME SIZE" ;;
  esac
}

usage() {
  sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [[ -n "${cmd}" ]] || usage
  shift
  case "${cmd}" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    load-image) cmd_load_image "$@" ;;
    env) cmd_env "$@" ;;
    recycle-pvs) cmd_recycle_pvs "$@" ;;
    fault) cmd_fault "$@" ;;
    -h | --help | help) usage ;;
    *) die "unknown command '${cmd}' (up, down, status, load-image, env, recycle-pvs, fault)" ;;
  esac
}

main "$@"
