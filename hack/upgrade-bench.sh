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
#                   operator-rolling   the operator, strategy Rolling, bare: backup (not verified), migrate, roll
#                   operator-recreate  the operator, strategy Recreate, bare as well
#                   operator-safe      the operator, Rolling with its defaults: the backup verified by a
#                                      restore, the migration rehearsed on that copy
#   --rate        requests per second of the load generator (default 10)
#   --replicas    Kratos replicas (default 3)
#   --identities  identities seeded with a password, which the load logs in as (default 200)
#   --from/--to   releases (default v1.0.0 -> v1.3.1; the field report's v0.10.1 -> v0.11.0 is not tried yet)
#   --settle      seconds of load before and after each upgrade (default 10)
#
# Results go to BENCH_OUT (default /tmp/upgrade-bench-<time>): per method requests.csv (every request of
# the load), meta.json and kratos.log; table.md and success-rate.png for all. The methods other than the
# operator's are done with kubectl the way the runbooks say; the Helm chart's two are its rendered
# objects (a hook Job, an init container), applied by kubectl because no chart repository is reachable here.
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
while (($#)); do
  case "$1" in
    --methods) METHODS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --identities) IDENTITIES=$2; shift 2 ;;
    --from) FROM=$2; shift 2 ;;
    --to) TO=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"
if [[ -z "${KUBECONFIG:-}" ]]; then
  [[ -f "${KUO_STATE}/env" ]] || die "no KUBECONFIG and no local cluster (${KUO_STATE}/env); run hack/local-cluster.sh up"
  # shellcheck disable=SC1091
  set -a; . "${KUO_STATE}/env"; set +a
fi
KUBECTL="${KUBECTL:-kubectl}"
K() { "${KUBECTL}" --kubeconfig "${KUBECONFIG}" "$@"; }
OUT="${BENCH_OUT:-/tmp/upgrade-bench-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "${OUT}"
NS=upgrade-bench
DB=upgrade_bench
DB_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
LOAD_PASSWORD="load-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SEED_DUMP="${OUT}/start.dump"
OPERATOR_PORT="${BENCH_OPERATOR_PORT:-8089}"
operator_pid=

now_ms() { date +%s%3N; }

# The namespace goes while the operator still runs, so that it can release its KratosUpgrade.
cleanup() {
  K delete namespace "${NS}" --wait=true --timeout=60s >/dev/null 2>&1 || true
  [[ -n "${operator_pid}" ]] && kill "${operator_pid}" 2>/dev/null || true
}
trap cleanup EXIT

# --- set-up, once -------------------------------------------------------------------------------------------

log "images: Kratos ${FROM} and ${TO}, database tools, load generator"
hack/images.sh build "kratos:${FROM}" "kratos:${TO}" db-tools loadgen >/dev/null
hack/images.sh load "kratos:${FROM}" "kratos:${TO}" db-tools loadgen

# The migrate command line of a release as a JSON array (Kratos v25+ wants `migrate sql up`).
migrate_args() {
  case "$1" in
    v0.* | v1.*) echo '["migrate","sql","-e","--yes","--config","/etc/config/kratos/kratos.yaml"]' ;;
    *) echo '["migrate","sql","up","-e","--yes","--config","/etc/config/kratos/kratos.yaml"]' ;;
  esac
}

delete_namespace() {
  if K get namespace "${NS}" >/dev/null 2>&1; then
    # A KratosUpgrade left by an earlier run keeps its finalizer when no operator runs: that run is over.
    local ku
    for ku in $(K get kratosupgrades -n "${NS}" -o name 2>/dev/null); do
      K patch -n "${NS}" "${ku}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    done
    K delete namespace "${NS}" --wait=true --timeout=180s >/dev/null
  fi
}

# The namespace of one run: Kratos's config, the DSN and load Secrets, the Service, the backup volume.
create_namespace() {
  K create namespace "${NS}" >/dev/null
  K create configmap kratos-config -n "${NS}" --from-file=hack/images/kratos-demo/kratos.yaml \
    --from-file=hack/images/kratos-demo/identity.schema.json >/dev/null
  local escaped dsn
  escaped=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${DB_PASSWORD}")
  dsn="postgres://${DB}:${escaped}@${KUO_PG_HOST_FOR_PODS}:${PGPORT}/${DB}?sslmode=disable&max_conns=20&max_idle_conns=4"
  K create secret generic kratos-db -n "${NS}" --from-literal=dsn="${dsn}" >/dev/null
  K create secret generic load -n "${NS}" --from-literal=password="${LOAD_PASSWORD}" >/dev/null
  K apply -n "${NS}" -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: kratos}
spec:
  selector: {app: kratos}
  ports: [{name: public, port: 4433}, {name: admin, port: 4434}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kratos-backups}
