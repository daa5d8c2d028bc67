#!/usr/bin/env bash
#
# The demo behind `hack/run.sh` on a machine without a cluster of its own: on the local cluster
# (hack/local-cluster.sh), installs Kratos v1.0.0 with PostgreSQL the way a platform team would
# (examples/demo/), seeds identities, installs the operator from the Helm chart with the locally built
# operator image (hack/operator-image.sh), applies examples/demo/upgrade.yaml and shows the run live until it
# ends. The operator keeps running in the cluster afterwards, as a user's would: editing the KratosUpgrade starts
# a new run. Running the demo again starts it from scratch (and upgrades the operator's release).
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
OPERATOR_NS=kratos-upgrade-system
OPERATOR_RELEASE=kratos-upgrade-operator
# The server's NOTICEs (DROP ... IF EXISTS on a first run) are not the demo's business.
export PGOPTIONS="-c client_min_messages=warning"

log "installing the KratosUpgrade CRD"
K apply --server-side --force-conflicts -f crds/ >/dev/null
K wait --for condition=Established --timeout=60s crd/kratosupgrades.kratos-upgrade.io >/dev/null

with_progress "building the operator (./mvnw package when the sources changed)" build_operator
with_progress "building the operator image and loading it into the cluster (first run: a few minutes)" \
  hack/operator-image.sh --no-build --load
HELM=$(with_progress "building helm (first run only)" hack/helm.sh >/dev/null && hack/helm.sh --print-path)
# The image keeps its tag (the chart's appVersion) when its content changes: its archive's digest in a pod
# annotation makes a changed image roll the operator, and an unchanged one leave it alone.
image_digest=$(sha256sum "$(hack/operator-image.sh --print-archive)" | cut -c1-16)
with_progress "installing the operator with Helm (release ${OPERATOR_RELEASE}, namespace ${OPERATOR_NS})" \
  "${HELM}" upgrade --install "${OPERATOR_RELEASE}" helm/kratos-upgrade-operator --kubeconfig "${KUBECONFIG}" \
    -n "${OPERATOR_NS}" --create-namespace --wait --timeout 5m \
    --set-string "podAnnotations.kratos-upgrade\.io/image-archive=${image_digest}"
if K get namespace "${NS}" >/dev/null 2>&1; then
  log "removing the previous demo"
  # The operator just installed releases the KratosUpgrades' finalizers; one it cannot reach is dropped after 60 s.
  if ! K delete kratosupgrade --all -n "${NS}" --wait=true --timeout=60s >/dev/null 2>&1; then
    for ku in $(K get kratosupgrades -n "${NS}" -o name 2>/dev/null); do
      K patch -n "${NS}" "${ku}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null || true
    done
  fi
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

The operator keeps running in the cluster: Helm release ${OPERATOR_RELEASE} in namespace ${OPERATOR_NS}.
Editing the KratosUpgrade (another spec.version) starts a new run.

Look around:
  export KUBECONFIG=${KUBECONFIG} PATH=$(dirname "${KUBECTL}"):\$PATH
  kubectl get ku -n ${NS} -o wide
  plugin/kubectl-kratos_upgrade status kratos -n ${NS}   # the run, its plan and its steps (docs/operations.md)
  kubectl describe ku kratos -n ${NS}                    # conditions and the events of every step
  kubectl get events -n ${NS} --sort-by=.lastTimestamp
  kubectl logs -n ${OPERATOR_NS} deploy/${OPERATOR_RELEASE}
  kubectl edit ku kratos -n ${NS}                        # a new spec.version starts a new run

Stop the operator: ${HELM} uninstall ${OPERATOR_RELEASE} -n ${OPERATOR_NS} --kubeconfig ${KUBECONFIG}
Stop the cluster:  hack/local-cluster.sh down
TXT
phase="${last%%$'\t'*}"
[[ "${phase}" == Succeeded ]]
