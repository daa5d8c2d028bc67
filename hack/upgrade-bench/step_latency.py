#!/usr/bin/env python3
"""The operator's step-to-step latency, from the API server's audit log.

For each step that completes (a Job's: the kubelet's status write that marks the Job's pod Succeeded, or the
Job controller's that marks the Job succeeded, whichever comes first; a rollout's: the Deployment controller's
status write that completes it), two times:
- latency: until the operator's next write in that namespace, its reaction (the status announcing the next
  step, as the operator writes status ahead of side effects);
- start latency: until its first write of the next step's own objects (a Secret, a Job, the Deployment), when
  one comes before the next completion (none after the last step).
And per run its timeline: how long the operator's Jobs ran (created to succeeded) and its rollout took (the
Deployment patched to the rollout done), against the run from the operator's first write to its last status
write; the rest is the operator's own time between steps.
Audit events carry microsecond timestamps; objects only whole seconds. A Job succeeds with the first write that
says so: its pod's Succeeded (the operator acts on it; the Job controller syncs a Job up to a second after its
pod's update), else the condition SuccessCriteriaMet (Kubernetes 1.31+), some tens of milliseconds before
Complete.

Needs an audit policy that records, in the benchmark's namespace, the controllers' and the kubelet's status
writes at level Request (their body says Complete, Succeeded) and the operator's requests at level Metadata or
more.

  step_latency.py --namespace NS --operator-user USER AUDIT_LOG...   -> one JSON object: the steps, p50, p99, max

Each AUDIT_LOG is one run (the harness cuts the API server's log per run): runs reuse the names of their Jobs.
"""
import argparse
import json
import statistics
import sys
from datetime import datetime

JOB_CONTROLLER = "system:serviceaccount:kube-system:job-controller"
DEPLOYMENT_CONTROLLER = "system:serviceaccount:kube-system:deployment-controller"
NODES = "system:nodes"
WRITES = ("create", "update", "patch", "delete")
# Writes that report or coordinate rather than start work.
NOT_A_STEP = ("kratosupgrades", "events", "leases")


def timestamp(text):
    """RFC 3339 with microseconds ("2026-11-30T05:31:13.123456Z") as seconds since the epoch."""
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def conditions(event):
    status = (event.get("requestObject") or {}).get("status") or {}
    return status, {c.get("type"): c for c in status.get("conditions") or []}


def completion(event, jobs):
    """What a status write completes ("job NAME" or "rollout NAME"), or None. jobs: the names of the Jobs the
    Job controller has written about so far (a Job's pod is named JOB-xxxxx; the Deployment's pods, which also
    end Succeeded when the rollout stops them, are not a Job's)."""
    ref = event.get("objectRef") or {}
    if event.get("verb") not in ("update", "patch") or ref.get("subresource") != "status":
        return None
    user = (event.get("user") or {}).get("username")
    status, by_type = conditions(event)
    if NODES in ((event.get("user") or {}).get("groups") or ()) and ref.get("resource") == "pods":
        # The kubelet's patch carries the phase when it changes.
        job = ref.get("name", "").rsplit("-", 1)[0]
        return f"job {job}" if status.get("phase") == "Succeeded" and job in jobs else None
    if user == JOB_CONTROLLER and ref.get("resource") == "jobs":
        succeeded = any((by_type.get(kind) or {}).get("status") == "True" for kind in ("SuccessCriteriaMet", "Complete"))
        return f"job {ref.get('name')}" if succeeded else None
    if user == DEPLOYMENT_CONTROLLER and ref.get("resource") == "deployments":
        progressing = by_type.get("Progressing") or {}
        wanted = ((event.get("requestObject") or {}).get("spec") or {}).get("replicas", 1)
        # As many pods as the spec wants, at least one: a Deployment scaled to 0 (Recreate stops the old pods
        # first) has not rolled out, nor one whose status still counts the pods of before the scale-down.
        done = (progressing.get("reason") == "NewReplicaSetAvailable" and wanted > 0
                and wanted == status.get("replicas") == status.get("updatedReplicas") == status.get("availableReplicas"))
        return f"rollout {ref.get('name')}" if done else None
    return None


def note_job(event, jobs):
    """Adds the Job a Job controller's write is about to jobs."""
    ref = event.get("objectRef") or {}
    if (event.get("user") or {}).get("username") == JOB_CONTROLLER and ref.get("resource") == "jobs":
        jobs.add(ref.get("name"))