spec:
  storageClassName: ${KUO_STORAGE_CLASS}
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
EOF
}

# The Deployment of examples/demo/ (readiness on /admin/health/ready, maxUnavailable 0, a preStop pause), at
# the given release and replica count. The breach check of new passwords is off: it needs the internet.
apply_deployment() {
  sed -e "s|namespace: kratos-demo|namespace: ${NS}|" -e "s|oryd/kratos:v1.0.0|oryd/kratos:$1|" \
    -e "s|^  replicas: 2$|  replicas: $2|" \
    -e '/^          env:$/a\            - {name: SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_ENABLED, value: "false"}' \
    examples/demo/deployment.yaml | K apply -f - >/dev/null
}

# migration_job NAME RELEASE: the chart's migration Job (its pre-upgrade hook), with the new image.
migration_job() {
  K apply -n "${NS}" -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true, runAsUser: 10000}
      containers:
        - name: migrate
          image: oryd/kratos:$2
          imagePullPolicy: IfNotPresent
          args: $(migrate_args "$2")
          env: [{name: DSN, valueFrom: {secretKeyRef: {name: kratos-db, key: dsn}}}]
          volumeMounts: [{name: config, mountPath: /etc/config/kratos}]
      volumes: [{name: config, configMap: {name: kratos-config}}]
EOF
}

wait_job() {
  K wait -n "${NS}" --for=condition=complete --timeout=600s "job/$1" >/dev/null ||
    die "Job $1 did not complete; see kubectl logs -n ${NS} job/$1"
}

