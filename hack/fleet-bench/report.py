#!/usr/bin/env python3
"""Turns one fleet benchmark run's raw data into numbers (`run`), and runs into a table (`table`).

run:   the audit log (requests of the user kuo-bench since the fleet was created), the 2 s samples of the
       operator process, its /q/metrics at the end and the fleet's status -> one JSON object.
table: several of those objects -> a Markdown table, with the ratio of each to the first (the baseline).
chart: several runs' samples -> an SVG of the operator's RSS and heap in use over time, against the target.
"""
import argparse
import json
import math
import re
import sys

WRITES = ("create", "update", "patch", "delete", "deletecollection")


def audit_counts(paths, since, until):
    """The API server rotates its audit log (the local cluster: at 200 MB, one old file kept): read them all."""
    verbs, resources = {}, {}
    for line in (line for path in paths for line in open(path, encoding="utf-8")):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        received = e.get("requestReceivedTimestamp", "")
        if e.get("user", {}).get("username") != "kuo-bench" or received < since or (until and received > until):
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
    verbs, resources = audit_counts(args.audit, args.audit_from, args.audit_until)
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


COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def chart(out, paths, target_mib=300):
    """RSS (solid) and heap in use (dashed) of each run over the seconds since the operator started; a sample
    without a value (the metrics endpoint did not answer in time) leaves a gap, not a zero."""
    runs = []
    for path in paths:
        n = re.search(r"samples-(\d+)", path)
        with open(path, encoding="utf-8") as f:
            next(f)
            rows = [[int(p) for p in line.split()] for line in f if len(line.split()) == 5]
        t0 = rows[0][0]
        runs.append(("%s tenants" % (n.group(1) if n else path), [(r[0] - t0, r[1] / 1024, r[4] / 1048576) for r in rows]))
    width, height, left, bottom, top, right = 760, 360, 60, 40, 30, 20
    max_t = max(p[0] for _, pts in runs for p in pts) or 1
    max_y = max(target_mib, max(max(p[1], p[2]) for _, pts in runs for p in pts)) * 1.1
    x = lambda t: left + (width - left - right) * t / max_t
    y = lambda v: height - bottom - (height - bottom - top) * v / max_y
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">Operator memory during the fleet benchmark (MiB over seconds)</text>' % left]
    step = 100 if max_y > 400 else 50
    for v in range(0, int(max_y) + 1, step):
        svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%d</text>'
                   % (left, width - right, y(v), y(v), left - 6, y(v) + 4, v))
    t_step = max(60, int(max_t / 8 // 60 * 60) or 60)
    for t in range(0, int(max_t) + 1, t_step):
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%d s</text>' % (x(t), height - bottom + 16, t))
    svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>'
               '<text x="%d" y="%.1f" fill="#555">target: %d MiB RSS</text>'
               % (left, width - right, y(target_mib), y(target_mib), width - right - 150, y(target_mib) - 4, target_mib))
    for i, (label, pts) in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        for idx, dash, what in ((1, "", "RSS"), (2, ' stroke-dasharray="6,4"', "heap in use")):
            svg.append('<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="%s"/>'
                       % (colour, dash, " ".join("%.1f,%.1f" % (x(p[0]), y(p[idx])) for p in pts if p[idx] > 0)))
            ly = top + 8 + 16 * (2 * i + idx - 1)
            svg.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="1.5"%s/><text x="%d" y="%d">%s, %s</text>'
                       % (left + 10, left + 40, ly, ly, colour, dash, left + 46, ly + 4, label, what))
    svg.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--audit", required=True, nargs="+")
    r.add_argument("--audit-from", required=True)
    r.add_argument("--audit-until", default=None, help="the run's end (RFC 3339, UTC); later requests are not counted")
    r.add_argument("--samples", required=True)
    r.add_argument("--metrics", required=True)
    r.add_argument("--fleet", required=True)
    r.add_argument("--clk-tck", type=int, default=100)
    t = sub.add_parser("table")
    t.add_argument("results", nargs="+")
    c = sub.add_parser("chart")
    c.add_argument("out")
    c.add_argument("samples", nargs="+")
    a = p.parse_args()
    if a.cmd == "run":
        run(a)
    elif a.cmd == "chart":
        chart(a.out, a.samples)
    else:
        table(a.results)


if __name__ == "__main__":
    main()
