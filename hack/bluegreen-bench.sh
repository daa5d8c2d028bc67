#!/usr/bin/env bash
#
# Blue/green's write freeze, copy Dump against copy Replication, on the same database of many identities, side by
# side in each run. On the local cluster (hack/local-cluster.sh: its PostgreSQL runs wal_level=logical) or the
# cluster of KUBECONFIG with the node's PostgreSQL.
#
#   hack/bluegreen-bench.sh [--identities N] [--runs N] [--from V] [--to V]
#
#   --identities  identities in the database (default 100000): one through the admin API, the rest copied from it
#                 by SQL (hack/upgrade-bench/bulk-identities.sql)
#   --runs        runs (default 3); each restores the starting database twice and upgrades it once per method
#   --from/--to   releases (default v1.0.0 -> v1.3.1)
#
# Each upgrade is a KratosUpgrade with strategy BlueGreen (backup not verified, two replicas), run until KeepingOld.
# The freeze is status.blueGreen.freezeSeconds (frozenAt to the switch, milliseconds); with Replication the initial
# copy (status.blueGreen.initialSyncSeconds) happens before it, while the old side serves, and catchUpMillis is the
# part of the freeze spent waiting for the last changes. The target database is a fresh one on the same server;
# the replication users are a REPLICATION role (publisher) and a superuser (subscriber: PostgreSQL 15).
#
# Results go to BENCH_OUT (default /tmp/bluegreen-bench-<time>): results.csv, one row per upgrade, and table.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

IDENTITIES=100000
RUNS=3
FROM=v1.0.0
TO=v1.3.1
REPLICAS=2
while (($#)); do
  case "$1" in
    --identities) IDENTITIES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --from) FROM=$2; shift 2 ;;
    --to) TO=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
((IDENTITIES >= 1 && RUNS >= 1)) || die "--identities and --runs must be at least 1"

OUT="${BENCH_OUT:-/tmp/bluegreen-bench-$(date -u +%Y%m%dT%H%M%SZ)}"
source hack/upgrade-bench/lib.sh
TARGET="${DB}_target"
[[ "$(psql -X -At -d postgres -c 'show wal_level')" == logical ]] || die "the node's PostgreSQL needs wal_level=logical (hack/local-cluster.sh up)"

log "images: Kratos ${FROM} and ${TO}, database tools"
hack/images.sh build "kratos:${FROM}" "kratos:${TO}" db-tools >/dev/null
hack/images.sh load "kratos:${FROM}" "kratos:${TO}" db-tools

timed "starting database" seed_database 1 $((IDENTITIES - 1))
start_operator

# The target database, and the replication roles, made again for every upgrade.
prepare_target() {
  PGOPTIONS='--client-min-messages=warning' psql -q -X -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${DB}' AND NOT active;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${TARGET}';
DROP DATABASE IF EXISTS ${TARGET};
DROP ROLE IF EXISTS ${TARGET};
DROP ROLE IF EXISTS ${DB}_pub;
DROP ROLE IF EXISTS ${DB}_sub;
CREATE ROLE ${TARGET} LOGIN PASSWORD '${DB_PASSWORD}';
CREATE DATABASE ${TARGET} OWNER ${TARGET};
CREATE ROLE ${DB}_pub LOGIN REPLICATION PASSWORD '${DB_PASSWORD}';
CREATE ROLE ${DB}_sub LOGIN SUPERUSER PASSWORD '${DB_PASSWORD}';
SQL
  psql -q -X -v ON_ERROR_STOP=1 -d "${DB}" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${DB}_pub" >/dev/null
  local escaped base
  escaped=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${DB_PASSWORD}")
  base="${escaped}@${KUO_PG_HOST_FOR_PODS}:${PGPORT}"
  K create secret generic target-db -n "${NS}" --from-literal=dsn="postgres://${TARGET}:${base}/${TARGET}?sslmode=disable" >/dev/null
  K create secret generic publisher-db -n "${NS}" --from-literal=dsn="postgres://${DB}_pub:${base}/${DB}?sslmode=disable" >/dev/null
  K create secret generic subscriber-db -n "${NS}" --from-literal=dsn="postgres://${DB}_sub:${base}/${TARGET}?sslmode=disable" >/dev/null
}

