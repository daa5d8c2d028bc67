#!/usr/bin/env python3
"""Renders some of dashboards/kratos-upgrade.json's queries, evaluated by hand on scrapes of /q/metrics.

Not Grafana and not Prometheus: each panel's query is evaluated on one scrape (instant queries; an
increase() over the range is the counter's value, the application having started at 0), with
histogram_quantile done as Prometheus does it (linear interpolation inside the bucket).

  dashboards/render-scrapes.py WAITING.prom FINAL.prom OUT.png

QuarkusApplicationIT writes the two scrapes to target/metrics-scrapes/ (one while its run awaits approval,
one after the run); a header line "# scraped-at <unix seconds>" gives time(). Needs matplotlib
(hack/upgrade-bench/plot-env.sh makes a venv with it).
"""
import math
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"')


def load(path):
    samples, at = [], None
    for line in open(path, encoding="utf-8"):
        if line.startswith("# scraped-at "):
            at = float(line.split()[2])
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return samples, at


def select(samples, name, **match):
    return [(l, v) for n, l, v in samples if n == name and all(l.get(k) == w for k, w in match.items())]


def sum_by(rows, label):
    out = {}
    for l, v in rows:
        out[l.get(label, "")] = out.get(l.get(label, ""), 0.0) + v
    return out


def histogram_quantile(q, buckets):
    """buckets: {le: cumulative count}; Prometheus' algorithm."""
    les = sorted(buckets, key=lambda le: math.inf if le == "+Inf" else float(le))
    bounds = [(math.inf if le == "+Inf" else float(le), buckets[le]) for le in les]
    total = bounds[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    for i, (upper, count) in enumerate(bounds):
        if count >= rank:
            if upper == math.inf:
                return bounds[i - 1][0]
            lower, below = (0.0, 0.0) if i == 0 else bounds[i - 1]
            return lower + (upper - lower) * (rank - below) / (count - below)
    return math.nan


def quantiles_by(samples, name, label, q, **match):
    per = {}
    for l, v in select(samples, name + "_bucket", **match):
        per.setdefault(l[label], {})
        per[l[label]][l["le"]] = per[l[label]].get(l["le"], 0.0) + v
    return {k: histogram_quantile(q, b) for k, b in per.items()}


def barh(ax, values, title, unit=""):
    keys = [k for k in values if not math.isnan(values[k])]
    ax.barh(keys, [values[k] for k in keys], color="#3274d9")
    for i, k in enumerate(keys):
        ax.text(values[k], i, f" {values[k]:.3g}{unit}", va="center", fontsize=8)
    ax.set_title(title, fontsize=9, loc="left")
    ax.tick_params(labelsize=8)
    ax.invert_yaxis()


def main(waiting_path, final_path, out):
    waiting, waiting_at = load(waiting_path)
    final, final_at = load(final_path)
    fig, axes = plt.subplots(3, 3, figsize=(16, 12))
    fig.suptitle("dashboards/kratos-upgrade.json: its queries evaluated on two scrapes of /q/metrics from "
                 "QuarkusApplicationIT\n(one Rolling run against a real API server with fake Job/Pod controllers, so phases take "
                 "seconds and each quantile is interpolated inside one bucket;\nrendered by dashboards/render-scrapes.py, "
                 "not a Grafana screenshot)", fontsize=10)

    barh(axes[0][0], sum_by(select(final, "kratos_upgrade_runs_total"), "result"),
         "Runs ended, by result\nsum by (result) (increase(kratos_upgrade_runs_total[$__range]))")
    in_phase = {k: v for k, v in sum_by(select(waiting, "kratos_upgrade_runs_in_phase"), "phase").items() if v > 0}
    barh(axes[0][1], in_phase, "Runs in progress, by phase (scrape while awaiting approval)\n"
         "sum by (phase) (kratos_upgrade_runs_in_phase) > 0")
    ages = {f'{l["kratosupgrade"]}\n{l["phase"]}': waiting_at - v
            for l, v in select(waiting, "kratos_upgrade_phase_started_timestamp_seconds")}
    barh(axes[0][2], ages, "Time in the current phase (same scrape)\n"
         "time() - kratos_upgrade_phase_started_\n  timestamp_seconds", " s")

    barh(axes[1][0], quantiles_by(final, "kratos_upgrade_phase_duration_seconds", "phase", 0.95, outcome="completed"),
         "Phase duration p95 (completed)\nhistogram_quantile(0.95, sum by (le, phase)\n  (increase(..._bucket[$__range])))", " s")
    barh(axes[1][1], quantiles_by(final, "kratos_upgrade_phase_duration_seconds", "phase", 0.5, outcome="completed"),
         "Phase duration p50 (completed)\nhistogram_quantile(0.5, ...)", " s")
    barh(axes[1][2], quantiles_by(final, "kratos_upgrade_run_duration_seconds", "result", 0.95),
         "Run duration p95, by result\nhistogram_quantile(0.95, sum by (le, result)\n  (increase(..._bucket[6h])))", " s")

    size = select(final, "kratos_upgrade_last_backup_size_bytes")
    finished = select(final, "kratos_upgrade_last_backup_finished_timestamp_seconds")
    ax = axes[2][0]
    ax.axis("off")
    ax.set_title("Last backup / images reverted", fontsize=9, loc="left")
    lines = [f"Last backup size: {size[0][1]:.0f} bytes" if size else "Last backup size: none",
             f"Last backup age: {final_at - finished[0][1]:.1f} s" if finished else "Last backup age: none",
             f"Images reverted: {sum(v for _, v in select(final, 'kratos_upgrade_images_reverted')):.0f}",
             f"Runs in progress: {sum(v for _, v in select(final, 'kratos_upgrade_runs_in_progress')):.0f}"]
    ax.text(0.02, 0.9, "\n".join(lines), va="top", fontsize=11, family="monospace")
    barh(axes[2][1], sum_by(select(final, "kratos_upgrade_reconcile_errors_total"), "reason"),
         "Reconcile errors during the run, by reason\nsum by (reason) (kratos_upgrade_reconcile_errors_total)")
    failed = {k: v for k, v in sum_by(select(final, "kratos_upgrade_phase_duration_seconds_count", outcome="failed"),
                                      "phase").items() if v > 0}
    barh(axes[2][2], failed or {"(none)": 0.0}, "Phases that failed\nsum by (phase) (increase(kratos_upgrade_phase_\n  duration_seconds_count{outcome=\"failed\"}[1h])) > 0")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
