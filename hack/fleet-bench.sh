#!/usr/bin/env bash
#
# The fleet benchmark: one KratosFleetUpgrade over N simulated Kratos tenants on the real local cluster
# (hack/local-cluster.sh), measured from the outside. KWOK (hack/kwok.sh) plays the kubelet for fake nodes:
# tenants' Deployments get pods that are Running and Ready, the operator's Jobs get pods that complete with the
# reports the operator reads (see hack/kwok/stages.yaml). Everything else is real: kube-apiserver, etcd, the
# scheduler, the Deployment, ReplicaSet and Job controllers, and the operator as users run it (the packaged
# application in a process of its own, with the Helm chart's JVM options and memory limit).
#
# Usage: hack/fleet-bench.sh [N ...]       (default: 100 1000; each N is one run, reported side by side)
#
# Environment:
#   MAX_CONCURRENT   the fleet's rollout.maxConcurrent (default 50); the operator-wide migration limit is set
#                    to the same number so that the fleet policy is what bounds the run
#   BENCH_OUT        where the table, the samples and the logs go (default target/fleet-bench)
#
# Per run it prints: total time (fleet created -> Succeeded), the operator's peak RSS (VmHWM) and peak heap in
# use, its CPU seconds, the API requests it sent (counted by the API server's audit log, which records the
# requests of the user "kuo-bench" only: the API server's own request metrics carry no user) in total and per
# instance, writes per instance by verb, and the 50th/95th/99th percentile of the reconcile durations of
# KratosUpgrades (JOSDK's timer on /q/metrics).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100 1000)
MAX_CONCURRENT=${MAX_CONCURRENT:-50}
OUT=${BENCH_OUT:-${KUO_ROOT}/target/fleet-bench}
STATE=${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}
ADMIN_NS=kuo-bench-admin
NODES=10
HTTP_PORT=18089
mkdir -p "${OUT}"

hack/local-cluster.sh up --no-smoke >/dev/null 2>"${OUT}/cluster-up.log" || { tail -n 20 "${OUT}/cluster-up.log" >&2; die "hack/local-cluster.sh up failed"; }
set -a
# shellcheck disable=SC1091
. "${STATE}/env"
set +a
kc() { "${KUBECTL}" --kubeconfig "${KUBECONFIG}" "$@"; }

# The API server must write the audit log (local clusters started before the audit policy existed do not).
apiserver_pid=$(cat "${STATE}/run/kube-apiserver.pid")
if ! tr '\0' ' ' <"/proc/${apiserver_pid}/cmdline" | grep -q -- --audit-policy-file; then
  log "restarting kube-apiserver with the audit policy (requests of user kuo-bench only)"
  hack/local-cluster.sh fault stop kube-apiserver
  hack/local-cluster.sh up --no-smoke >/dev/null
fi

KWOK=$(hack/kwok.sh | tail -n 1)
build_operator

BENCH_KUBECONFIG=$(bench_user_kubeconfig "${OUT}" "${STATE}")

