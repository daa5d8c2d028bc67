#!/usr/bin/env bash
#
# Side-by-side upgrade benchmark: the same Kratos upgrade, from the same starting database (restored from one
# dump), under the same steady load, once per method, on the local cluster (hack/local-cluster.sh) or the
# cluster of KUBECONFIG with the node's PostgreSQL. Prints a table (requests, failures by status, the longest
# failure window, wall time, restore point) and writes a plot of the success rate per method.
#
#   hack/upgrade-bench.sh [--methods LIST] [--rate N] [--replicas N] [--identities N] [--from V] [--to V]
#
#   --methods     comma-separated, in this order by default:
#                   ory-order          Ory's documented order: set the new image, then run `migrate sql`
#                   helm-job           the Ory Helm chart's default: a migration Job first, then the rolling update
#                   helm-init          the chart's automigration initContainer: every new pod migrates
#                   manual-safe        Ory's safe manual order: scale to 0, pg_dump, migrate, set image, scale up
#                   raw-steps          the operator's steps by hand, back to back: a pg_dump Job, the migration
#                                      Job, the new image; the baseline of the operator's overhead
#                   operator-rolling   the operator, strategy Rolling, bare: backup (not verified), migrate, roll
#                   operator-recreate  the operator, strategy Recreate, bare as well
#                   operator-safe      the operator, Rolling with its defaults: the backup verified by a
#                                      restore, the migration rehearsed on that copy
#   --rate        requests per second of the load generator (default 10)
#   --replicas    Kratos replicas (default 3)
#   --identities  identities seeded with a password, which the load logs in as (default 200)
#   --from/--to   releases (default v1.0.0 -> v1.3.1; the field report's v0.10.1 -> v0.11.0 runs too)
#   --settle      seconds of load before and after each upgrade (default 10)
#   --readiness   ready (default) or alive: the Deployment's readiness probe on /admin/health/ready, which
#                 answers 503 while migrations are pending, or on /admin/health/alive, which does not (as in
#                 many installs): what new pods do before the schema is migrated then reaches the clients
#   --repeat      runs of the whole list of methods (default 1); the table adds each method's runs up
#
# Results go to BENCH_OUT (default /tmp/upgrade-bench-<time>): per method and run a directory (METHOD, then
# METHOD-run2, ...) with requests.csv (every request of the load), meta.json and kratos.log; table.md and
# success-rate.png (the first run of each method) for all.
#
# On the local cluster the operator runs as the user kuo-bench, whose requests the API server's audit log
# records along with the Job and Deployment controllers' and the kubelet's status writes in the benchmark's
# namespace: each run's directory gets its audit.jsonl, each operator run's steps.json, the time from the
# write completing a step (a Job's pod or the Job succeeded, a rollout done) to the operator's next write
# (step_latency.py), and step-latency.json sums them up over all runs. When raw-steps ran, table.md
# compares the operator's wall time with its, segment by segment too (segments.py).
#
# The methods other than the operator's are done with kubectl the way the runbooks say; the Helm chart's two
# are its rendered objects (a hook Job, an init container), applied by kubectl because no chart repository is
# reachable here.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

METHODS=ory-order,helm-job,helm-init,manual-safe,operator-rolling,operator-recreate,operator-safe
RATE=10
REPLICAS=3
IDENTITIES=200
FROM=v1.0.0
TO=v1.3.1
SETTLE=10
REPEAT=1
READINESS=ready
while (($#)); do
  case "$1" in
    --methods) METHODS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --identities) IDENTITIES=$2; shift 2 ;;
    --from) FROM=$2; shift 2 ;;
    --to) TO=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --readiness) READINESS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

[[ "${READINESS}" == ready || "${READINESS}" == alive ]] || die "--readiness must be ready or alive"
OUT="${BENCH_OUT:-/tmp/upgrade-bench-$(date -u +%Y%m%dT%H%M%SZ)}"
source hack/upgrade-bench/lib.sh

# --- set-up, once -------------------------------------------------------------------------------------------

log "images: Kratos ${FROM} and ${TO}, database tools, load generator"
hack/images.sh build "kratos:${FROM}" "kratos:${TO}" db-tools loadgen >/dev/null
hack/images.sh load "kratos:${FROM}" "kratos:${TO}" db-tools loadgen

# --- load ---------------------------------------------------------------------------------------------------

start_load() {
  K apply -n "${NS}" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: load}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 10
  containers:
    - name: load
      image: kratos-upgrade-loadgen:local
      imagePullPolicy: IfNotPresent
      args: [-public, "$(public_url)", -rate, "${RATE}", -identities, "${IDENTITIES}", -stop-file, /tmp/stop]
      env: [{name: LOADGEN_PASSWORD, valueFrom: {secretKeyRef: {name: load, key: password}}}]