# blue_green COPY OUT.json: the BlueGreen KratosUpgrade to TO, waited for until KeepingOld; its state goes to OUT.json.
blue_green() {
  K apply -n "${NS}" -f - >/dev/null <<EOF2
apiVersion: kratos-upgrade.io/v1alpha1
kind: KratosUpgrade
metadata: {name: kratos}
spec:
  deploymentName: kratos
  version: ${TO}
  strategy: BlueGreen
  backup: {policy: Required, persistentVolumeClaim: kratos-backups, verify: false}
  blueGreen:
    targetDatabase: {name: target-db, key: dsn}
    copy: $1
    replication:
      publisherDatabase: {name: publisher-db, key: dsn}
      subscriberDatabase: {name: subscriber-db, key: dsn}
EOF2
  local deadline=$((SECONDS + 1800)) phase
  while phase=$(K get ku -n "${NS}" kratos -o jsonpath='{.status.phase}'); [[ "${phase}" != KeepingOld ]]; do
    [[ "${phase}" != Failed && "${phase}" != RolledBack ]] && ((SECONDS < deadline)) ||
      die "the KratosUpgrade did not reach KeepingOld: $(K get ku -n "${NS}" kratos -o jsonpath='{.status.phase}: {.status.message}')"
    sleep 0.5
  done
  K get ku -n "${NS}" kratos -o json >"$2"
}

echo "run,copy,freeze_seconds,initial_sync_seconds,catch_up_ms,copy_step_seconds,backup_step_seconds,run_seconds" >"${OUT}/results.csv"
for ((run = 1; run <= RUNS; run++)); do
  for copy in Dump Replication; do
    log "run ${run} of ${RUNS}, copy ${copy}: database restored from the starting dump, Kratos ${FROM}"
    delete_namespace
    restore_database
    create_namespace
    prepare_target
    apply_deployment "${FROM}" "${REPLICAS}"
    wait_serving_everywhere "${FROM}"
    started=$(now_ms)
    blue_green "${copy}" "${OUT}/run-${run}-${copy}.json"
    run_ms=$(($(now_ms) - started))
    python3 - "${OUT}/run-${run}-${copy}.json" "${run}" "${copy}" "${run_ms}" >>"${OUT}/results.csv" <<'PY'
import datetime as d, json, sys
status = json.load(open(sys.argv[1]))["status"]
bg, backup = status["blueGreen"], status["backup"]
def seconds(step):
    parse = lambda t: d.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return (parse(step["finishedAt"]) - parse(step["startedAt"])).total_seconds()
print(",".join(str(v) for v in [sys.argv[2], sys.argv[3], bg["freezeSeconds"], bg.get("initialSyncSeconds", ""),
      bg.get("catchUpMillis", ""), seconds(bg["copy"]), seconds(backup), int(sys.argv[4]) / 1000]))
PY
    log "run ${run}, copy ${copy}: $(tail -n 1 "${OUT}/results.csv")"
  done
done
delete_namespace
psql -q -X -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${DB}' AND NOT active" >/dev/null

python3 - "${OUT}/results.csv" "${IDENTITIES}" "${FROM}" "${TO}" "$(du -h "${SEED_DUMP}" | cut -f1)" <<'PY' | tee "${OUT}/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(copy, key):
    values = [float(r[key]) for r in rows if r["copy"] == copy and r[key] != ""]
    return statistics.median(values) if values else float("nan")
runs = len(rows) // 2
print(f"| {int(sys.argv[2]):,} identities ({sys.argv[5]} dump), {sys.argv[3]} -> {sys.argv[4]}, {runs} runs each (medians) "
      f"| write freeze s | copy before the freeze s | catch-up in the freeze ms | copy step s | run to KeepingOld s |")
print("|---|---:|---:|---:|---:|---:|")
for copy, label in (("Dump", "copy Dump: dump and restore inside the freeze"),
                    ("Replication", "copy Replication: initial copy while the old side serves")):
    print(f"| {label} | {med(copy, 'freeze_seconds'):.2f} | "
          f"{'-' if copy == 'Dump' else format(med(copy, 'initial_sync_seconds'), '.2f')} | "
          f"{'-' if copy == 'Dump' else format(med(copy, 'catch_up_ms'), '.0f')} | {med(copy, 'copy_step_seconds'):.2f} | "
          f"{med(copy, 'run_seconds'):.1f} |")
ratios = []
for run in sorted({r["run"] for r in rows}):
    pair = {r["copy"]: float(r["freeze_seconds"]) for r in rows if r["run"] == run}
    if len(pair) == 2:
        ratios.append(pair["Replication"] / pair["Dump"])
print()
print(f"Freeze with Replication against Dump: {statistics.median(ratios):.3f} (median of the runs' ratios; each run: "
      f"{', '.join(f'{r:.3f}' for r in ratios)}).")
PY