KWOK_PID=""
OPERATOR_PID=""
SAMPLER_PID=""
cleanup() {
  [[ -n "${SAMPLER_PID}" ]] && kill "${SAMPLER_PID}" 2>/dev/null || true
  [[ -n "${OPERATOR_PID}" ]] && kill -KILL "${OPERATOR_PID}" 2>/dev/null || true
  [[ -n "${KWOK_PID}" ]] && kill "${KWOK_PID}" 2>/dev/null || true
  kc delete node -l kuo-bench=node --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

delete_tenants() {
  local namespaces ku
  # KratosUpgrades left by an aborted run keep their finalizer with no operator to remove it.
  for ku in $(kc get ku -A -l kratos-upgrade.io/fleet=bench -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{" "}{end}'); do
    kc -n "${ku%%/*}" patch ku "${ku#*/}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  done
  namespaces=$(kc get ns -l kuo-bench=tenant -o name 2>/dev/null || true)
  if [[ -n "${namespaces}" ]]; then
    log "deleting the previous run's tenants"
    # shellcheck disable=SC2086
    kc delete ${namespaces} --ignore-not-found --wait=true --timeout=15m >/dev/null
  fi
  kc delete pv -l kuo-bench=tenant --wait=false >/dev/null 2>&1 || true
  kc delete ns "${ADMIN_NS}" --ignore-not-found --wait=true >/dev/null
}

start_kwok() {
  local i
  "${KWOK}" --kubeconfig="${KUBECONFIG}" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --config=hack/kwok/stages.yaml --cidr=10.0.0.0/16 --node-lease-duration-seconds=40 \
    >"${OUT}/kwok.log" 2>&1 &
  KWOK_PID=$!
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kuo-bench-node-${i}
  labels: {type: kwok, kuo-bench: node}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
---
EOF
  done | kc apply -f - >/dev/null
  kc wait --for=condition=Ready node -l kuo-bench=node --timeout=120s >/dev/null
}

# Tenants t0001..tN: a namespace, the DSN Secret, the config, a bound backup volume, Kratos v1.0.0 (2 replicas).
tenants_yaml() {
  python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
config = open("hack/images/kratos-demo/kratos.yaml").read()
schema = open("hack/images/kratos-demo/identity.schema.json").read()
docs = []
for i in range(1, n + 1):
    ns = "kuo-bench-t%04d" % i
    docs += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kuo-bench": "tenant"}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kratos-db", "namespace": ns},
         "stringData": {"dsn": "postgres://kratos:secret@db-%04d.bench.invalid:5432/kratos?sslmode=disable" % i}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kratos-config", "namespace": ns},
         "data": {"kratos.yaml": config, "identity.schema.json": schema}},
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": ns + "-backups", "labels": {"kuo-bench": "tenant"}},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "kuo-bench",
                  "hostPath": {"path": "/nonexistent/kuo-bench/" + ns},
                  "claimRef": {"namespace": ns, "name": "kratos-backups"}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "kratos-backups", "namespace": ns},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "kuo-bench", "volumeName": ns + "-backups",
                  "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kratos", "namespace": ns, "labels": {"app": "kratos"}},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "kratos"}},
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                  "template": {"metadata": {"labels": {"app": "kratos"}},
                               "spec": {"nodeSelector": {"type": "kwok"},
                                        "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                                        "containers": [{"name": "kratos", "image": "oryd/kratos:v1.0.0",
                                                        "args": ["serve", "all", "--config", "/etc/config/kratos/kratos.yaml"],
                                                        "env": [{"name": "DSN", "valueFrom": {"secretKeyRef": {"name": "kratos-db", "key": "dsn"}}}],
                                                        "volumeMounts": [{"name": "config", "mountPath": "/etc/config/kratos"}]}],
                                        "volumes": [{"name": "config", "configMap": {"name": "kratos-config"}}]}}}},
    ]
print("\n---\n".join(json.dumps(d) for d in docs))
PY
}

fleet_yaml() {
  cat <<EOF
apiVersion: kratos-upgrade.io/v1alpha1
kind: KratosFleetUpgrade
metadata: {name: bench, namespace: ${ADMIN_NS}}
spec:
  selector: {matchLabels: {app: kratos}}
  namespaceSelector: {matchLabels: {kuo-bench: tenant}}
  template:
    spec:
      version: v1.3.1
      backup: {persistentVolumeClaim: kratos-backups, verify: false}
      rehearsal: false
  rollout:
    canary: {count: 1}
    maxConcurrent: ${MAX_CONCURRENT}
    maxFailures: 0
EOF
}

