"""Tests of report.py on synthetic method directories.

From the repository root:  python3 -m unittest discover -s hack/upgrade-bench -p 'test_*.py'
The plot test runs only where matplotlib imports: run the same command with the python that plot-env.sh prints.
"""
import contextlib
import importlib.util
import io
import json
import os
import struct
import tempfile
import unittest

import report

STARTED_MS = 1_700_000_000_000
TICK_MS = 100  # the synthetic load: one request every 100 ms, 10 per second
OPS = ("login_flow", "login", "whoami", "registration_flow", "registration")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def write_method(root, name, title, wall_s, outcome, restore_point="verified", restorable=True,
                 lead_s=15, tail_s=15, run=1):
    """A method directory with one request per tick from lead_s before the upgrade to tail_s after it;
    outcome(ms since the upgrade started) gives each request's (status, error)."""
    directory = os.path.join(root, name if run == 1 else f"{name}-run{run}")
    os.makedirs(directory)
    meta = {"method": name, "title": title, "from": "v1.0.0", "to": "v1.3.1",
            "upgrade_started_ms": STARTED_MS, "upgrade_finished_ms": STARTED_MS + wall_s * 1000,
            "restore_point": restore_point, "old_release_restorable": restorable, "notes": ""}
    with open(os.path.join(directory, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)
    with open(os.path.join(directory, "requests.csv"), "w", encoding="utf-8") as f:
        f.write("t_ms,op,status,latency_ms,error\n")
        for i, offset in enumerate(range(-lead_s * 1000, (wall_s + tail_s) * 1000, TICK_MS)):
            status, error = outcome(offset)
            f.write(f"{STARTED_MS + offset},{OPS[i % len(OPS)]},{status},12.5,{error}\n")
    return directory


def all_ok(_offset):
    return 200, ""


def outage_12s(offset):
    """Refused connections for 12 s, from 5 s into the upgrade: 120 ticks, the first at 5.0 s, the last at 16.9 s."""
    return (0, "refused") if 5000 <= offset < 17000 else (200, "")


def scattered_503s(offset):
    """During the upgrade: a 503 every 5 s, two in a row at 12.0 and 12.1 s, and one timeout at 20 s."""
    if offset == 20000:
        return 0, "timeout"
    if 0 <= offset < 25000 and (offset % 5000 == 0 or offset in (12000, 12100)):
        return 503, ""
    return 200, ""


def summary_of(directory):
    return report.summarize(report.load_method(directory))


class SyntheticMethods(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        self.clean = write_method(self.root, "clean", "No failures", 20, all_ok)
        self.outage = write_method(self.root, "outage", "Image then migrate", 30, outage_12s,
                                   restore_point="none", restorable=None)
        self.scattered = write_method(self.root, "scattered", "Scattered | 503s", 25, scattered_503s,
                                      restore_point="unverified", restorable=False)


class SummaryTest(SyntheticMethods):
    def test_no_failures(self):
        s = summary_of(self.clean)
        # 15 s before + 20 s of upgrade + 15 s after, at 10 per second: requests outside the upgrade count too.
        self.assertEqual(s["requests"], 500)
        self.assertEqual(s["ok"], 500)
        self.assertEqual(s["failed"], 0)
        self.assertEqual(s["failed_by_status"], {})
        self.assertEqual(s["longest_failure_window_s"], 0)
        self.assertIsNone(s["longest_failure_window_starts_s"])
        self.assertEqual(s["wall_seconds"], 20)
        self.assertEqual((s["method"], s["title"], s["restore_point"], s["old_release_restorable"]),
                         ("clean", "No failures", "verified", True))

    def test_outage_of_refused_connections(self):
        s = summary_of(self.outage)
        self.assertEqual(s["requests"], 600)
        self.assertEqual(s["failed"], 120)
        self.assertEqual(s["ok"], 480)
        self.assertEqual(s["failed_by_status"], {"0/refused": 120})
        # 16.9 s - 5.0 s + one 0.1 s tick.
        self.assertEqual(s["longest_failure_window_s"], 12.0)
        self.assertEqual(s["longest_failure_window_starts_s"], 5.0)
        self.assertEqual(s["wall_seconds"], 30)
        self.assertIsNone(s["old_release_restorable"])

    def test_scattered_503s(self):
        s = summary_of(self.scattered)
        # 503s at 0, 5, 10, 12.0, 12.1 and 15 s; the timeout at 20 s.
        self.assertEqual(s["failed"], 7)
        self.assertEqual(s["failed_by_status"], {"503": 6, "0/timeout": 1})
        self.assertEqual(s["longest_failure_window_s"], 0.2)
        self.assertEqual(s["longest_failure_window_starts_s"], 12.0)
        self.assertEqual(s["wall_seconds"], 25)

    def test_summary_command_prints_one_json_object(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(report.main(["summary", self.outage]), 0)
        self.assertEqual(json.loads(out.getvalue()), summary_of(self.outage))

    def test_missing_meta_field_is_an_error_not_a_traceback(self):
        meta_path = os.path.join(self.clean, "meta.json")
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        del meta["upgrade_finished_ms"]
        with open(meta_path, "w", encoding="utf-8") as f:
            json.dump(meta, f)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(report.main(["summary", self.clean]), 1)
        self.assertIn("missing upgrade_finished_ms", err.getvalue())


def request(t_ms, status, error=""):
    return report.Request(t_ms, "whoami", status, 1.0, error)


class LongestFailureWindowTest(unittest.TestCase):
    def test_a_success_at_the_same_scheduled_time_breaks_a_run(self):
        requests = [request(0, 200), request(100, 503), request(200, 503), request(200, 200), request(300, 503),
                    request(400, 200)]
        # 100 and 300 fail alone; 200 had a success: two runs of one tick each.
        self.assertEqual(report.longest_failure_window(requests), (100, 100))

    def test_several_requests_per_tick_keep_the_interval_of_the_ticks(self):
        requests = [request(t, status) for t in range(0, 1000, 50) for status in (200, 200)]
        requests += [request(t, 0, "reset") for t in range(1000, 1500, 50) for _ in range(2)]
        requests += [request(1500, 200)]
        self.assertEqual(report.longest_failure_window(requests), (1000, 500))

    def test_the_longest_run_wins_over_an_earlier_shorter_one(self):
        requests = [request(0, 503), request(10, 200), request(20, 503), request(30, 502), request(40, 0, "eof")]
        self.assertEqual(report.longest_failure_window(requests), (20, 30))

    def test_3xx_is_a_failure(self):
        self.assertFalse(report.is_ok(request(0, 303)))
        self.assertTrue(report.is_ok(request(0, 204)))

    def test_a_200_the_generator_could_not_use_is_a_failure_of_its_own_kind(self):
        unusable = request(0, 200, "other")
        self.assertFalse(report.is_ok(unusable))
        self.assertEqual(report.failure_key(unusable), "200/other")
        self.assertEqual(report.failure_key(request(0, 0, "refused")), "0/refused")
        self.assertEqual(report.failure_key(request(0, 503)), "503")


class TableTest(SyntheticMethods):
    def test_rows_in_the_order_given(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(report.main(["table", self.scattered, self.clean, self.outage]), 0)
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0], "| Method | Runs | Requests | Failed | Longest failure window (s) | Wall time (s) "
                                   "| Verified restore point | Old release restorable |")
        self.assertEqual(lines[2:], [
            "| Scattered \\| 503s | 1 | 550 | 7 (503: 6, timeout: 1) | 0.2 | 25.0 | unverified | no |",
            "| No failures | 1 | 500 | 0 | - | 20.0 | yes | yes |",
            "| Image then migrate | 1 | 600 | 120 (refused: 120) | 12.0 | 30.0 | no | - |",
        ])

    def test_the_runs_of_a_method_add_up_to_one_row(self):
        second = write_method(self.root, "scattered", "Scattered | 503s", 21, outage_12s,
                              restore_point="none", restorable=False, run=2)
        third = write_method(self.root, "scattered", "Scattered | 503s", 40, all_ok,
                             restore_point="unverified", restorable=False, run=3)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(report.main(["table", self.scattered, self.clean, second, third]), 0)
        # 550 + 510 + 700 requests; 7 + 120 failed; the longest window is the second run's; the median of
        # 25, 21 and 40 s; the weakest restore point of the three.
        self.assertEqual(out.getvalue().splitlines()[2:], [
            "| Scattered \\| 503s | 3 | 1760 | 127 (refused: 120, 503: 6, timeout: 1) | 12.0 | 25.0 (21.0-40.0) "
            "| no | no |",
            "| No failures | 1 | 500 | 0 | - | 20.0 | yes | yes |",
        ])


class OverheadTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name

    def summaries(self, *methods):
        return [summary_of(write_method(self.root, name, name, wall, all_ok, run=run, lead_s=1, tail_s=1))
                for name, wall, run in methods]

    def test_the_operator_against_the_raw_steps_by_median_wall_time(self):
        summaries = self.summaries(("raw-steps", 20, 1), ("operator-rolling", 22, 1), ("raw-steps", 30, 2),
                                   ("operator-rolling", 21, 2), ("raw-steps", 19, 3), ("operator-rolling", 40, 3))
        self.assertEqual(report.overhead_lines(summaries), [
            "Overhead, the operator's wall time against the same steps by hand:",
            "- operator-rolling: 22.0 s against the raw steps' 20.0 s (medians of 3 and 3 runs): +10.0%"])

    def test_nothing_without_the_raw_steps(self):
        self.assertEqual(report.overhead_lines(self.summaries(("operator-rolling", 22, 1), ("helm-job", 20, 1))), [])


class LatencyTest(unittest.TestCase):
    def test_percentiles_and_the_slowest_steps_first(self):
        found = {"count": 3, "p50_ms": 40.0, "p99_ms": 120.5, "max_ms": 120.5, "runs": [{"span_s": 16.117}],
                 "span_median_s": 16.117, "own_median_s": 0.407, "own_share_median": 0.0253,
                 "start_count": 1, "start_p50_ms": 210.0, "start_p99_ms": 210.0, "start_max_ms": 210.0, "steps": [
            {"completed": "job a-backup", "next": "update kratosupgrades/status a", "latency_ms": 40.0,
             "started": "create jobs a-migrate", "start_latency_ms": 210.0},
            {"completed": "rollout kratos", "next": "update kratosupgrades/status a", "latency_ms": 120.5,
             "started": None, "start_latency_ms": None},
            {"completed": "job a-migrate", "next": "create jobs a-x", "latency_ms": 12.25}]}
        self.assertEqual(report.latency_markdown(found, slowest=2).splitlines(), [
            "Step-to-step latency (audit log, 3 steps), from a step's completion to the operator's next write: "
            "p50 40.0 ms, p99 120.5 ms, max 120.5 ms.",
            "To its first write of the next step's objects (1 steps): p50 210.0 ms, p99 210.0 ms, max 210.0 ms.",
            "Per run (1 complete), from the operator's first write to its last status write: median 16.12 s, of which "
            "its own time between its Jobs and its rollout 0.41 s (2.5%, the median of the runs' shares).",
            "", "The slowest reactions:", "",
            "- 120.5 ms: rollout kratos -> update kratosupgrades/status a",
            "- 40.0 ms: job a-backup -> update kratosupgrades/status a; next step's first object after 210.0 ms "
            "(create jobs a-migrate)"])

    def test_no_steps_says_so(self):
        self.assertIn("no completed step", report.latency_markdown({"steps": [], "count": 0}))


@unittest.skipUnless(HAS_MATPLOTLIB, "matplotlib is not importable: run with the python plot-env.sh prints")
class PlotTest(SyntheticMethods):
    def test_one_panel_per_method_on_a_shared_x_axis(self):
        methods = [report.load_method(d) for d in (self.clean, self.outage, self.scattered)]
        fig = report.build_figure(methods)
        self.assertEqual(len(fig.axes), 3)
        self.assertEqual(fig.axes[1].get_title(loc="left"), "Image then migrate: 120 failed of 600")
        # From 10 s before the upgrade to 10 s after the slowest one (30 s) finished.
        self.assertEqual(fig.axes[2].get_xlim(), (-10, 40))

    def test_a_panel_for_the_first_run_of_each_method_only(self):
        again = write_method(self.root, "clean", "No failures", 20, outage_12s, run=2)
        methods = report.first_runs([report.load_method(d) for d in (self.clean, again, self.outage)])
        self.assertEqual([m.directory for m in methods], [self.clean, self.outage])

    def test_writes_the_same_png_for_the_same_data(self):
        out = os.path.join(self.root, "out.png")
        self.assertEqual(report.main(["plot", out, self.clean, self.outage, self.scattered]), 0)
        with open(out, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
        self.assertEqual((width, height), (1100, 528))  # 10 in x (3 x 1.6 in) at 110 dpi
        self.assertGreater(len(png), 10_000)
        again = os.path.join(self.root, "again.png")
        report.main(["plot", again, self.clean, self.outage, self.scattered])
        with open(again, "rb") as f:
            self.assertEqual(f.read(), png)


if __name__ == "__main__":
    unittest.main()
