"""Tests of segments.py on synthetic audit events (python3 -m unittest discover -s hack/upgrade-bench)."""
import json
import os
import tempfile
import unittest

import segments
from test_step_latency import NS, deployment_status, job_status, pod_status

# 2026-11-30T05:31:10Z in ms since the epoch: the harness's start.
START_MS = 1796016670000


def at(seconds):
    """A timestamp `seconds` after START_MS, as the audit log writes it."""
    whole, frac = divmod(round(seconds * 1_000_000), 1_000_000)
    return f"2026-11-30T05:31:{10 + whole:02d}.{frac:06d}Z"


def run(method, finished_s, backup_done_by_pod=False):
    """One run: a backup Job from 0.1 s, done at 3.1 s (by its pod, or by the Job controller at 3.6 s), a
    migrate Job from 3.2 s to 6.2 s, a rollout from 6.3 s to 11.3 s."""
    events = [job_status(at(0.1), "backup", complete=False)]
    if backup_done_by_pod:
        events.append(pod_status(at(3.1), "backup-x7k2p", "Succeeded"))
        events.append(job_status(at(3.6), "backup", complete=True))
    else:
        events.append(job_status(at(3.1), "backup", complete=True))
    events += [job_status(at(3.2), "migrate", complete=False), job_status(at(6.2), "migrate", complete=True),
               deployment_status(at(6.3), 1, 3), deployment_status(at(11.3), 3, 3, reason="NewReplicaSetAvailable"),
               # An old Kratos pod stopped by the rollout ends Succeeded: no Job's.
               pod_status(at(12.0), "kratos-6cd7bdb55f-hd57v", "Succeeded")]
    meta = {"method": method, "upgrade_started_ms": START_MS, "upgrade_finished_ms": START_MS + round(finished_s * 1000)}
    return meta, events


class SegmentsTest(unittest.TestCase):
    def test_a_run_is_cut_into_the_same_segments_whoever_ran_its_steps(self):
        meta, events = run("raw-steps", 17.3, backup_done_by_pod=True)
        found = segments.run_segments(events, NS, meta["upgrade_started_ms"] / 1000, meta["upgrade_finished_ms"] / 1000)
        self.assertEqual([name for name, _ in found], ["start -> first Job", "Job 1", "Job 1 -> next", "Job 2",
                                                      "Job 2 -> next", "rollout", "rollout -> served"])
        self.assertEqual([round(s, 3) for _, s in found], [0.1, 3.0, 0.1, 3.0, 0.1, 5.0, 6.0])

    def test_an_incomplete_run_has_no_segments(self):
        meta, events = run("raw-steps", 17.3)
        events = [e for e in events if "NewReplicaSetAvailable" not in json.dumps(e)]
        self.assertIsNone(segments.run_segments(events, NS, START_MS / 1000, START_MS / 1000 + 17.3))

    def test_the_table_has_each_methods_median_per_segment_and_the_total(self):
        with tempfile.TemporaryDirectory() as tmp:
            dirs = []
            for i, (method, finished) in enumerate([("raw-steps", 17.3), ("operator-rolling", 18.3), ("raw-steps", 19.3)]):
                meta, events = run(method, finished)
                directory = os.path.join(tmp, f"run{i}")
                os.makedirs(directory)
                with open(os.path.join(directory, "meta.json"), "w", encoding="utf-8") as f:
                    json.dump(meta, f)
                with open(os.path.join(directory, "audit.jsonl"), "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(e) + "\n" for e in events)
                dirs.append(directory)
            table = segments.markdown(segments.by_method(dirs, NS)).splitlines()
        self.assertEqual(table[0], "| segment (median, s) | raw-steps (2 runs) | operator-rolling (1 runs) |")
        self.assertIn("| rollout -> served | 7.00 | 7.00 |", table)
        self.assertEqual(table[-1], "| total | 18.30 | 18.30 |")


if __name__ == "__main__":
    unittest.main()
