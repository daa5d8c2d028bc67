#!/usr/bin/env bash
#
# The demo behind `hack/run.sh` on a machine without a cluster of its own: on the local cluster
# (hack/local-cluster.sh), installs Kratos v1.0.0 with PostgreSQL the way a platform team would
# (examples/demo/), seeds identities, runs the operator, applies examples/demo/upgrade.yaml and shows
# the run live until it ends. Running it again starts the demo from scratch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"
# shellcheck disable=SC1091
set -a; . "${KUO_STATE}/env"; set +a
K() { "${KUBECTL}" --kubeconfig "${KUBECONFIG}" "$@"; }
NS=kratos-demo
DB=kratos_demo
DB_PASSWORD='demo p@ss/w#rd%1'   # needs URL escaping in the DSN, like many real passwords
OPERATOR_PORT="${KUO_OPERATOR_PORT:-8080}"

log "installing the KratosUpgrade CRD"
K apply --server-side --force-conflicts -f crds/ >/dev/null
K wait --for condition=Established --timeout=60s crd/kratosupgrades.kratos-upgrade.io >/dev/null

if K get namespace "${NS}" >/dev/null 2>&1; then
  log "removing the previous demo"
  K delete kratosupgrade --all -n "${NS}" --wait=true >/dev/null 2>&1 || true
  K delete namespace "${NS}" --wait=true --timeout=180s >/dev/null
fi
log "creating database ${DB} on PostgreSQL ${KUO_PG_HOST_FOR_PODS}:${PGPORT}"
psql -q -v ON_ERROR_STOP=1 -d postgres <<SQL >/dev/null
DROP DATABASE IF EXISTS ${DB};
DROP ROLE IF EXISTS ${DB};
CREATE ROLE ${DB} LOGIN PASSWORD '${DB_PASSWORD}';
CREATE DATABASE ${DB} OWNER ${DB};
SQL
escaped_password=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${DB_PASSWORD}")
DEMO_DSN="postgres://${DB}:${escaped_password}@${KUO_PG_HOST_FOR_PODS}:${PGPORT}/${DB}?sslmode=disable&max_conns=20&max_idle_conns=4"
DEMO_STORAGE_CLASS="${KUO_STORAGE_CLASS}"

log "installing Kratos v1.0.0 in namespace ${NS}"
K create namespace "${NS}" >/dev/null
K create configmap kratos-config -n "${NS}" --from-file=hack/images/kratos-demo/kratos.yaml \
  --from-file=hack/images/kratos-demo/identity.schema.json >/dev/null
shopt -u patsub_replacement 2>/dev/null || true   # bash 5.2: '&' in a replacement would mean the match
manifest=$(<examples/demo/kratos.yaml)
manifest=${manifest//'${DEMO_DSN}'/\"${DEMO_DSN}\"}
manifest=${manifest//'${DEMO_STORAGE_CLASS}'/${DEMO_STORAGE_CLASS}}
printf '%s\n' "${manifest}" | K apply -f - >/dev/null
K apply -f examples/demo/migrate-job.yaml >/dev/null
K wait -n "${NS}" --for=condition=complete --timeout=300s job/kratos-initial-migrate >/dev/null
# First start on an empty database with one replica: Kratos creates its network row on first start, and
# two replicas starting together can each create one, splitting identities between them.
sed 's/^  replicas: 2$/  replicas: 1/' examples/demo/deployment.yaml | K apply -f - >/dev/null
K rollout status -n "${NS}" deployment/kratos --timeout=300s >/dev/null
K scale -n "${NS}" deployment/kratos --replicas=2 >/dev/null
K rollout status -n "${NS}" deployment/kratos --timeout=300s >/dev/null
admin="http://$(K get svc -n "${NS}" kratos -o jsonpath='{.spec.clusterIP}'):4434"
# kube-proxy programs a new Service shortly after it appears: wait for it (60s deadline).
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null "${admin}/admin/health/ready" 2>/dev/null; do
  ((SECONDS < deadline)) || die "the kratos Service (${admin}) did not answer within 60s"
  sleep 1
done
for i in 1 2 3; do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' "${admin}/admin/identities" \
    -d "{\"schema_id\":\"default\",\"traits\":{\"email\":\"demo${i}@example.org\"}}"
done
log "Kratos $(curl -fsS "${admin}/admin/version") serves with 3 identities"

log "building and starting the operator (log: ${KUO_LOGS}/operator.log)"
build_operator
KRATOS_UPGRADE_BACKUP_IMAGE="kratos-upgrade-db-tools:latest" java -Dkubeconfig="${KUBECONFIG}" \
  -Dquarkus.http.port="${OPERATOR_PORT}" -jar "${OPERATOR_JAR}" >"${KUO_LOGS}/operator.log" 2>&1 &
operator_pid=$!
trap 'kill ${operator_pid} 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:${OPERATOR_PORT}/q/health/ready" 2>/dev/null && break
  kill -0 "${operator_pid}" 2>/dev/null || die "the operator exited; see ${KUO_LOGS}/operator.log"
  sleep 1
done

log "applying examples/demo/upgrade.yaml (v1.0.0 -> v1.3.1)"
K apply -f examples/demo/upgrade.yaml >/dev/null
last=""
while true; do
  line=$(K get ku kratos -n "${NS}" -o jsonpath='{.status.phase}{"\t"}{.status.message}' 2>/dev/null || true)
  if [[ "${line}" != "${last}" && -n "${line}" ]]; then
    printf '  %s  %s\n' "$(date +%H:%M:%S)" "${line}"
    last="${line}"
  fi
  case "${line%%$'\t'*}" in Succeeded|Failed|RolledBack) break ;; esac
  sleep 1
done

echo
K get ku -n "${NS}"
echo
echo "Kratos now answers: $(curl -fsS "${admin}/admin/version")"
pv_dir=$(K get pv "$(K get pvc -n "${NS}" kratos-backups -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.local.path}{.spec.hostPath.path}')
echo "Backup on the volume (${pv_dir}):"
ls -l "${pv_dir}" | sed 's/^/  /'
cat <<TXT

Look around:
  export KUBECONFIG=${KUBECONFIG}
  kubectl get ku -n ${NS} -o wide
  kubectl describe ku kratos -n ${NS}            # conditions and the events of every step
  kubectl get jobs,pods -n ${NS}
  kubectl get events -n ${NS} --sort-by=.lastTimestamp
  less ${KUO_LOGS}/operator.log
(kubectl: ${KUBECTL})  Stop the cluster with: hack/local-cluster.sh down
TXT
phase="${last%%$'\t'*}"
[[ "${phase}" == Succeeded ]]
