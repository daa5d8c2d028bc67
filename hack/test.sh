#!/usr/bin/env bash
#
# Runs every test tier. This is the README's test command and what CI runs (.ci/run).
#
#   1. unit tests (surefire): pure logic, no cluster;
#   2. API-server tier (failsafe, *IT): a real kube-apiserver + etcd built from source by
#      hack/k8s-binaries.sh, the operator in the JVM, the tests playing the Job/Deployment controllers;
#      plus the CRD drift check and the Quarkus application test;
#   3. end-to-end tier (failsafe, *E2E, tag e2e): the local single-node cluster (hack/local-cluster.sh:
#      kubelet, containerd, PostgreSQL, MariaDB), Kratos built from source at real releases (hack/images.sh), real
#      pg_dump and migrations, and the Helm chart installed for real (cluster-wide and namespaced) with
#      an upgrade through the in-cluster operator, and a real Flux pipeline (source-controller and
#      kustomize-controller built from the Go module proxy by hack/flux.sh, a Git server on this machine)
#      applying commits in Gate mode. The cluster stays up afterwards
#      (hack/local-cluster.sh down stops it).
#   The upgrade benchmark's tools (hack/upgrade-bench: the load generator against a fake Kratos, the
#   report and its plot, the audit-log step latency) are tested before tier 1, its harnesses after tier 3 on
#   the local cluster: hack/upgrade-bench.sh with two methods under a tiny load, hack/backup-bench.sh on
#   a database of 20 identities.
#   Packaging checks run in tier 2: helm lint, chart rendering, chart/deploy drift (hack/helm.sh builds
#   helm from the Go module proxy), the OLM bundle's drift and the Operator Framework's validators on it
#   (hack/olm.sh builds them), and the GitOps health checks we ship, evaluated with Argo CD's Lua
#   interpreter and Flux's CEL library (hack/healthcheck.sh builds that evaluator), and the chart's alert
#   rules with promtool check/test rules (hack/promtool.sh builds promtool).
#
# Everything heavy is built once and cached under ~/.cache/kratos-upgrade-operator.
#
# Environment:
#   E2E_KUBECONFIG   run the e2e tier against this cluster instead of the local one (it must be able to
#                    run oryd/kratos:<release> and kratos-upgrade-db-tools images; pass the PostgreSQL
#                    settings as -De2e.pg.host=... -De2e.pg.hostForPods=... -De2e.pg.password=..., see
#                    src/test/java/io/kratosupgrade/operator/e2e/E2eEnvironment.java)
# Extra arguments go to Maven (e.g. -Dit.test=FailureE2E).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

start=$(date +%s)
require_cmd java
require_cmd go
if ! hack/k8s-binaries.sh --print-bin-dir >/dev/null 2>&1; then
  log "building Kubernetes binaries (first run on this machine; cached afterwards)"
fi
timed "kubernetes binaries" hack/k8s-binaries.sh >/dev/null
KUBEAPITEST_DIR="$(hack/k8s-binaries.sh --print-kubeapitest-dir)"
KUBECTL_BINARY="$(hack/k8s-binaries.sh --print-bin-dir)/kubectl"
# The health check evaluator, the Flux controllers, promtool and the OLM bundle tool are Go builds nothing else waits on
# until Maven: they run in the background beside helm, the cluster and the images (whose downloads and debootstrap
# leave CPU idle).
TOOLS_LOG="$(mktemp -d)"
( timed "health check evaluator (background)" hack/healthcheck.sh >"${TOOLS_LOG}/healthcheck.out" 2>"${TOOLS_LOG}/healthcheck.err" &&
  timed "flux controllers (background)" hack/flux.sh build >"${TOOLS_LOG}/flux.out" 2>"${TOOLS_LOG}/flux.err" &&
  timed "promtool (background)" hack/promtool.sh >"${TOOLS_LOG}/promtool.out" 2>"${TOOLS_LOG}/promtool.err" &&
  timed "OLM bundle tool (background)" hack/olm.sh >"${TOOLS_LOG}/olm.out" 2>"${TOOLS_LOG}/olm.err" ) &
tools_pid=$!
HELM="$(timed "helm" hack/helm.sh)"

e2e_args=()
if [[ -n "${E2E_KUBECONFIG:-}" ]]; then
  e2e_args+=("-De2e.kubeconfig=${E2E_KUBECONFIG}")
