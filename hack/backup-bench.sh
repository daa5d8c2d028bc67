#!/usr/bin/env bash
#
# Backup throughput: the operator's backup Job's pg_dump against pg_dump run directly on the host, on the same
# database of many identities, side by side in each run. On the local cluster (hack/local-cluster.sh) or the
# cluster of KUBECONFIG with the node's PostgreSQL.
#
#   hack/backup-bench.sh [--identities N] [--runs N] [--from V] [--to V]
#
#   --identities  identities in the database (default 100000): one through the admin API, the rest copied
#                 from it by SQL (hack/upgrade-bench/bulk-identities.sql)
#   --runs        runs (default 5); each restores the starting database, dumps it from the host, then has the
#                 operator upgrade Kratos (its backup unverified, no rehearsal) and reads the Job's dump time
#   --from/--to   releases (default v1.0.0 -> v1.3.1)
#
# The host's pg_dump reaches PostgreSQL the way the Job does (TCP to the node's address, the benchmark's role)
# and writes the same format (custom, default compression) to a file on the same disk as the backup volume. The
# Job's time is the one its script measures around pg_dump (status.backup.dumpSeconds), without the pod's start,
# the snapshot's counts and the checksum; the whole backup step's time is printed apart. The host dumps first in
# each run, right after the restore, so that both find the same warm cache.
#
# Results go to BENCH_OUT (default /tmp/backup-bench-<time>): results.csv, one row per run, and table.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${KUO_ROOT}"

IDENTITIES=100000
RUNS=5
FROM=v1.0.0
TO=v1.3.1
REPLICAS=1
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

OUT="${BENCH_OUT:-/tmp/backup-bench-$(date -u +%Y%m%dT%H%M%SZ)}"
source hack/upgrade-bench/lib.sh

log "images: Kratos ${FROM} and ${TO}, database tools"
hack/images.sh build "kratos:${FROM}" "kratos:${TO}" db-tools >/dev/null
hack/images.sh load "kratos:${FROM}" "kratos:${TO}" db-tools

timed "starting database" seed_database 1 $((IDENTITIES - 1))
start_operator

# seconds between two RFC 3339 timestamps of a status (whole seconds)
status_seconds() { python3 -c 'import sys, datetime as d; p = lambda t: d.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ"); print(int((p(sys.argv[2]) - p(sys.argv[1])).total_seconds()))' "$1" "$2"; }

echo "run,host_seconds,host_bytes,job_dump_seconds,job_bytes,backup_step_seconds,migration_step_seconds" >"${OUT}/results.csv"
for ((run = 1; run <= RUNS; run++)); do
  log "run ${run} of ${RUNS}: database restored from the starting dump, Kratos ${FROM}"
  delete_namespace
  restore_database
  create_namespace
  apply_deployment "${FROM}" "${REPLICAS}"
  wait_serving_everywhere "${FROM}"

  rm -f "${OUT}/host.dump"
  started=$(now_ms)
  PGPASSWORD="${DB_PASSWORD}" pg_dump --format=custom --no-password --host="${KUO_PG_HOST_FOR_PODS}" --port="${PGPORT}" \
    --username="${DB}" --dbname="${DB}" --file="${OUT}/host.dump"
  host_ms=$(($(now_ms) - started))
  host_bytes=$(stat -c %s "${OUT}/host.dump")

  apply_upgrade Rolling false "${OUT}/run-${run}.json"
  read -r job_seconds job_bytes backup_started backup_finished migration_started migration_finished < <(python3 - "${OUT}/run-${run}.json" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))["status"]
b, m = status["backup"], status["migration"]
print(b["dumpSeconds"], b["bytes"], b["startedAt"], b["finishedAt"], m["startedAt"], m["finishedAt"])
PY
  )
  host_seconds=$(awk -v ms="${host_ms}" 'BEGIN { printf "%.3f", ms / 1000 }')
  echo "${run},${host_seconds},${host_bytes},${job_seconds},${job_bytes},$(status_seconds "${backup_started}" "${backup_finished}"),$(status_seconds "${migration_started}" "${migration_finished}")" \
    >>"${OUT}/results.csv"
  log "run ${run}: host pg_dump ${host_seconds}s (${host_bytes} bytes), the Job's ${job_seconds}s (${job_bytes} bytes)"
done

python3 - "${OUT}/results.csv" "${IDENTITIES}" "${FROM}" "${TO}" <<'PY' | tee "${OUT}/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = lambda key: statistics.median(float(r[key]) for r in rows)
mib = lambda n: n / 1024 / 1024
host_s, job_s = med("host_seconds"), med("job_dump_seconds")
host_b, job_b = med("host_bytes"), med("job_bytes")
ratios = [(float(r["job_bytes"]) / float(r["job_dump_seconds"])) / (float(r["host_bytes"]) / float(r["host_seconds"]))
          for r in rows]
print(f"| {int(sys.argv[2]):,} identities, {len(rows)} runs (medians) | seconds | MiB | MiB/s |")
print("|---|---:|---:|---:|")
print(f"| pg_dump on the host | {host_s:.2f} | {mib(host_b):.1f} | {mib(host_b) / host_s:.1f} |")
print(f"| pg_dump in the operator's backup Job | {job_s:.2f} | {mib(job_b):.1f} | {mib(job_b) / job_s:.1f} |")
print()
print(f"Throughput of the Job against the host: {statistics.median(ratios):.3f} (median of the runs' ratios; "
      f"each run: {', '.join(f'{r:.3f}' for r in ratios)}).")
print(f"The whole backup step (Job created to Complete, counts and checksum included, whole seconds): "
      f"median {med('backup_step_seconds'):.0f} s; the migration step, {sys.argv[3]} to {sys.argv[4]}: "
      f"median {med('migration_step_seconds'):.0f} s.")
PY
