#!/usr/bin/env python3
"""Turns the upgrade benchmark's per-method directories into numbers, a Markdown table and a plot.

Each method directory holds requests.csv (written by the load generator: t_ms,op,status,latency_ms,error; one
row per request, t_ms its scheduled time in ms since the Unix epoch, status 0 for a connection-level failure)
and meta.json (method, title, from, to, upgrade_started_ms, upgrade_finished_ms, restore_point,
old_release_restorable, notes).

summary DIR             one JSON object for that method
table DIR...            a Markdown table, one row per method in the order given (the runs of a method added
                        up: requests and failures summed, the longest window of all, the median wall time);
                        under it the operator's wall time against the raw steps', when raw-steps ran
plot OUT.png DIR...     success rate per second around each method's upgrade, one panel per method (its first
                        run); needs matplotlib: run it with the python that plot-env.sh prints
latency STEPS.json      step_latency.py's output as Markdown: p50, p99 and max, and the slowest steps

summary and table use the standard library only, so they run with any python3.
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys
from collections import Counter, namedtuple

CSV_COLUMNS = ["t_ms", "op", "status", "latency_ms", "error"]
META_KEYS = ("method", "title", "from", "to", "upgrade_started_ms", "upgrade_finished_ms",
             "restore_point", "old_release_restorable", "notes")
RESTORE_POINTS = {"verified": "yes", "unverified": "unverified", "none": "no"}
# The plot shows this much before the upgrade starts and after the slowest method's upgrade finishes.
PLOT_MARGIN_S = 10

Request = namedtuple("Request", "t_ms op status latency_ms error")
Method = namedtuple("Method", "directory meta requests")


class ReportError(Exception):
    """An input that cannot be read, or no matplotlib for plot; main() prints it without a traceback."""


def is_ok(request):
    """As the load generator counts: a 2xx whose body it could use (a 200 without the flow id or the session
    token it needed is recorded with the error class "other")."""
    return 200 <= request.status < 300 and not request.error


def failure_key(request):
    """The HTTP status ("503"); for a connection-level failure 0 and its class ("0/refused"); for a 2xx whose body
    was unusable the status and its class ("200/other")."""
    if request.error and (request.status == 0 or 200 <= request.status < 300):
        return f"{request.status}/{request.error}"
    return str(request.status)


def load_method(directory):
    meta_path = os.path.join(directory, "meta.json")
    csv_path = os.path.join(directory, "requests.csv")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise ReportError(f"{meta_path}: {e}") from e
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise ReportError(f"{meta_path}: missing {', '.join(missing)}")
    if meta["restore_point"] not in RESTORE_POINTS:
        raise ReportError(f"{meta_path}: restore_point must be one of {', '.join(RESTORE_POINTS)}")
    requests = []
    try:
        with open(csv_path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != CSV_COLUMNS:
                raise ReportError(f"{csv_path}: header must be {','.join(CSV_COLUMNS)}, found {header}")
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    t_ms, op, status, latency_ms, error = row
                    # float() first: a writer may print 1.7e12 or 1712345678901.0 for a millisecond.
                    requests.append(Request(int(float(t_ms)), op, int(status), float(latency_ms), error))
                except ValueError as e:
                    raise ReportError(f"{csv_path}:{line}: {e}") from e
    except OSError as e:
        raise ReportError(f"{csv_path}: {e}") from e
    requests.sort(key=lambda r: r.t_ms)
    return Method(directory, meta, requests)


def schedule_interval_ms(requests):
    """The load's schedule interval, estimated as the median gap between consecutive distinct scheduled times
    (distinct: a generator that schedules several requests per tick must not get an interval of 0)."""
    times = sorted({r.t_ms for r in requests})
    if len(times) < 2:
        return 0
    return statistics.median(b - a for a, b in zip(times, times[1:]))


def longest_failure_window(requests):
    """The longest run of consecutive scheduled times at which every request failed, as (start_ms, length_ms),
    or None when no scheduled time had only failures.

    Requests are grouped by scheduled time: a time at which one request failed and another succeeded breaks a
    run, since Kratos was serving then. A run's length is its last time minus its first plus one schedule
    interval, so that a single failed tick counts as one interval, not as 0, and 120 failed ticks at 10 per
    second count as 12 s.
    """
    all_failed = {}
    for r in requests:
        all_failed[r.t_ms] = all_failed.get(r.t_ms, True) and not is_ok(r)
    runs, run = [], []
    for t in sorted(all_failed):
        if all_failed[t]:
            run.append(t)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    if not runs:
        return None
    longest = max(runs, key=lambda r: r[-1] - r[0])  # the earliest of equally long runs
    return longest[0], longest[-1] - longest[0] + schedule_interval_ms(requests)


def summarize(method):
    meta, requests = method.meta, method.requests
    failed = [r for r in requests if not is_ok(r)]
    by_key = Counter(failure_key(r) for r in failed)
    window = longest_failure_window(requests)
    summary = dict(meta)
    summary.update({
        "requests": len(requests),
        "ok": len(requests) - len(failed),
        "failed": len(failed),
        # Most frequent first, then by name, so that the order is the same on every run.
        "failed_by_status": dict(sorted(by_key.items(), key=lambda kv: (-kv[1], kv[0]))),
        "longest_failure_window_s": round(window[1] / 1000, 3) if window else 0,
        "longest_failure_window_starts_s": (round((window[0] - meta["upgrade_started_ms"]) / 1000, 3)
                                            if window else None),
        "wall_seconds": round((meta["upgrade_finished_ms"] - meta["upgrade_started_ms"]) / 1000, 3),
    })
    return summary


def failed_cell(summary):
    """The count and its breakdown, "12 (503: 10, refused: 2)": connection-level failures by their class alone."""
    if not summary["failed"]:
        return "0"
    parts = [f"{key[2:] if key.startswith('0/') else key}: {count}"
             for key, count in summary["failed_by_status"].items()]
    return f"{summary['failed']} ({', '.join(parts)})"


def combine(summaries):
    """The runs of each method as one summary, methods in the order of their first run: requests and failures
    summed, the longest failure window of all runs, the median wall time (and all of them), the weakest restore
    point, and the old release restorable only if it was in every run."""
    by_method = {}
    for s in summaries:
        by_method.setdefault(s["method"], []).append(s)
    combined = []
    for runs in by_method.values():
        failed_by_status = Counter()
        for r in runs:
            failed_by_status.update(r["failed_by_status"])
        walls = [r["wall_seconds"] for r in runs]
        restorable = [r["old_release_restorable"] for r in runs]
        combined.append(dict(runs[0], **{
            "runs": len(runs),
            "requests": sum(r["requests"] for r in runs),
            "ok": sum(r["ok"] for r in runs),
            "failed": sum(r["failed"] for r in runs),
            "failed_by_status": dict(sorted(failed_by_status.items(), key=lambda kv: (-kv[1], kv[0]))),
            "longest_failure_window_s": max(r["longest_failure_window_s"] for r in runs),
            "wall_seconds": statistics.median(walls),
            "wall_seconds_all": walls,
            "restore_point": max((r["restore_point"] for r in runs), key=list(RESTORE_POINTS).index),
            "old_release_restorable": None if None in restorable else all(restorable),
        }))
    return combined


def wall_cell(summary):
    walls = summary.get("wall_seconds_all") or [summary["wall_seconds"]]
    median = f"{summary['wall_seconds']:.1f}"
    return median if len(walls) == 1 else f"{median} ({min(walls):.1f}-{max(walls):.1f})"


def markdown_table(summaries):
    header = ["Method", "Runs", "Requests", "Failed", "Longest failure window (s)", "Wall time (s)",
              "Verified restore point", "Old release restorable"]
    restorable = {True: "yes", False: "no", None: "-"}
    # Numbers right-aligned; the failed column is text (its breakdown), so left-aligned.
    alignment = ["---", "---:", "---:", "---", "---:", "---:", "---", "---"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(alignment) + "|"]
    for s in combine(summaries):
        window = s["longest_failure_window_s"]
        row = [
            str(s["title"]).replace("|", "\\|"),
            str(s["runs"]),
            str(s["requests"]),
            failed_cell(s),
            f"{window:.1f}" if window else "-",
            wall_cell(s),
            RESTORE_POINTS[s["restore_point"]],
            restorable[s["old_release_restorable"]],
        ]
        lines.append("| " + " | ".join(row) + " |")
    overhead = overhead_lines(summaries)
    return "\n".join(lines) + "\n" + ("\n" + "\n".join(overhead) + "\n" if overhead else "")


def overhead_lines(summaries):
    """Each operator method's median wall time against raw-steps' (the same steps by hand, back to back)."""
    combined = {s["method"]: s for s in combine(summaries)}
    raw = combined.get("raw-steps")
    if not raw:
        return []
    lines = []
    for method, s in combined.items():
        if method.startswith("operator-"):
            share = 100 * (s["wall_seconds"] - raw["wall_seconds"]) / raw["wall_seconds"]
            lines.append(f"- {method}: {s['wall_seconds']:.1f} s against the raw steps' {raw['wall_seconds']:.1f} s "
                         f"(medians of {s['runs']} and {raw['runs']} runs): {share:+.1f}%")
    return ["Overhead, the operator's wall time against the same steps by hand:"] + lines if lines else []


def latency_markdown(found, slowest=5):
    """step_latency.py's summary as a sentence and the slowest steps."""
    if not found.get("count"):
        return "Step-to-step latency: no completed step found in the audit log.\n"
    lines = [f"Step-to-step latency (audit log, {found['count']} steps), from a step's completion to the operator's "
             f"next write: p50 {found['p50_ms']:.1f} ms, p99 {found['p99_ms']:.1f} ms, max {found['max_ms']:.1f} ms."]
    if found.get("start_count"):
        lines.append(f"To its first write of the next step's objects ({found['start_count']} steps): "
                     f"p50 {found['start_p50_ms']:.1f} ms, p99 {found['start_p99_ms']:.1f} ms, "
                     f"max {found['start_max_ms']:.1f} ms.")
    if found.get("runs"):
        lines.append(f"Per run ({len(found['runs'])} complete), from the operator's first write to its last status write: "
                     f"median {found['span_median_s']:.2f} s, of which its own time between its Jobs and its rollout "
                     f"{found['own_median_s']:.2f} s ({100 * found['own_share_median']:.1f}%, the median of the runs' shares).")
    lines += ["", "The slowest reactions:", ""]
    for step in sorted(found["steps"], key=lambda st: -st["latency_ms"])[:slowest]:
        started = (f"; next step's first object after {step['start_latency_ms']:.1f} ms ({step['started']})"
                   if step.get("start_latency_ms") is not None else "")
        lines.append(f"- {step['latency_ms']:.1f} ms: {step['completed']} -> {step['next']}{started}")
    return "\n".join(lines) + "\n"