else
  timed "local cluster" hack/local-cluster.sh up >/dev/null
  # Namespaces left by earlier failed e2e runs (their artefacts are in target/e2e-artifacts and the
  # cluster logs): remove them so their pods do not pile up run after run, then free their volumes.
  (
    set -a; . "${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}/env"; set +a
    stale=$("${KUBECTL}" get namespaces -o name | grep -E '^namespace/(e2e|helm-e2e|helm-ns-e2e|helm-ns-other)-[0-9a-f]{8}$' || true)
    if [[ -n "${stale}" ]]; then
      log "removing $(wc -l <<<"${stale}") namespaces left by earlier e2e runs"
      # No operator runs yet to release their KratosUpgrades' finalizers: drop them, these are leftovers.
      for ns in ${stale}; do
        for ku in $("${KUBECTL}" get kratosupgrades -n "${ns#namespace/}" -o name 2>/dev/null); do
          "${KUBECTL}" patch -n "${ns#namespace/}" "${ku}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null || true
        done
      done
      "${KUBECTL}" delete --wait=false ${stale} >/dev/null || warn "could not delete some old test namespaces"
    fi
  )
  hack/local-cluster.sh recycle-pvs >/dev/null   # backup volumes released by earlier runs
  # Operators the reliability tests start as separate processes outlive a test JVM that was killed; one left
  # running would reconcile this run's objects too.
  if pkill -f -- '-Dquarkus.profile=chaos' 2>/dev/null; then log "stopped operator processes left by an earlier run"; fi
  # The demo (hack/run.sh) leaves its operator installed; it would reconcile the tests' objects too.
  (
    set -a; . "${KUO_STATE:-/var/lib/kratos-upgrade-operator/cluster}/env"; set +a
    if "${HELM}" status kratos-upgrade-operator -n kratos-upgrade-system --kubeconfig "${KUBECONFIG}" >/dev/null 2>&1; then
      log "uninstalling the demo's operator (Helm release kratos-upgrade-operator): the tests run their own"
      "${HELM}" uninstall kratos-upgrade-operator -n kratos-upgrade-system --kubeconfig "${KUBECONFIG}" --wait >/dev/null
    fi
  )
  timed "images" hack/images.sh build
  timed "image load" hack/images.sh load
fi

if ! wait "${tools_pid}"; then
  cat "${TOOLS_LOG}"/*.err >&2
  die "building the health check evaluator, the Flux controllers, promtool or the OLM bundle tool failed (logs above)"
fi
grep -h "(background): done in" "${TOOLS_LOG}"/*.err >&2 || true
HEALTHCHECK="$(tail -n1 "${TOOLS_LOG}/healthcheck.out")"
FLUX_DIR="$(tail -n1 "${TOOLS_LOG}/flux.out")"
PROMTOOL="$(tail -n1 "${TOOLS_LOG}/promtool.out")"
KUO_OLM="$(tail -n1 "${TOOLS_LOG}/olm.out")"

timed "upgrade benchmark tools (load generator, report)" hack/upgrade-bench/test.sh

# The long infrastructure-fault scenarios (tag chaos-full: a PostgreSQL stop during the backup, a kubelet restart,
# the whole node down and up) run with hack/chaos.sh; everything else runs here.
timed "maven verify (unit, API server, e2e)" \
  ./mvnw -B -ntp verify -Dkubeapitest.dir="${KUBEAPITEST_DIR}" -Dhelm.binary="${HELM}" -Dkubectl.binary="${KUBECTL_BINARY}" -Dhealthcheck.binary="${HEALTHCHECK}" -Dflux.dir="${FLUX_DIR}" -Dpromtool.binary="${PROMTOOL}" -Dolm.binary="${KUO_OLM}" -Dit.excludedGroups=chaos-full "${e2e_args[@]}" "$@"
if [[ -z "${E2E_KUBECONFIG:-}" ]]; then
  # The benchmarks' harnesses, so that they cannot rot: two methods under a tiny load on one replica; one
  # backup of a tiny database.
  smoke_out=$(mktemp -d)
  timed "upgrade benchmark smoke (hack/upgrade-bench.sh)" env BENCH_OUT="${smoke_out}" \
    hack/upgrade-bench.sh --methods ory-order,operator-rolling --rate 5 --replicas 1 --identities 3 --settle 2 >/dev/null
  # The operator's steps were found in the audit log (its policy and the kuo-bench client work together).
  python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["count"] >= 3 else
    "upgrade benchmark smoke: fewer than 3 operator steps in the audit log: " + sys.argv[1])' "${smoke_out}/step-latency.json"
  timed "backup benchmark smoke (hack/backup-bench.sh)" env BENCH_OUT="$(mktemp -d)" \
    hack/backup-bench.sh --identities 20 --runs 1 >/dev/null
fi
log "all test tiers passed in $(fmt_duration $(( $(date +%s) - start )))"
