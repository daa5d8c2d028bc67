#!/usr/bin/env python3
"""Where each method's wall time goes, segment by segment, from the API server's audit log.

A run of raw-steps and a run of the operator do the same three steps (a dump Job, the migration Job, the
rollout); this cuts both into the same segments, measured on the writes of Kubernetes itself (the Job
controller, the kubelet, the Deployment controller), which the audit log records for every method:

  start -> first Job    from the harness's start to the Job controller's first write on the first Job
  Job N                 from that first write to the Job's success (its pod's Succeeded or its condition)
  Job N -> next         from a Job's success to the first write on the next Job (or on the Deployment)
  rollout               from the Deployment controller's first write after the last Job to the rollout's end
  rollout -> served     from the rollout's end to the harness seeing the new release alone on every pod

  segments.py --namespace NS RUN_DIR...   -> a Markdown table: per method, the median of each segment

Each RUN_DIR holds meta.json (method, upgrade_started_ms, upgrade_finished_ms) and audit.jsonl.
"""
import argparse
import json
import os
import statistics
import sys

import step_latency


def run_segments(events, namespace, started_s, finished_s):
    """The segments of one run, in order, as (name, seconds); None when the run is not complete in the log."""
    events = sorted((e for e in events if (e.get("objectRef") or {}).get("namespace") == namespace
                     and e.get("stage") == "ResponseComplete"), key=lambda e: e["requestReceivedTimestamp"])
    first_write, done, rollout_start, rollout_end = {}, {}, None, None
    for e in events:
        user = (e.get("user") or {}).get("username")
        at = step_latency.timestamp(e["stageTimestamp"])
        ref = e.get("objectRef") or {}
        if user == step_latency.JOB_CONTROLLER and ref.get("resource") == "jobs":
            first_write.setdefault(ref.get("name"), at)
        what = step_latency.completion(e, first_write)
        if what and what.startswith("job "):
            done.setdefault(what[len("job "):], at)
        if user == step_latency.DEPLOYMENT_CONTROLLER and first_write and set(first_write) <= set(done):
            rollout_start = rollout_start if rollout_start is not None else at
            if what and rollout_end is None:
                rollout_end = at
    jobs = sorted(first_write, key=first_write.get)
    if not jobs or rollout_end is None or any(job not in done for job in jobs):
        return None
    result = [("start -> first Job", first_write[jobs[0]] - started_s)]
    for i, job in enumerate(jobs, 1):
        result.append((f"Job {i}", done[job] - first_write[job]))
        following = first_write[jobs[i]] if i < len(jobs) else rollout_start
        result.append((f"Job {i} -> next", following - done[job]))
    result += [("rollout", rollout_end - rollout_start), ("rollout -> served", finished_s - rollout_end)]
    return result


def by_method(run_dirs, namespace):
    """{method: [segments of each complete run]}, in the order the methods first appear."""
    methods = {}
    for directory in run_dirs:
        with open(os.path.join(directory, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        segments = run_segments(list(step_latency.read(os.path.join(directory, "audit.jsonl"))), namespace,
                                meta["upgrade_started_ms"] / 1000, meta["upgrade_finished_ms"] / 1000)
        if segments:
            methods.setdefault(meta["method"], []).append(segments)
    return methods


def markdown(methods):
    """One row per segment, one column per method (the median over its runs, in seconds), and the total."""
    names = list(methods)
    rows = []
    order = max((runs[0] for runs in methods.values()), key=len, default=[])
    for segment, _ in order + [("total", None)]:
        cells = []
        for name in names:
            values = [sum(s for _, s in run) if segment == "total" else dict(run).get(segment) for run in methods[name]]
            values = [v for v in values if v is not None]
            cells.append(f"{statistics.median(values):.2f}" if values else "")
        rows.append(f"| {segment} | " + " | ".join(cells) + " |")
    header = "| segment (median, s) | " + " | ".join(f"{n} ({len(methods[n])} runs)" for n in names) + " |"
    return "\n".join([header, "|---|" + "---:|" * len(names)] + rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("run_dirs", nargs="+")
    args = parser.parse_args(argv)
    methods = by_method(args.run_dirs, args.namespace)
    if not methods:
        print("no complete run in the audit logs", file=sys.stderr)
        return 1
    print(markdown(methods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