# serving_everywhere RELEASE: every pod of the Deployment runs RELEASE and is ready, no other pod is left.
wait_serving_everywhere() {
  K rollout status -n "${NS}" deployment/kratos --timeout=600s >/dev/null
  local deadline=$((SECONDS + 300)) images
  while :; do
    images=$(K get pods -n "${NS}" -l app=kratos -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')
    if [[ -n "${images}" ]] && ! grep -qv "^oryd/kratos:$1 True$" <<<"${images}" &&
      (($(grep -c . <<<"${images}") == REPLICAS)); then
      return 0
    fi
    ((SECONDS < deadline)) || die "Kratos did not serve $1 on all ${REPLICAS} pods within 300s: ${images}"
    sleep 0.2
  done
}

# Scales Kratos to 0 and returns once its last pod is gone (no connection to the database is left).
scale_to_zero() {
  K scale -n "${NS}" deployment/kratos --replicas=0 >/dev/null
  local deadline=$((SECONDS + 120))
  while [[ -n "$(K get pods -n "${NS}" -l app=kratos -o name)" ]]; do
    ((SECONDS < deadline)) || die "Kratos's pods were still there 120s after scaling to 0"
    sleep 0.2
  done
}

admin_url() { printf 'http://%s:4434' "$(K get svc -n "${NS}" kratos -o jsonpath='{.spec.clusterIP}')"; }
public_url() { printf 'http://%s:4433' "$(K get svc -n "${NS}" kratos -o jsonpath='{.spec.clusterIP}')"; }

wait_admin() {
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$(admin_url)/admin/health/ready" 2>/dev/null; do
    ((SECONDS < deadline)) || die "the kratos Service did not answer within 60s"
    sleep 0.5
  done
}

create_database() {
  PGOPTIONS='--client-min-messages=warning' psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${DB}';
DROP DATABASE IF EXISTS ${DB};
DROP ROLE IF EXISTS ${DB};
CREATE ROLE ${DB} LOGIN PASSWORD '${DB_PASSWORD}';
CREATE DATABASE ${DB} OWNER ${DB};
SQL
}

# The starting database: the schema of FROM, one network, IDENTITIES identities with the load's password.
seed_database() {
  log "seeding the starting database: Kratos ${FROM}, ${IDENTITIES} identities"
  delete_namespace
  create_database
  create_namespace
  migration_job initial-migrate "${FROM}"
  wait_job initial-migrate
  apply_deployment "${FROM}" 1
  K rollout status -n "${NS}" deployment/kratos --timeout=300s >/dev/null
  wait_admin
  local admin i
  admin=$(admin_url)
  for ((i = 1; i <= IDENTITIES; i++)); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' "${admin}/admin/identities" -d @- <<EOF ||
{"schema_id":"default","traits":{"email":"bench-${i}@example.org"},"credentials":{"password":{"config":{"password":"${LOAD_PASSWORD}"}}}}
EOF
      die "seeding identity ${i} failed"
  done
  scale_to_zero
  pg_dump -Fc -d "${DB}" -f "${SEED_DUMP}"
  log "starting database: $(du -h "${SEED_DUMP}" | cut -f1) dump"
}

restore_database() {
  create_database
  pg_restore -d "${DB}" --no-owner --role="${DB}" --exit-on-error "${SEED_DUMP}"
}

start_operator() {
  log "building and starting the operator (log: ${OUT}/operator.log)"
  K apply --server-side --force-conflicts -f crds/ >/dev/null
  local jar=target/quarkus-app/quarkus-run.jar
  if [[ ! -f "${jar}" || -n "$(find src/main pom.xml -newer "${jar}" -print -quit)" ]]; then
    timed "operator package" ./mvnw -B -q -ntp package -DskipTests
  fi
  KRATOS_UPGRADE_BACKUP_IMAGE="kratos-upgrade-db-tools:latest" java -Dkubeconfig="${KUBECONFIG}" \
    -Dquarkus.http.port="${OPERATOR_PORT}" -jar "${jar}" >"${OUT}/operator.log" 2>&1 &
  operator_pid=$!
  local deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null "http://127.0.0.1:${OPERATOR_PORT}/q/health/ready" 2>/dev/null; do
    kill -0 "${operator_pid}" 2>/dev/null || die "the operator exited; see ${OUT}/operator.log"
    ((SECONDS < deadline)) || die "the operator was not ready within 120s; see ${OUT}/operator.log"
    sleep 0.5
  done
}

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

# operator_upgrade STRATEGY SAFETY: a KratosUpgrade, and its end. SAFETY true is what the operator does by default
# (the dump verified by a restore, the migration rehearsed on it); false leaves the bare backup, migrate, roll.
operator_upgrade() {
  K apply -n "${NS}" -f - >/dev/null <<EOF
apiVersion: kratos-upgrade.io/v1alpha1
kind: KratosUpgrade
metadata: {name: kratos}
spec:
  deploymentName: kratos
  version: ${TO}
  strategy: $1
  backup: {policy: Required, persistentVolumeClaim: kratos-backups, verify: $2}
  rehearsal: $2
EOF
  local deadline=$((SECONDS + 900)) phase
  while phase=$(K get ku -n "${NS}" kratos -o jsonpath='{.status.phase}'); [[ "${phase}" != Succeeded ]]; do
    [[ "${phase}" != Failed && "${phase}" != RolledBack ]] && ((SECONDS < deadline)) ||
      die "the KratosUpgrade did not succeed: $(K get ku -n "${NS}" kratos -o jsonpath='{.status.phase}: {.status.message}')"
    sleep 0.5
  done
  K get ku -n "${NS}" kratos -o json >"${method_dir}/kratosupgrade.json"
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
seed_database   # every time: the identities get this run's password
[[ "${METHODS}" == *operator* ]] && start_operator

dirs=()
for m in "${methods[@]}"; do
  method_dir="${OUT}/${m}"
  mkdir -p "${method_dir}"
  log "${m}: fresh namespace, database restored from the starting dump, Kratos ${FROM} x ${REPLICAS}"
  delete_namespace
  restore_database
  create_namespace
  apply_deployment "${FROM}" "${REPLICAS}"
  wait_serving_everywhere "${FROM}"
  start_load "${method_dir}"
  sleep "${SETTLE}"   # load on the old release before the upgrade: the baseline of each panel
  log "${m}: upgrading to ${TO}"
  started=$(now_ms)
  "method_${m}" "${method_dir}"
  wait_serving_everywhere "${TO}"
  finished=$(now_ms)
  log "${m}: ${TO} serves everywhere after $(((finished - started) / 1000))s"
  sleep "${SETTLE}"   # load on the new release after it
  stop_load "${method_dir}"
  K logs -n "${NS}" deployment/kratos --tail=200 >"${method_dir}/kratos.log" 2>&1 || true
  python3 - "${method_dir}/meta.json" <<EOF
import json, sys
json.dump({"method": "${m}", "title": "$(title_of "${m}")", "from": "${FROM}", "to": "${TO}",
           "upgrade_started_ms": ${started}, "upgrade_finished_ms": ${finished},
           "restore_point": "${RESTORE_POINT}", "old_release_restorable": ${RESTORABLE^},
           "notes": "${REPLICAS} replicas, ${RATE} requests/s, ${IDENTITIES} identities"}, open(sys.argv[1], "w"), indent=1)
EOF
  python3 hack/upgrade-bench/report.py summary "${method_dir}" >"${method_dir}/summary.json"
  dirs+=("${method_dir}")
done

python3 hack/upgrade-bench/report.py table "${dirs[@]}" | tee "${OUT}/table.md"
plot_python=$(hack/upgrade-bench/plot-env.sh)
"${plot_python}" hack/upgrade-bench/report.py plot "${OUT}/success-rate.png" "${dirs[@]}"
log "results: ${OUT} (table.md, success-rate.png, per method requests.csv and meta.json)"
