#!/usr/bin/env bash
#
# Checks that the cluster of hack/local-cluster.sh really runs workloads:
#   1. a Deployment of 2 pause pods (imagePullPolicy Never) becomes Ready;
#   2. a Job (busybox:local, sh -c 'echo hi') completes and its log reads "hi";
#   3. a pod reaches PostgreSQL on the host at 10.88.0.1:5432 (busybox nc), and
#      the superuser can log in with a password from the host over 10.88.0.1;
#   4. a ClusterIP Service (busybox httpd with an httpGet readiness probe) answers
#      from another pod and from the host; kubectl exec and logs work;
#   5. a PVC of StorageClass local-backup binds and a non-root pod writes a file
#      that appears in the PV's host directory;
#   6. a pod reads the API through the kubernetes Service with its SA token.
# Everything runs in namespace kuo-verify, deleted at the end.
#
# Usage: hack/cluster/verify.sh   (after hack/local-cluster.sh up; needs root)
set -euo pipefail
KUO_LOG_PREFIX=verify.sh
# shellcheck source=hack/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

KUO_STATE="${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}"
[[ -r "${KUO_STATE}/env" ]] || die "no ${KUO_STATE}/env: run hack/local-cluster.sh up first"
set -a
# shellcheck disable=SC1091
source "${KUO_STATE}/env"
set +a
k() { "${KUBECTL}" "$@"; }
NS=kuo-verify
T=120s
start=${SECONDS}

step() { log "--- $*"; }

# wait_job NAME: until the Job is Complete; fails fast (with its logs) when it failed.
wait_job() {
  local job=$1 deadline=$((SECONDS + 120)) c f
  while ((SECONDS < deadline)); do
    c=$(k -n "${NS}" get job "${job}" -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}')
    f=$(k -n "${NS}" get job "${job}" -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}')
    [[ "${c}" == True ]] && return 0
    if [[ "${f}" == True ]]; then
      k -n "${NS}" logs "job/${job}" >&2 || true
      die "job ${job} failed"
    fi
    sleep 0.5
  done
  k -n "${NS}" describe "job/${job}" >&2
  die "job ${job} did not complete in time"
}

k delete namespace "${NS}" --ignore-not-found --wait=true >/dev/null
k create namespace "${NS}" >/dev/null
# wait for the namespace's default ServiceAccount (created by the controller-manager)
for _ in $(seq 1 120); do k -n "${NS}" get sa default >/dev/null 2>&1 && break; sleep 0.25; done

step "1. Deployment with 2 pause replicas"
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: pause}
spec:
  replicas: 2
  selector: {matchLabels: {app: pause}}
  template:
    metadata: {labels: {app: pause}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: pause, image: ${KUO_PAUSE_IMAGE}, imagePullPolicy: Never}
EOF
t0=${SECONDS}
k -n "${NS}" rollout status deploy/pause --timeout="${T}" >&2
log "deployment 2/2 ready in $((SECONDS - t0))s"

step "2. Job: sh -c 'echo hi'"
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: hi}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: hi, image: ${KUO_BUSYBOX_IMAGE}, imagePullPolicy: Never, command: [sh, -c, 'echo hi']}
EOF
t0=${SECONDS}
wait_job hi
out=$(k -n "${NS}" logs job/hi)
[[ "${out}" == hi ]] || die "job log is '${out}', expected 'hi'"
log "job complete in $((SECONDS - t0))s, log: ${out}"

step "3. pod -> PostgreSQL on the host (${KUO_PG_HOST_FOR_PODS}:${PGPORT})"
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: pg-reach}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
      containers:
      - name: nc
        image: ${KUO_BUSYBOX_IMAGE}
        imagePullPolicy: Never
        # Debian's busybox nc has no -z: connect, send nothing, close
        command: [sh, -c, 'nc -w 5 ${KUO_PG_HOST_FOR_PODS} ${PGPORT} </dev/null && echo reachable']
