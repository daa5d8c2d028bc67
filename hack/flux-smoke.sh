#!/usr/bin/env bash
#
# Smoke test of the Flux pipeline built by hack/flux.sh, fully isolated from the
# project's local cluster: it starts its own etcd + kube-apiserver (binaries
# from hack/k8s-binaries.sh, free loopback ports, throwaway certificates under
# a temporary directory), installs the Flux CRDs, runs source-controller and
# kustomize-controller as host processes against it, serves a bare Git
# repository with flux-git-server, and checks that:
#
#   1. a GitRepository + two Kustomizations (`infra` with wait + healthCheckExprs
#      on ConfigMaps, `app` with dependsOn infra) become Ready and apply their
#      ConfigMaps;
#   2. a second commit is applied after a push plus a
#      reconcile.fluxcd.io/requestedAt annotation on the GitRepository;
#   3. a third commit is applied by the 5s interval alone (no annotation);
#   4. a healthCheckExprs `failed` expression makes `infra` not Ready and holds
#      back `app` (dependsOn), and recovering it makes both Ready again.
#
#   hack/flux-smoke.sh            run it (builds what is missing first)
#
# Environment:
#   KUO_CACHE         cache root (default ~/.cache/kratos-upgrade-operator)
#   FLUX_SMOKE_KEEP=1 keep the temporary directory (logs, kubeconfig) at the end
#   FLUX_SMOKE_TIMEOUT seconds to wait for each step (default 120)
#
# Everything it started is stopped at exit (trap), by process id.

set -euo pipefail

# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TIMEOUT="${FLUX_SMOKE_TIMEOUT:-120}"
require_cmd git openssl python3 curl

FLUX_DIR="$("${KUO_ROOT}/hack/flux.sh" build)"
BIN_DIR="$("${KUO_ROOT}/hack/k8s-binaries.sh" --print-bin-dir)" ||
  die "Kubernetes binaries are not built; run hack/k8s-binaries.sh"
KUBECTL_BIN="${BIN_DIR}/kubectl"

WORK="$(mktemp -d /tmp/flux-smoke.XXXXXX)"
PIDS=()