EOF
  K wait -n "${NS}" --for=condition=Ready --timeout=60s pod/load >/dev/null
  K logs -n "${NS}" -f load >"$1/load.log" 2>/dev/null &
  load_logs_pid=$!
}

stop_load() {
  K exec -n "${NS}" load -- touch /tmp/stop
  wait "${load_logs_pid}" || true
  # The pod's log holds the CSV (stdout) and the generator's summary line (stderr).
  grep -E '^(t_ms,|[0-9])' "$1/load.log" >"$1/requests.csv" || true
  grep -q '^RESULT ' "$1/load.log" || die "the load generator did not finish; see $1/load.log"
  [[ $(head -n1 "$1/requests.csv") == t_ms,* ]] || die "no load recorded in $1/requests.csv"
}

# --- methods ------------------------------------------------------------------------------------------------
# Each returns when it has done its last step; the harness then waits for TO to serve everywhere. Each sets
# RESTORE_POINT (verified, unverified or none) and RESTORABLE (whether the old release could come back).

method_ory-order() {
  K set image -n "${NS}" deployment/kratos "kratos=oryd/kratos:${TO}" >/dev/null
  migration_job migrate "${TO}"
  wait_job migrate
  RESTORE_POINT=none RESTORABLE=false
}

method_helm-job() {
  migration_job migrate "${TO}"
  wait_job migrate
  K set image -n "${NS}" deployment/kratos "kratos=oryd/kratos:${TO}" >/dev/null
  RESTORE_POINT=none RESTORABLE=false
}

method_helm-init() {
  K patch -n "${NS}" deployment/kratos --type=strategic -p "$(cat <<EOF
{"spec":{"template":{"spec":{"initContainers":[{"name":"kratos-automigrate","image":"oryd/kratos:${TO}",
 "imagePullPolicy":"IfNotPresent","args":$(migrate_args "${TO}"),
 "env":[{"name":"DSN","valueFrom":{"secretKeyRef":{"name":"kratos-db","key":"dsn"}}}],
 "volumeMounts":[{"name":"config","mountPath":"/etc/config/kratos"}]}],
 "containers":[{"name":"kratos","image":"oryd/kratos:${TO}"}]}}}}
EOF
)" >/dev/null
  RESTORE_POINT=none RESTORABLE=false
}

method_manual-safe() {
  scale_to_zero
  pg_dump -Fc -d "${DB}" -f "$1/backup.dump"
  migration_job migrate "${TO}"
  wait_job migrate
  K set image -n "${NS}" deployment/kratos "kratos=oryd/kratos:${TO}" >/dev/null
  K scale -n "${NS}" deployment/kratos --replicas="${REPLICAS}" >/dev/null
  RESTORE_POINT=unverified RESTORABLE=true
}

# What the operator does, by hand and back to back: pg_dump in a Job onto the backup volume (the database tools
# image the operator's backup uses), the migration Job, the new image.
method_raw-steps() {
  K apply -n "${NS}" -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: backup}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true, runAsUser: 10000}
      containers:
        - name: pg-dump
          image: kratos-upgrade-db-tools:latest
          imagePullPolicy: IfNotPresent
          command: [pg_dump, --format=custom, --no-password, --file=/backup/raw.dump]
          envFrom: [{secretRef: {name: pg}}]
          volumeMounts: [{name: backup, mountPath: /backup}]
      volumes: [{name: backup, persistentVolumeClaim: {claimName: kratos-backups}}]
EOF
  wait_job backup
  migration_job migrate "${TO}"
  wait_job migrate
  K set image -n "${NS}" deployment/kratos "kratos=oryd/kratos:${TO}" >/dev/null
  RESTORE_POINT=unverified RESTORABLE=true
}

# operator_upgrade STRATEGY SAFETY: the operator's upgrade (apply_upgrade), and what it leaves to come back to.
operator_upgrade() {
  apply_upgrade "$1" "$2" "${method_dir}/kratosupgrade.json"
  local verified
  verified=$(K get ku -n "${NS}" kratos -o jsonpath='{.status.backup.verification.result}')
  RESTORE_POINT=$([[ "${verified}" == Verified ]] && echo verified || echo unverified) RESTORABLE=true
}

method_operator-rolling() { operator_upgrade Rolling false; }
method_operator-recreate() { operator_upgrade Recreate false; }
method_operator-safe() { operator_upgrade Rolling true; }

title_of() {
  case "$1" in
    ory-order) echo "Ory's order: new image, then migrate sql" ;;
    helm-job) echo "Ory Helm chart: migration Job, then rolling update" ;;
    helm-init) echo "Ory Helm chart: initContainer migration" ;;
    manual-safe) echo "Safe manual order: stop, pg_dump, migrate, start" ;;
    raw-steps) echo "The operator's steps by hand: pg_dump Job, migration Job, new image" ;;
    operator-rolling) echo "The operator, Rolling (backup not verified, no rehearsal)" ;;
    operator-recreate) echo "The operator, Recreate (backup not verified, no rehearsal)" ;;
    operator-safe) echo "The operator, Rolling, its defaults: verified backup, rehearsal" ;;
  esac
}