def steps(events, namespace, operator_user):
    """Each completion (the first of each Job; each rollout after an operator's write to that Deployment)
    paired with the operator's first write in the namespace that the API server received after it, and with
    its first write of a step's object before the next completion."""
    events = sorted((e for e in events if (e.get("objectRef") or {}).get("namespace") == namespace
                     and e.get("stage") == "ResponseComplete"), key=lambda e: e["requestReceivedTimestamp"])
    seen, armed_rollouts, pending, awaiting_start, result, jobs = set(), set(), [], [], [], set()
    for e in events:
        ref = e.get("objectRef") or {}
        user = (e.get("user") or {}).get("username")
        note_job(e, jobs)
        if user == operator_user and e.get("verb") in WRITES:
            received = timestamp(e["requestReceivedTimestamp"])
            write = (f"{e['verb']} {ref.get('resource')}" + (f"/{ref['subresource']}" if ref.get("subresource") else "")
                     + f" {ref.get('name')}")
            for what, completed in pending:
                step = {"completed": what, "next": write, "latency_ms": round((received - completed) * 1000, 3),
                        "started": None, "start_latency_ms": None, "completed_at": completed}
                result.append(step)
                awaiting_start.append(step)
            pending = []
            if e.get("verb") != "delete" and ref.get("resource") not in NOT_A_STEP:
                for step in awaiting_start:
                    step["started"] = write
                    step["start_latency_ms"] = round((received - step["completed_at"]) * 1000, 3)
                awaiting_start = []
            if ref.get("resource") == "deployments" and not ref.get("subresource"):
                armed_rollouts.add(ref.get("name"))
            continue
        what = completion(e, jobs)
        if what is None or what in seen:
            continue
        if what.startswith("rollout "):
            if what[len("rollout "):] not in armed_rollouts:
                continue
            armed_rollouts.discard(what[len("rollout "):])
        else:
            seen.add(what)
        awaiting_start = []  # a new completion: what came before it started nothing more
        pending.append((what, timestamp(e["stageTimestamp"])))
    for step in result:
        del step["completed_at"]
    return result


def timeline(events, namespace, operator_user):
    """One run: its span (the operator's first write to its last status write), the time its Jobs and rollout
    took, and what is left, the operator's own time; None when the run is not complete in these events."""
    events = sorted((e for e in events if (e.get("objectRef") or {}).get("namespace") == namespace
                     and e.get("stage") == "ResponseComplete"), key=lambda e: e["requestReceivedTimestamp"])
    first = last = patched = rolled = None
    created, succeeded, jobs = {}, {}, set()
    for e in events:
        ref = e.get("objectRef") or {}
        user = (e.get("user") or {}).get("username")
        note_job(e, jobs)
        received = timestamp(e["requestReceivedTimestamp"])
        if user == operator_user and e.get("verb") in WRITES:
            first = first if first is not None else received
            if e["verb"] == "create" and ref.get("resource") == "jobs":
                created[ref.get("name")] = received
            elif e["verb"] == "patch" and ref.get("resource") == "deployments" and not ref.get("subresource"):
                # The rollout starts with the last patch before it ends (Recreate scales to 0 first: that wait
                # for the old pods to end counts as the operator's).
                patched = received if rolled is None else patched
            elif ref.get("resource") == "kratosupgrades" and ref.get("subresource") == "status":
                last = received
            continue
        what = completion(e, jobs)
        if what and what.startswith("job "):
            succeeded.setdefault(what[len("job "):], timestamp(e["stageTimestamp"]))
        elif what and patched is not None and rolled is None:
            rolled = timestamp(e["stageTimestamp"])
    if first is None or last is None or rolled is None or any(name not in succeeded for name in created):
        return None
    steps = {name: round(succeeded[name] - at, 3) for name, at in created.items()}
    steps["rollout"] = round(rolled - patched, 3)
    span = last - first
    return {"span_s": round(span, 3), "steps_s": steps, "own_s": round(span - sum(steps.values()), 3)}


def percentile(values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summary(found, runs=()):
    latencies = [s["latency_ms"] for s in found]
    if not latencies:
        return {"steps": found, "count": 0}
    result = {"steps": found, "count": len(latencies), "p50_ms": percentile(latencies, 50),
              "p99_ms": percentile(latencies, 99), "max_ms": max(latencies)}
    starts = [s["start_latency_ms"] for s in found if s.get("start_latency_ms") is not None]
    if starts:
        result.update({"start_count": len(starts), "start_p50_ms": percentile(starts, 50),
                       "start_p99_ms": percentile(starts, 99), "start_max_ms": max(starts)})
    runs = [r for r in runs if r]
    if runs:
        result.update({"runs": runs, "span_median_s": statistics.median(r["span_s"] for r in runs),
                       "own_median_s": statistics.median(r["own_s"] for r in runs),
                       "own_share_median": round(statistics.median(r["own_s"] / r["span_s"] for r in runs), 4)})
    return result


def read(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--operator-user", required=True)
    parser.add_argument("audit_logs", nargs="+")
    args = parser.parse_args(argv)
    found, runs = [], []
    for path in args.audit_logs:
        events = list(read(path))
        found += steps(events, args.namespace, args.operator_user)
        runs.append(timeline(events, args.namespace, args.operator_user))
    json.dump(summary(found, runs), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