cleanup() {
  local rc=$? pid i
  set +e
  # Reverse start order (controllers, git server, kube-apiserver, etcd), one at
  # a time: kube-apiserver shuts down promptly only while etcd is still up.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill "${pid}" 2>/dev/null || continue
    for _ in $(seq 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "${pid}" 2>/dev/null
  done
  if ((rc != 0)); then
    log "FAILED (exit ${rc}); last lines of the logs:"
    for f in "${WORK}"/logs/*.log; do
      [[ -f "${f}" ]] || continue
      printf '\n==== %s\n' "${f}" >&2
      tail -n 25 "${f}" >&2
    done
  fi
  if [[ "${FLUX_SMOKE_KEEP:-0}" == 1 ]]; then
    log "kept ${WORK}"
  else
    rm -rf "${WORK}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "${WORK}"/{logs,pki,etcd,storage,repos,clone}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start NAME CMD...: run CMD in the background with its log in logs/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"${WORK}/logs/${name}.log" 2>&1 &
  PIDS+=($!)
  disown $! # no job-status noise on exit; cleanup() stops it by pid
  log "started ${name} (pid ${PIDS[-1]})"
}

# wait_for DESCRIPTION CMD...: retry CMD every 0.2s until it succeeds or TIMEOUT.
wait_for() {
  local what=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${TIMEOUT}s waiting for ${what}"
    sleep 0.2
  done
}

now_ms() { date +%s%3N; }

k() { "${KUBECTL_BIN}" --kubeconfig "${WORK}/kubeconfig" "$@"; }

# ---------------------------------------------------------------------------
# Throwaway API server.

PKI="${WORK}/pki"
openssl_quiet() { openssl "$@" >/dev/null 2>&1; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout "${PKI}/ca.key" -out "${PKI}/ca.crt" -days 1 -subj "/CN=flux-smoke-ca"
cat >"${PKI}/server.ext" <<EOF
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EOF
openssl_quiet req -newkey rsa:2048 -nodes -keyout "${PKI}/server.key" -out "${PKI}/server.csr" -subj "/CN=kube-apiserver"
openssl_quiet x509 -req -in "${PKI}/server.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" -CAcreateserial -days 1 -extfile "${PKI}/server.ext" -out "${PKI}/server.crt"
printf 'extendedKeyUsage=clientAuth\n' >"${PKI}/client.ext"
openssl_quiet req -newkey rsa:2048 -nodes -keyout "${PKI}/admin.key" -out "${PKI}/admin.csr" -subj "/O=system:masters/CN=flux-smoke-admin"
openssl_quiet x509 -req -in "${PKI}/admin.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" -CAcreateserial -days 1 -extfile "${PKI}/client.ext" -out "${PKI}/admin.crt"
openssl_quiet genrsa -out "${PKI}/sa.key" 2048
openssl_quiet rsa -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub"

ETCD_PORT=$(free_port)
ETCD_PEER_PORT=$(free_port)
API_PORT=$(free_port)
start etcd "${BIN_DIR}/etcd" --name smoke --data-dir "${WORK}/etcd" \
  --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
  --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
  --initial-cluster "smoke=http://127.0.0.1:${ETCD_PEER_PORT}" --unsafe-no-fsync --listen-metrics-urls ""
start kube-apiserver "${BIN_DIR}/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "${API_PORT}" \
  --tls-cert-file "${PKI}/server.crt" --tls-private-key-file "${PKI}/server.key" \
  --client-ca-file "${PKI}/ca.crt" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "${PKI}/sa.pub" \
  --service-account-signing-key-file "${PKI}/sa.key" --service-cluster-ip-range 10.250.0.0/24 \
  --disable-admission-plugins ServiceAccount --enable-priority-and-fairness=false \
  --cert-dir "${PKI}/generated"

cat >"${WORK}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smoke
  cluster:
    server: https://127.0.0.1:${API_PORT}
    certificate-authority: ${PKI}/ca.crt
users:
- name: admin
  user:
    client-certificate: ${PKI}/admin.crt
    client-key: ${PKI}/admin.key
contexts:
- name: smoke
  context: {cluster: smoke, user: admin}
current-context: smoke
EOF
t0=${SECONDS}
wait_for "kube-apiserver /readyz" k get --raw /readyz
log "kube-apiserver ready on 127.0.0.1:${API_PORT} after $((SECONDS - t0))s"

# ---------------------------------------------------------------------------
# Flux CRDs and controllers.

k apply --server-side -f "${FLUX_DIR}/crds/" >/dev/null
k wait --for condition=Established --timeout "${TIMEOUT}s" -f "${FLUX_DIR}/crds/" >/dev/null
log "installed $(find "${FLUX_DIR}/crds" -name '*.yaml' | wc -l) Flux CRDs"
k create namespace flux-system >/dev/null
k create namespace smoke >/dev/null

GIT_ADDR_FILE="${WORK}/git-addr"
start flux-git-server "${FLUX_DIR}/flux-git-server" -root "${WORK}/repos" -listen 127.0.0.1:0 -addr-file "${GIT_ADDR_FILE}"
wait_for "flux-git-server" test -s "${GIT_ADDR_FILE}"
GIT_ADDR="$(cat "${GIT_ADDR_FILE}")"
REPO_URL="http://${GIT_ADDR}/smoke/config.git"

STORAGE_PORT=$(free_port)
SC_HEALTH=$(free_port)
KC_HEALTH=$(free_port)
# No --kubeconfig flag: controller-runtime reads KUBECONFIG. RUNTIME_NAMESPACE
# is the controllers' own namespace (events, leader election if enabled).
export KUBECONFIG="${WORK}/kubeconfig" RUNTIME_NAMESPACE=flux-system
start source-controller "${FLUX_DIR}/source-controller" \
  --watch-all-namespaces=true --enable-leader-election=false \
  --metrics-addr "127.0.0.1:$(free_port)" --health-addr "127.0.0.1:${SC_HEALTH}" \
  --storage-path "${WORK}/storage" --storage-addr "127.0.0.1:${STORAGE_PORT}" \
  --storage-adv-addr "127.0.0.1:${STORAGE_PORT}" --log-level info
start kustomize-controller "${FLUX_DIR}/kustomize-controller" \
  --watch-all-namespaces=true --enable-leader-election=false \
  --metrics-addr "127.0.0.1:$(free_port)" --health-addr "127.0.0.1:${KC_HEALTH}" \
  --no-remote-bases=true --requeue-dependency 2s --log-level info
wait_for "source-controller /readyz" curl -fsS "http://127.0.0.1:${SC_HEALTH}/readyz"
wait_for "kustomize-controller /readyz" curl -fsS "http://127.0.0.1:${KC_HEALTH}/readyz"
log "controllers ready (artifacts served on 127.0.0.1:${STORAGE_PORT})"

# ---------------------------------------------------------------------------
# Git repository content.

G=(git -C "${WORK}/clone" -c user.name=flux-smoke -c user.email=flux-smoke@example.invalid -c commit.gpgsign=false)
git init -q -b main "${WORK}/clone"

write_content() { # write_content MESSAGE PHASE
  mkdir -p "${WORK}/clone/infra" "${WORK}/clone/app"
  cat >"${WORK}/clone/infra/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [configmap.yaml]
EOF
  cat >"${WORK}/clone/infra/configmap.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke-infra
  namespace: smoke
data:
  phase: "$2"
  message: "$1"
EOF
  cat >"${WORK}/clone/app/configmap.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke-app
  namespace: smoke
data:
  message: "$1"
EOF
}

commit_and_push() { # commit_and_push MESSAGE PHASE
  write_content "$1" "$2"
  "${G[@]}" add -A
  "${G[@]}" commit -q -m "$1"
  "${G[@]}" push -q "${REPO_URL}" main
  "${G[@]}" rev-parse HEAD
}

REV1="$(commit_and_push v1 ready)"
log "pushed ${REV1:0:12} to ${REPO_URL}"

# ---------------------------------------------------------------------------
# Flux objects.

k apply -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: config, namespace: flux-system}
spec:
  interval: 5s
  url: ${REPO_URL}
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: flux-system}
spec:
  interval: 5s
  retryInterval: 2s
  timeout: 30s
  prune: true
  wait: true
  path: ./infra
  sourceRef: {kind: GitRepository, name: config}
  healthCheckExprs:
  - apiVersion: v1
    kind: ConfigMap
    current: "has(data.phase) && data.phase == 'ready'"
    inProgress: "has(data.phase) && data.phase == 'starting'"
    failed: "has(data.phase) && data.phase == 'failed'"
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: flux-system}
spec:
  interval: 5s
  retryInterval: 2s
  prune: true
  path: ./app
  sourceRef: {kind: GitRepository, name: config}
  dependsOn:
  - name: infra
EOF

ready_at_rev() { # ready_at_rev KIND NAME REV
  local out
  out="$(k get "$1" "$2" -n flux-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.lastAppliedRevision}{.status.artifact.revision}')"
  [[ "${out}" == "True "*"$3" ]]
}
not_ready() { # not_ready KIND NAME
  [[ "$(k get "$1" "$2" -n flux-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == False ]]
}
cm_message_is() { # cm_message_is NAME MESSAGE
  [[ "$(k get configmap "$1" -n smoke -o jsonpath='{.data.message}')" == "$2" ]]
}
show_status() {
  k get gitrepositories,kustomizations -n flux-system >&2
}

t0=$(now_ms)
wait_for "GitRepository config Ready at ${REV1:0:12}" ready_at_rev gitrepository config "${REV1}"
t_src=$(now_ms)
wait_for "Kustomization infra Ready" ready_at_rev kustomization infra "${REV1}"
t_infra=$(now_ms)
wait_for "Kustomization app Ready" ready_at_rev kustomization app "${REV1}"
t_app=$(now_ms)
cm_message_is smoke-infra v1 && cm_message_is smoke-app v1 || die "ConfigMaps do not carry v1"
show_status
log "step 1: first sync: GitRepository Ready $((t_src - t0))ms, infra Ready $((t_infra - t0))ms, app Ready $((t_app - t0))ms after apply"

# Step 2: push + requestedAt annotation.
REV2="$(commit_and_push v2 ready)"
t0=$(now_ms)
k annotate --overwrite gitrepository config -n flux-system "reconcile.fluxcd.io/requestedAt=$(date +%s%N)" >/dev/null
wait_for "ConfigMap smoke-infra v2" cm_message_is smoke-infra v2
t_cm=$(now_ms)
wait_for "Kustomization app Ready at ${REV2:0:12}" ready_at_rev kustomization app "${REV2}"
t_app=$(now_ms)
cm_message_is smoke-app v2 || die "smoke-app does not carry v2"
log "step 2: push ${REV2:0:12} + requestedAt -> smoke-infra applied in $((t_cm - t0))ms, app Ready at the new revision in $((t_app - t0))ms"

# Step 3: push only; the 5s intervals pick it up.
REV3="$(commit_and_push v3 ready)"
t0=$(now_ms)
wait_for "ConfigMap smoke-infra v3" cm_message_is smoke-infra v3
t_cm=$(now_ms)
wait_for "Kustomization app Ready at ${REV3:0:12}" ready_at_rev kustomization app "${REV3}"
t_app=$(now_ms)
log "step 3: push ${REV3:0:12} alone (interval 5s) -> smoke-infra applied in $((t_cm - t0))ms, app Ready in $((t_app - t0))ms"

# Step 4: healthCheckExprs `failed` -> infra not Ready, app (dependsOn) held back.
REV4="$(commit_and_push v4 failed)"
t0=$(now_ms)
k annotate --overwrite gitrepository config -n flux-system "reconcile.fluxcd.io/requestedAt=$(date +%s%N)" >/dev/null
wait_for "ConfigMap smoke-infra v4" cm_message_is smoke-infra v4
wait_for "Kustomization infra not Ready (healthCheckExprs failed)" not_ready kustomization infra
t_fail=$(now_ms)
infra_msg="$(k get kustomization infra -n flux-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')"
log "step 4: infra not Ready $((t_fail - t0))ms after push: ${infra_msg:0:200}"
sleep 6
cm_message_is smoke-app v3 || die "app was applied although its dependency infra is not Ready"
app_msg="$(k get kustomization app -n flux-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}')"
log "step 4: app held back by dependsOn (smoke-app still v3): ${app_msg:0:200}"
show_status

REV5="$(commit_and_push v5 ready)"
t0=$(now_ms)
k annotate --overwrite gitrepository config -n flux-system "reconcile.fluxcd.io/requestedAt=$(date +%s%N)" >/dev/null
wait_for "Kustomization infra Ready at ${REV5:0:12}" ready_at_rev kustomization infra "${REV5}"
wait_for "Kustomization app Ready at ${REV5:0:12}" ready_at_rev kustomization app "${REV5}"
t_app=$(now_ms)
cm_message_is smoke-app v5 || die "smoke-app does not carry v5"
log "step 4: recovered: infra and app Ready at ${REV5:0:12} $((t_app - t0))ms after push"
show_status

log "flux smoke test passed (source-controller $("${KUO_ROOT}/hack/flux.sh" versions | sed -n 's/^source-controller=//p'), kustomize-controller $("${KUO_ROOT}/hack/flux.sh" versions | sed -n 's/^kustomize-controller=//p'))"