# --- run ----------------------------------------------------------------------------------------------------

IFS=, read -r -a methods <<<"${METHODS}"
for m in "${methods[@]}"; do
  declare -F "method_${m}" >/dev/null || die "unknown method ${m} (see --help)"
done
seed_database "${IDENTITIES}"   # every time: the identities get this run's password
[[ "${METHODS}" == *operator* ]] && start_operator

audit_offset() { if [[ -n "${AUDIT_LOG}" ]]; then stat -c %s "${AUDIT_LOG}"; else echo 0; fi; }

# run_method METHOD RUN: one upgrade by METHOD from the starting database under load, into its directory.
run_method() {
  local m=$1 run=$2 audit_from started finished
  method_dir="${OUT}/${m}$( ((run == 1)) || echo "-run${run}")"
  mkdir -p "${method_dir}"
  log "${m}$( ((REPEAT == 1)) || echo " (run ${run} of ${REPEAT})"): fresh namespace, database restored from the starting dump, Kratos ${FROM} x ${REPLICAS}"
  delete_namespace
  restore_database
  create_namespace
  apply_deployment "${FROM}" "${REPLICAS}"
  wait_serving_everywhere "${FROM}"
  start_load "${method_dir}"
  sleep "${SETTLE}"   # load on the old release before the upgrade: the baseline of each panel
  log "${m}: upgrading to ${TO}"
  audit_from=$(audit_offset)
  started=$(now_ms)
  "method_${m}" "${method_dir}"
  wait_serving_everywhere "${TO}"
  finished=$(now_ms)
  log "${m}: ${TO} serves everywhere after $(((finished - started) / 1000))s"
  if [[ -n "${AUDIT_LOG}" ]]; then
    # The API server appends; a rotation in between (200 MB) would leave a shorter file, then all of it is new.
    if (($(audit_offset) >= audit_from)); then tail -c +$((audit_from + 1)) "${AUDIT_LOG}"; else cat "${AUDIT_LOG}"; fi \
      >"${method_dir}/audit.jsonl"
  fi
  if [[ -n "${AUDIT_LOG}" && "${m}" == operator-* ]]; then
    python3 hack/upgrade-bench/step_latency.py --namespace "${NS}" --operator-user kuo-bench \
      "${method_dir}/audit.jsonl" >"${method_dir}/steps.json"
  fi
  sleep "${SETTLE}"   # load on the new release after it
  stop_load "${method_dir}"
  K logs -n "${NS}" deployment/kratos --tail=200 >"${method_dir}/kratos.log" 2>&1 || true
  python3 - "${method_dir}/meta.json" <<EOF
import json, sys
json.dump({"method": "${m}", "title": "$(title_of "${m}")", "from": "${FROM}", "to": "${TO}", "run": ${run},
           "upgrade_started_ms": ${started}, "upgrade_finished_ms": ${finished},
           "restore_point": "${RESTORE_POINT}", "old_release_restorable": ${RESTORABLE^},
           "notes": "${REPLICAS} replicas, ${RATE} requests/s, ${IDENTITIES} identities, readiness on /admin/health/${READINESS}"}, open(sys.argv[1], "w"), indent=1)
EOF
  python3 hack/upgrade-bench/report.py summary "${method_dir}" >"${method_dir}/summary.json"
  dirs+=("${method_dir}")
}

dirs=()
for ((run = 1; run <= REPEAT; run++)); do
  for m in "${methods[@]}"; do
    run_method "${m}" "${run}"
  done
done

python3 hack/upgrade-bench/report.py table "${dirs[@]}" | tee "${OUT}/table.md"
plot_python=$(hack/upgrade-bench/plot-env.sh)
"${plot_python}" hack/upgrade-bench/report.py plot "${OUT}/success-rate.png" "${dirs[@]}"
if [[ -n "${AUDIT_LOG}" && "${METHODS}" == *operator* ]]; then
  python3 hack/upgrade-bench/step_latency.py --namespace "${NS}" --operator-user kuo-bench \
    "${OUT}"/operator-*/audit.jsonl >"${OUT}/step-latency.json"
  python3 hack/upgrade-bench/report.py latency "${OUT}/step-latency.json" | tee -a "${OUT}/table.md"
fi
if [[ -n "${AUDIT_LOG}" && ",${METHODS}," == *,raw-steps,* ]]; then
  { echo; echo "Where the wall time goes (audit log; Jobs done at their pod's Succeeded or their condition):"; echo
    python3 hack/upgrade-bench/segments.py --namespace "${NS}" "${dirs[@]}"; } | tee -a "${OUT}/table.md"
fi
log "results: ${OUT} (table.md, success-rate.png, per method requests.csv and meta.json)"
