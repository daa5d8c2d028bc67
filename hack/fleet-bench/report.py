#!/usr/bin/env python3
"""Turns one fleet benchmark run's raw data into numbers (`run`), and runs into a table (`table`).

run:   the audit log (requests of the user kuo-bench since the fleet was created), the 2 s samples of the
       operator process, its /q/metrics at the end and the fleet's status -> one JSON object.
table: several of those objects -> a Markdown table, with the ratio of each to the first (the baseline).
"""
import argparse
import json
import math
import re
import sys

WRITES = ("create", "update", "patch", "delete", "deletecollection")


def audit_counts(path, since):
    verbs, resources = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("user", {}).get("username") != "kuo-bench" or e.get("requestReceivedTimestamp", "") < since:
                continue
            verb, stage = e.get("verb"), e.get("stage")
            # A watch that is still open at the end never completes: count it when it starts.
            if stage != ("ResponseStarted" if verb == "watch" else "ResponseComplete"):
                continue
            ref = e.get("objectRef", {})
            resource = ref.get("resource", "?") + ("/" + ref["subresource"] if ref.get("subresource") else "")
            verbs[verb] = verbs.get(verb, 0) + 1
            key = verb + " " + resource
            resources[key] = resources.get(key, 0) + 1
    return verbs, resources


def samples(path, clk_tck):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) == 5:
                rows.append([int(p) for p in parts])
    if not rows:
        return {}
    return {"peakRssMiB": round(max(r[2] for r in rows) / 1024, 1),
            "peakHeapMiB": round(max(r[4] for r in rows) / 1048576, 1),
            "cpuSeconds": round((rows[-1][3] - rows[0][3]) / clk_tck, 1)}


def reconcile_percentiles(path):
    """p50/p95/p99 of JOSDK's reconcile timer for the KratosUpgrade controller, from its histogram buckets."""
    buckets, count, total = {}, 0.0, 0.0
    pattern = re.compile(r'^operator_sdk_controllers_execution_reconcile_seconds(_bucket|_count|_sum)\{([^}]*)\} (\S+)')
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line)
            if not m or 'kratosupgrade' not in m.group(2) or 'fleet' in m.group(2):
                continue
            value = float(m.group(3))
            if m.group(1) == "_bucket":
                le = re.search(r'le="([^"]+)"', m.group(2)).group(1)
                bound = math.inf if le == "+Inf" else float(le)
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif m.group(1) == "_count":
                count += value
            else:
                total += value
    result = {"reconciles": int(count)}
    if count:
        result["reconcileMeanMs"] = round(1000 * total / count, 1)
    ordered = sorted(buckets.items())
    for q in (0.5, 0.95, 0.99):
        for bound, cumulative in ordered:
            if count and cumulative >= q * count:
                result["reconcileP%dMs" % round(q * 100)] = None if bound == math.inf else round(1000 * bound, 1)
                break
    return result


def live_heap(path):
    """The old generation's size after the last collection (Micrometer's jvm_gc_live_data_size_bytes): the live
    data, unlike the heap in use, which counts garbage not collected yet."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("jvm_gc_live_data_size_bytes"):
                return {"liveHeapAfterGcMiB": round(float(line.split()[-1]) / 1048576, 1)}
    return {}


def run(args):
    verbs, resources = audit_counts(args.audit, args.audit_from)
    fleet = json.load(open(args.fleet, encoding="utf-8"))
    status = fleet.get("status", {})
    writes = sum(v for k, v in verbs.items() if k in WRITES)
    result = {"instances": args.n, "seconds": round(args.seconds, 1),
              "succeeded": status.get("counts", {}).get("succeeded", status.get("progress")),
              "waves": len(status.get("waves", [])),
              "requests": sum(verbs.values()), "requestsPerInstance": round(sum(verbs.values()) / args.n, 1),
              "writesPerInstance": round(writes / args.n, 1),
              "writesPerInstanceByVerb": {k: round(v / args.n, 2) for k, v in sorted(verbs.items()) if k in WRITES},
              "readsPerInstanceByVerb": {k: round(v / args.n, 2) for k, v in sorted(verbs.items()) if k not in WRITES},
              "byResource": dict(sorted(resources.items(), key=lambda kv: -kv[1]))}
    result.update(samples(args.samples, args.clk_tck))
    result.update(live_heap(args.metrics))
    result.update(reconcile_percentiles(args.metrics))
    json.dump(result, sys.stdout)
    print()


def table(paths):
    runs = [json.load(open(p if p.endswith(".json") else p + ".json", encoding="utf-8")) for p in paths]
    base = runs[0]
    rows = [("instances", "instances", ""), ("total time", "seconds", "s"), ("peak RSS", "peakRssMiB", " MiB"),
            ("peak heap in use", "peakHeapMiB", " MiB"), ("live heap after GC, at the end", "liveHeapAfterGcMiB", " MiB"), ("CPU", "cpuSeconds", " s"),
            ("API requests per instance", "requestsPerInstance", ""), ("API writes per instance", "writesPerInstance", ""),
            ("reconciles", "reconciles", ""), ("reconcile p50", "reconcileP50Ms", " ms"),
            ("reconcile p95", "reconcileP95Ms", " ms"), ("reconcile p99", "reconcileP99Ms", " ms")]
    header = "| | " + " | ".join("%d instances" % r["instances"] for r in runs) + (" | ratio" if len(runs) > 1 else "") + " |"
    lines = [header, "|---" * (len(runs) + 1 + (len(runs) > 1)) + "|"]
    for label, key, unit in rows[1:]:
        cells = ["-" if r.get(key) is None else "%s%s" % (r[key], unit) for r in runs]
        ratio = ""
        if len(runs) > 1:
            a, b = base.get(key), runs[-1].get(key)
            ratio = " | %.2f" % (b / a) if a and b is not None else " | -"
        lines.append("| %s | %s%s |" % (label, " | ".join(cells), ratio))
    verbs = sorted({v for r in runs for v in r.get("writesPerInstanceByVerb", {})})
    for v in verbs:
        lines.append("| writes per instance: %s | %s%s |" % (v, " | ".join(str(r.get("writesPerInstanceByVerb", {}).get(v, 0)) for r in runs),
                                                          " | " if len(runs) > 1 else ""))
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--audit", required=True)
    r.add_argument("--audit-from", required=True)
    r.add_argument("--samples", required=True)
    r.add_argument("--metrics", required=True)
    r.add_argument("--fleet", required=True)
    r.add_argument("--clk-tck", type=int, default=100)
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    a = p.parse_args()
    if a.cmd == "run":
        run(a)
    else:
        table(a.results)


if __name__ == "__main__":
    main()