# Samples the operator every 2 s: RSS, peak RSS, CPU ticks, heap in use (from its metrics).
sample() {
  local pid=$1 file=$2 ticks heap
  echo "epoch rss_kb hwm_kb cpu_ticks heap_bytes" >"${file}"
  while kill -0 "${pid}" 2>/dev/null; do
    ticks=$(awk '{print $14 + $15}' "/proc/${pid}/stat" 2>/dev/null || echo 0)
    # A busy operator may not answer within the timeout: that sample has no heap, and the sampler goes on
    # (under pipefail a failed curl would end it, as it did once at 1,000 tenants).
    heap=$(curl -s --max-time 2 "http://127.0.0.1:${HTTP_PORT}/q/metrics" 2>/dev/null |
      awk '/^jvm_memory_used_bytes\{.*area="heap"/ {s += $NF} END {printf "%d", s}' || true)
    printf '%s %s %s %s %s\n' "$(date +%s)" \
      "$(awk '/^VmRSS/ {print $2}' "/proc/${pid}/status" 2>/dev/null || echo 0)" \
      "$(awk '/^VmHWM/ {print $2}' "/proc/${pid}/status" 2>/dev/null || echo 0)" "${ticks}" "${heap:-0}" >>"${file}"
    sleep 2
  done
}

# The chart's javaOptions (values.yaml), one per line there: the benchmark runs what users run.
chart_java_options() {
  awk '/^javaOptions:/ {on = 1; next} on && /^  / {print; next} on {exit}' helm/kratos-upgrade-operator/values.yaml
}