EOF
wait_job pg-reach
log "pod: $(k -n "${NS}" logs job/pg-reach)"
v=$(psql -h "${KUO_PG_HOST_FOR_PODS}" -Atc 'select version()')
log "host psql over ${KUO_PG_HOST_FOR_PODS} with password: ${v%% on *}"

step "4. ClusterIP Service, readiness probe, exec, logs"
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: {runAsUser: 65534, runAsGroup: 65534}
      containers:
      - name: httpd
        image: ${KUO_BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /tmp/www && echo hello-from-web > /tmp/www/index.html && exec httpd -f -v -p 8080 -h /tmp/www']
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /index.html, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF
k -n "${NS}" rollout status deploy/web --timeout="${T}" >&2
ip=$(k -n "${NS}" get svc web -o jsonpath='{.spec.clusterIP}')
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: svc-client}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: wget
        image: ${KUO_BUSYBOX_IMAGE}
        imagePullPolicy: Never
        # no -T: Debian's busybox-static wget segfaults with it
        command: [sh, -c, 'wget -qO- http://${ip}/index.html && wget -qO- http://\${WEB_SERVICE_HOST}:\${WEB_SERVICE_PORT}/index.html']
EOF
wait_job svc-client
out=$(k -n "${NS}" logs job/svc-client | tr '\n' ' ')
[[ "${out}" == "hello-from-web hello-from-web " ]] || die "service answer: '${out}'"
log "pod -> ClusterIP ${ip}:80: ${out}"
out=$(curl -fsS --max-time 5 "http://${ip}/index.html")
log "host -> ClusterIP ${ip}:80: ${out}"
out=$(k -n "${NS}" exec deploy/web -- sh -c 'id -u; cat /tmp/www/index.html' | tr '\n' ' ')
log "kubectl exec: ${out}"
k -n "${NS}" logs deploy/web --tail=2 >&2

step "5. PVC on StorageClass ${KUO_STORAGE_CLASS}, non-root writer"
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backup}
spec:
  storageClassName: ${KUO_STORAGE_CLASS}
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: pv-writer}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true}
      containers:
      - name: w
        image: ${KUO_BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command: [sh, -c, 'echo backup-data > /backup/dump.sql && ls -ln /backup']
        volumeMounts: [{name: b, mountPath: /backup}]
      volumes:
      - name: b
        persistentVolumeClaim: {claimName: backup}
EOF
k -n "${NS}" wait --for=jsonpath='{.status.phase}'=Bound pvc/backup --timeout="${T}" >&2
pv=$(k -n "${NS}" get pvc backup -o jsonpath='{.spec.volumeName}')
wait_job pv-writer
dir=$(k get pv "${pv}" -o jsonpath='{.spec.hostPath.path}')
[[ "$(cat "${dir}/dump.sql")" == backup-data ]] || die "file not found in ${dir}"
log "PVC bound to ${pv}; ${dir}/dump.sql: $(stat -c '%u:%g %s bytes' "${dir}/dump.sql")"

step "6. in-cluster API access with the ServiceAccount token"
k -n "${NS}" create rolebinding sa-view --clusterrole=view --serviceaccount="${NS}:default" >/dev/null
k -n "${NS}" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: api-client}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: ${KUO_BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command:
        - sh
        - -c
        - |
          t=\$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
          wget -qO- --no-check-certificate --header "Authorization: Bearer \$t" \
            "https://\${KUBERNETES_SERVICE_HOST}:\${KUBERNETES_SERVICE_PORT}/api/v1/namespaces/${NS}/pods?limit=1" |
            grep -o '"kind": *"PodList"'
EOF
wait_job api-client
log "pod -> kubernetes Service: $(k -n "${NS}" logs job/api-client | tr '\n' ' ')"

step "cleanup"
k delete namespace "${NS}" --wait=true --timeout="${T}" >/dev/null
recycle_dir_pv=$(k get pv "${pv}" -o jsonpath='{.status.phase}')
log "after deleting the namespace, ${pv} is ${recycle_dir_pv} (hack/local-cluster.sh up or recycle-pvs makes it Available)"
log "all checks passed in $((SECONDS - start))s"
