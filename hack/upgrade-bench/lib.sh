# shellcheck shell=bash
# What the benchmarks on a Kratos upgrade share (hack/upgrade-bench.sh, hack/backup-bench.sh): the cluster and its
# PostgreSQL, the benchmark's namespace and database, the starting database made once and restored for every
# run, Kratos's Deployment, migration Jobs, and the operator run from its jar. Sourced after hack/lib/common.sh,
# from the repository root, with FROM, TO, REPLICAS and OUT set; sets NS, DB, K and the rest below.

KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"
if [[ -z "${KUBECONFIG:-}" ]]; then
  [[ -f "${KUO_STATE}/env" ]] || die "no KUBECONFIG and no local cluster (${KUO_STATE}/env); run hack/local-cluster.sh up"
  # shellcheck disable=SC1091
  set -a; . "${KUO_STATE}/env"; set +a
fi
KUBECTL="${KUBECTL:-kubectl}"
K() { "${KUBECTL}" --kubeconfig "${KUBECONFIG}" "$@"; }
mkdir -p "${OUT}"
NS=upgrade-bench
DB=upgrade_bench
DB_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
LOAD_PASSWORD="load-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SEED_DUMP="${OUT}/start.dump"
OPERATOR_PORT="${BENCH_OPERATOR_PORT:-8089}"
operator_pid=
# The audit log that times the operator's steps: the local cluster's, when its CA can sign a kuo-bench client.
AUDIT_LOG=
OPERATOR_KUBECONFIG="${KUBECONFIG}"
if [[ -f "${KUO_STATE}/pki/ca.key" && -f "${KUO_LOGS:-}/audit.log" ]]; then
  AUDIT_LOG="${KUO_LOGS}/audit.log"
  OPERATOR_KUBECONFIG=$(bench_user_kubeconfig "${OUT}" "${KUO_STATE}")
fi

now_ms() { date +%s%3N; }

# The namespace goes while the operator still runs, so that it can release its KratosUpgrade.
cleanup() {
  K delete namespace "${NS}" --wait=true --timeout=60s >/dev/null 2>&1 || true
  [[ -n "${operator_pid}" ]] && kill "${operator_pid}" 2>/dev/null || true
}
trap cleanup EXIT

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
    # The run is over: its pods need no graceful end (their preStop pauses would only slow the next run).
    K delete pods -n "${NS}" --all --grace-period=0 --force >/dev/null 2>&1 || true
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
  K create secret generic pg -n "${NS}" --from-literal=PGHOST="${KUO_PG_HOST_FOR_PODS}" --from-literal=PGPORT="${PGPORT}" \
    --from-literal=PGUSER="${DB}" --from-literal=PGPASSWORD="${DB_PASSWORD}" --from-literal=PGDATABASE="${DB}" >/dev/null
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
# the given release and replica count; READINESS=alive puts its readiness probe on /admin/health/alive, which
# answers 200 as soon as Kratos listens, migrated or not. The breach check of new passwords is off: it needs the
# internet.
apply_deployment() {
  local probe=/admin/health/ready
  [[ "${READINESS:-ready}" == alive ]] && probe=/admin/health/alive
  sed -e "s|namespace: kratos-demo|namespace: ${NS}|" -e "s|oryd/kratos:v1.0.0|oryd/kratos:$1|" \
    -e "s|^  replicas: 2$|  replicas: $2|" -e "s|httpGet: {path: /admin/health/ready, port: 4434}|httpGet: {path: ${probe}, port: 4434}|" \
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

# seed_database N [BULK]: the starting database, SEED_DUMP: the schema of FROM, one network, N identities created
# through the admin API with the load's password, then BULK copies of the first made by SQL (bulk-identities.sql).
seed_database() {
  local count=$1 bulk=${2:-0}
  log "seeding the starting database: Kratos ${FROM}, ${count} identities through the admin API, ${bulk} by SQL"
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
  for ((i = 1; i <= count; i++)); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' "${admin}/admin/identities" -d @- <<EOF ||
{"schema_id":"default","traits":{"email":"bench-${i}@example.org"},"credentials":{"password":{"config":{"password":"${LOAD_PASSWORD}"}}}}
EOF
      die "seeding identity ${i} failed"
  done
  scale_to_zero
  if ((bulk > 0)); then
    PGOPTIONS='--client-min-messages=warning' psql -q -X -v ON_ERROR_STOP=1 -v count="${bulk}" -d "${DB}" \
      -f hack/upgrade-bench/bulk-identities.sql >&2
  fi
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
  build_operator
  KRATOS_UPGRADE_BACKUP_IMAGE="kratos-upgrade-db-tools:latest" java -Dkubeconfig="${OPERATOR_KUBECONFIG}" \
    -Dquarkus.http.port="${OPERATOR_PORT}" -jar "${OPERATOR_JAR}" >"${OUT}/operator.log" 2>&1 &
  operator_pid=$!
  local deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null "http://127.0.0.1:${OPERATOR_PORT}/q/health/ready" 2>/dev/null; do
    kill -0 "${operator_pid}" 2>/dev/null || die "the operator exited; see ${OUT}/operator.log"
    ((SECONDS < deadline)) || die "the operator was not ready within 120s; see ${OUT}/operator.log"
    sleep 0.5
  done
}

# apply_upgrade STRATEGY SAFETY OUT.json: a KratosUpgrade to TO, waited for until it succeeds; its final state
# goes to OUT.json. SAFETY true is what the operator does by default (the dump verified by a restore, the
# migration rehearsed on it); false leaves the bare backup, migrate, roll.
apply_upgrade() {
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
  K get ku -n "${NS}" kratos -o json >"$3"
}