def first_runs(methods):
    """The first directory given of each method, in order."""
    seen, first = set(), []
    for m in methods:
        if m.meta["method"] not in seen:
            seen.add(m.meta["method"])
            first.append(m)
    return first


def success_rate_per_second(method, first_s, last_s):
    """Seconds first_s..last_s-1 since the upgrade started, each with the percentage of the requests scheduled
    in it that succeeded, or NaN when none were scheduled (plotted as a gap, not as 0 %)."""
    started = method.meta["upgrade_started_ms"]
    totals, oks = Counter(), Counter()
    for r in method.requests:
        second = math.floor((r.t_ms - started) / 1000)
        totals[second] += 1
        oks[second] += is_ok(r)
    seconds = list(range(first_s, last_s))
    rates = [100 * oks[s] / totals[s] if totals[s] else math.nan for s in seconds]
    return seconds, rates


def build_figure(methods):
    """One panel per method, stacked on a shared x axis; returned rather than saved so that tests can look."""
    # Imported here so that summary and table run without matplotlib. A Figure of its own rather than pyplot's:
    # no GUI backend is looked for and no global state is left behind, and savefig renders with Agg.
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ReportError(f"plot needs matplotlib ({e}): run report.py with the python that "
                          "hack/upgrade-bench/plot-env.sh prints") from e

    summaries = [summarize(m) for m in methods]
    first_s = -PLOT_MARGIN_S
    last_s = math.ceil(max(s["wall_seconds"] for s in summaries) + PLOT_MARGIN_S)
    fig = Figure(figsize=(10, 1.6 * len(methods)), layout="constrained")
    axes = fig.subplots(len(methods), 1, sharex=True, squeeze=False)
    for ax, method, summary in zip(axes[:, 0], methods, summaries):
        seconds, rates = success_rate_per_second(method, first_s, last_s)
        # Steps, not a line through the points: each rate holds for its whole second, and an outage starts at
        # the second it starts, not half a bucket earlier.
        edges = seconds + [last_s]
        ax.axvspan(0, summary["wall_seconds"], color="tab:blue", alpha=0.12, linewidth=0)
        ax.fill_between(edges, rates + rates[-1:], 100, step="post", color="tab:red", alpha=0.35, linewidth=0)
        ax.stairs(rates, edges, baseline=None, color="tab:green", linewidth=1.2)
        ax.set_title(f"{summary['title']}: {summary['failed']} failed of {summary['requests']}",
                     fontsize=9, loc="left")
        ax.set_ylim(-5, 105)
        ax.set_yticks([0, 50, 100])
        ax.set_ylabel("ok %", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", linewidth=0.3)
    axes[-1, 0].set_xlim(first_s, last_s)
    axes[-1, 0].set_xlabel("seconds since the upgrade started (shaded: until the new release serves everywhere)",
                           fontsize=8)
    return fig


def save_plot(methods, out_path):
    fig = build_figure(methods)
    # No "Software" entry: the PNG then depends on the data and the pinned matplotlib only.
    fig.savefig(out_path, dpi=110, metadata={"Software": None})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("summary", help="one method as JSON").add_argument("directory")
    commands.add_parser("table", help="methods as a Markdown table").add_argument("directories", nargs="+")
    plot = commands.add_parser("plot", help="methods' success rate over time as a PNG (needs matplotlib)")
    plot.add_argument("out")
    plot.add_argument("directories", nargs="+")
    commands.add_parser("latency", help="step_latency.py's output as Markdown").add_argument("steps_json")
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            print(json.dumps(summarize(load_method(args.directory)), indent=2))
        elif args.command == "table":
            sys.stdout.write(markdown_table([summarize(load_method(d)) for d in args.directories]))
        elif args.command == "latency":
            with open(args.steps_json, encoding="utf-8") as f:
                sys.stdout.write(latency_markdown(json.load(f)))
        else:
            save_plot(first_runs([load_method(d) for d in args.directories]), args.out)
    except ReportError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