run_size() {
  local n=$1 t0 t1 phase audit_from audit_until
  delete_tenants
  log "creating ${n} tenants"
  kc create namespace "${ADMIN_NS}" >/dev/null
  tenants_yaml "${n}" >"${OUT}/tenants-${n}.yaml"
  timed "tenants applied" kc apply --server-side -f "${OUT}/tenants-${n}.yaml" >/dev/null
  log "waiting until every tenant's Kratos is available"
  local deadline=$((SECONDS + 1800)) ready=0
  while ((SECONDS < deadline)); do
    ready=$(kc get deploy -A -l app=kratos -o jsonpath='{range .items[*]}{.status.availableReplicas}{"\n"}{end}' | grep -c '^2$' || true)
    ((ready >= n)) && break
    sleep 5
  done
  ((ready >= n)) || die "only ${ready} of ${n} tenants became available"

  # The JVM as the chart runs it in a container limited to 512Mi: the chart's javaOptions and MALLOC_ARENA_MAX,
  # and SerialGC, which the JVM picks by itself below 1792 MB (this host's 24 GiB would give G1).
  # BENCH_JAVA_OPTS adds options to try (say -XX:NativeMemoryTracking=summary, whose report is kept).
  log "starting the operator (the Helm chart's JVM options and 512Mi limit) ${BENCH_JAVA_OPTS:-}"
  # shellcheck disable=SC2046,SC2086
  MALLOC_ARENA_MAX=2 java -XX:MaxRAM=512m -XX:+UseSerialGC $(chart_java_options) ${BENCH_JAVA_OPTS:-} \
    -Dkubeconfig="${BENCH_KUBECONFIG}" -Dquarkus.profile=chaos -Dquarkus.http.port="${HTTP_PORT}" \
    -Dkratos-upgrade.fleet.admin-namespaces="${ADMIN_NS}" -Dkratos-upgrade.max-concurrent-migrations="${MAX_CONCURRENT}" \
    -jar "${OPERATOR_JAR}" >"${OUT}/operator-${n}.log" 2>&1 &
  OPERATOR_PID=$!
  deadline=$((SECONDS + 120))
  until grep -qs "'kratosupgrade' controller started" "${OUT}/operator-${n}.log"; do
    ((SECONDS < deadline)) || die "the operator did not start; see ${OUT}/operator-${n}.log"
    kill -0 "${OPERATOR_PID}" || die "the operator exited; see ${OUT}/operator-${n}.log"
    sleep 1
  done
  sample "${OPERATOR_PID}" "${OUT}/samples-${n}.txt" &
  SAMPLER_PID=$!

  audit_from=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  t0=$(date +%s.%N)
  fleet_yaml | kc apply -f - >/dev/null
  deadline=$((SECONDS + 7200))
  while ((SECONDS < deadline)); do
    phase=$(kc -n "${ADMIN_NS}" get kfu bench -o jsonpath='{.status.phase} {.status.progress}' 2>/dev/null || true)
    case "${phase}" in
      Succeeded*) break ;;
      Halted* | CompletedWithFailures* | Invalid*) die "the fleet ended ${phase}; see ${OUT}/operator-${n}.log" ;;
    esac
    sleep 2
  done
  t1=$(date +%s.%N)
  audit_until=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  [[ "${phase}" == Succeeded* ]] || die "the fleet did not finish within 2 h (${phase})"
  curl -s "http://127.0.0.1:${HTTP_PORT}/q/metrics" >"${OUT}/metrics-${n}.txt"
  # What the heap holds at the end (a full GC first): the classes to look at when memory grows with N.
  # Where the memory is before that GC: heap committed, threads, and (with NMT on) the JVM's own accounting.
  {
    grep -E '^(VmRSS|VmHWM|Threads)' "/proc/${OPERATOR_PID}/status"
    jcmd "${OPERATOR_PID}" GC.heap_info 2>/dev/null
    jcmd "${OPERATOR_PID}" VM.native_memory summary 2>/dev/null | grep -vE 'not enabled'
  } >"${OUT}/jvm-${n}.txt" || true
  jcmd "${OPERATOR_PID}" GC.class_histogram 2>/dev/null | head -n 40 >"${OUT}/histogram-${n}.txt" || true
  kc -n "${ADMIN_NS}" get kfu bench -o json >"${OUT}/fleet-${n}.json"
  kill "${SAMPLER_PID}" 2>/dev/null || true
  SAMPLER_PID=""
  python3 hack/fleet-bench/report.py run --n "${n}" --seconds "$(echo "${t1} - ${t0}" | bc)" --audit "${STATE}"/logs/audit*.log \
    --audit-from "${audit_from}" --audit-until "${audit_until}" --samples "${OUT}/samples-${n}.txt" --metrics "${OUT}/metrics-${n}.txt" \
    --fleet "${OUT}/fleet-${n}.json" --clk-tck "$(getconf CLK_TCK)" >"${OUT}/result-${n}.json"
  log "run of ${n} tenants: $(cat "${OUT}/result-${n}.json")"
  # The operator removes its finalizers (after the counting above), then stops. The fleet goes first: it would
  # start the instances whose KratosUpgrade is gone again.
  kc -n "${ADMIN_NS}" delete kfu bench --wait=true >/dev/null
  kc delete ku -A -l kratos-upgrade.io/fleet=bench --wait=false >/dev/null
  # (kubectl delete --wait on a thousand objects kept waiting after the last one was gone: poll the count instead)
  local left deadline=$((SECONDS + 1800))
  while left=$(kc get ku -A -l kratos-upgrade.io/fleet=bench --no-headers 2>/dev/null | wc -l) && ((left > 0)); do
    ((SECONDS < deadline)) || die "${left} KratosUpgrades still there after 30 min"
    sleep 5
  done
  kill -TERM "${OPERATOR_PID}"
  wait "${OPERATOR_PID}" 2>/dev/null || true
  OPERATOR_PID=""
}

start_kwok
for n in "${SIZES[@]}"; do
  run_size "${n}"
done
delete_tenants
results=()
for n in "${SIZES[@]}"; do results+=("${OUT}/result-${n}.json"); done
python3 hack/fleet-bench/report.py table "${results[@]}" | tee "${OUT}/table.md"
printf '\ncommand: hack/fleet-bench.sh %s (MAX_CONCURRENT=%s)\n' "${SIZES[*]}" "${MAX_CONCURRENT}" | tee -a "${OUT}/table.md"
samples=()
for n in "${SIZES[@]}"; do samples+=("${OUT}/samples-${n}.txt"); done
python3 hack/fleet-bench/report.py chart "${OUT}/memory.svg" "${samples[@]}"
log "memory over time: ${OUT}/memory.svg (docs/img/fleet-bench-memory.svg is a copy of one)"
