"""Tests of step_latency.py on synthetic audit events (python3 -m unittest discover -s hack/upgrade-bench)."""
import contextlib
import io
import json
import os
import tempfile
import unittest

import step_latency

NS = "upgrade-bench"
OPERATOR = "kuo-bench"


def event(at, user, verb, resource, name, subresource=None, body=None, namespace=NS, received=None, groups=None):
    ref = {"resource": resource, "namespace": namespace, "name": name}
    if subresource:
        ref["subresource"] = subresource
    return {"stage": "ResponseComplete", "verb": verb, "user": {"username": user, "groups": groups or []}, "objectRef": ref,
            "requestReceivedTimestamp": received or at, "stageTimestamp": at, "requestObject": body}


def job_status(at, name, complete, received=None, condition="Complete"):
    conditions = [{"type": condition, "status": "True"}] if complete else []
    return event(at, step_latency.JOB_CONTROLLER, "update", "jobs", name, "status",
                 {"status": {"conditions": conditions}}, received=received)


def pod_status(at, name, phase):
    return event(at, "system:node:node-1", "patch", "pods", name, "status", {"status": {"phase": phase}},
                 groups=[step_latency.NODES, "system:authenticated"])


def deployment_status(at, updated, available, reason="ReplicaSetUpdated", wanted=3):
    return event(at, step_latency.DEPLOYMENT_CONTROLLER, "update", "deployments", "kratos", "status",
                 {"spec": {"replicas": wanted},
                  "status": {"replicas": 3, "updatedReplicas": updated, "availableReplicas": available,
                             "conditions": [{"type": "Progressing", "status": "True", "reason": reason}]}})


def operator(at, verb, resource, name, subresource=None):
    return event(at, OPERATOR, verb, resource, name, subresource)


class StepLatencyTest(unittest.TestCase):
    def test_from_the_job_controllers_complete_write_to_the_operators_next_write(self):
        events = [
            job_status("2026-11-30T05:31:16.000000Z", "kratos-1-backup", complete=False),
            job_status("2026-11-30T05:31:17.250000Z", "kratos-1-backup", complete=True,
                       received="2026-11-30T05:31:17.249000Z"),
            operator("2026-11-30T05:31:17.262500Z", "update", "kratosupgrades", "kratos", "status"),
            operator("2026-11-30T05:31:17.300000Z", "create", "jobs", "kratos-1-migrate"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual(found, [{"completed": "job kratos-1-backup", "next": "update kratosupgrades/status kratos",
                                  "latency_ms": 12.5, "started": "create jobs kratos-1-migrate",
                                  "start_latency_ms": 50.0}])

    def test_a_jobs_step_completes_with_its_pods_succeeded_write_when_that_comes_first(self):
        events = [
            job_status("2026-11-30T05:31:13.000000Z", "kratos-1-backup", complete=False),
            pod_status("2026-11-30T05:31:16.000000Z", "kratos-1-backup-x7k2p", "Running"),
            pod_status("2026-11-30T05:31:16.500000Z", "kratos-1-backup-x7k2p", "Succeeded"),
            operator("2026-11-30T05:31:16.520000Z", "update", "kratosupgrades", "kratos", "status"),
            operator("2026-11-30T05:31:16.560000Z", "create", "jobs", "kratos-1-migrate"),
            job_status("2026-11-30T05:31:17.250000Z", "kratos-1-backup", complete=True),
            operator("2026-11-30T05:31:17.300000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual(found, [{"completed": "job kratos-1-backup", "next": "update kratosupgrades/status kratos",
                                  "latency_ms": 20.0, "started": "create jobs kratos-1-migrate",
                                  "start_latency_ms": 60.0}])

    def test_a_kratos_pod_that_ends_succeeded_is_no_jobs_completion(self):
        # The rollout stops the old pods, which exit 0: their kubelet writes Succeeded too.
        events = [
            job_status("2026-11-30T05:31:13.000000Z", "kratos-1-migrate", complete=True),
            operator("2026-11-30T05:31:13.020000Z", "update", "kratosupgrades", "kratos", "status"),
            pod_status("2026-11-30T05:31:20.000000Z", "kratos-7c6456b9bf-zrtfj", "Succeeded"),
            operator("2026-11-30T05:31:20.500000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([s["completed"] for s in found], ["job kratos-1-migrate"])

    def test_the_next_step_starts_with_its_first_object_not_with_cleanup_events_or_leases(self):
        events = [
            job_status("2026-11-30T05:31:17.000000Z", "kratos-1-inspect", complete=True),
            operator("2026-11-30T05:31:17.050000Z", "update", "kratosupgrades", "kratos", "status"),
            operator("2026-11-30T05:31:17.060000Z", "delete", "secrets", "kratos-1-inspect-db"),
            operator("2026-11-30T05:31:17.070000Z", "create", "events", "kratos.1"),
            operator("2026-11-30T05:31:17.080000Z", "patch", "leases", "kratos-upgrade-operator"),
            operator("2026-11-30T05:31:17.200000Z", "create", "secrets", "kratos-1-backup-db"),
            operator("2026-11-30T05:31:17.250000Z", "create", "jobs", "kratos-1-backup"),
            job_status("2026-11-30T05:31:20.000000Z", "kratos-1-backup", complete=True),
            operator("2026-11-30T05:31:20.030000Z", "update", "kratosupgrades", "kratos", "status"),
            # The last step: nothing starts before the next completion, here the rollout's.
            operator("2026-11-30T05:31:21.000000Z", "patch", "deployments", "kratos"),
            deployment_status("2026-11-30T05:31:25.000000Z", 3, 3, "NewReplicaSetAvailable"),
            operator("2026-11-30T05:31:25.010000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([(s["completed"], s["started"], s["start_latency_ms"]) for s in found], [
            ("job kratos-1-inspect", "create secrets kratos-1-backup-db", 200.0),
            ("job kratos-1-backup", "patch deployments kratos", 1000.0),
            ("rollout kratos", None, None)])
        result = step_latency.summary(found)
        self.assertEqual((result["start_count"], result["start_p50_ms"], result["start_max_ms"]), (2, 200.0, 1000.0))

    def test_a_job_succeeds_with_success_criteria_met_before_complete(self):
        events = [
            job_status("2026-11-30T05:31:17.200000Z", "kratos-1-backup", complete=True, condition="SuccessCriteriaMet"),
            operator("2026-11-30T05:31:17.230000Z", "update", "kratosupgrades", "kratos", "status"),
            job_status("2026-11-30T05:31:17.250000Z", "kratos-1-backup", complete=True),
            operator("2026-11-30T05:31:17.300000Z", "create", "jobs", "kratos-1-migrate"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([(s["completed"], s["latency_ms"], s["start_latency_ms"]) for s in found],
                         [("job kratos-1-backup", 30.0, 100.0)])

    def test_a_rollout_counts_once_complete_after_the_operator_changed_the_deployment(self):
        events = [
            deployment_status("2026-11-30T05:31:00.000000Z", 3, 3, "NewReplicaSetAvailable"),  # before: not a step
            operator("2026-11-30T05:31:31.000000Z", "patch", "deployments", "kratos"),
            deployment_status("2026-11-30T05:31:31.100000Z", 0, 3, "NewReplicaSetAvailable"),  # not rolled yet
            deployment_status("2026-11-30T05:31:33.000000Z", 2, 3),
            deployment_status("2026-11-30T05:31:35.000000Z", 3, 3, "NewReplicaSetAvailable"),
            deployment_status("2026-11-30T05:31:35.500000Z", 3, 3, "NewReplicaSetAvailable"),  # a repeat
            operator("2026-11-30T05:31:35.040000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([(s["completed"], s["latency_ms"]) for s in found], [("rollout kratos", 40.0)])

    def test_a_scale_to_zero_is_not_a_rollout_and_the_rollout_starts_at_the_last_patch(self):
        events = [
            operator("2026-11-30T05:31:10.000000Z", "patch", "deployments", "kratos"),  # Recreate: replicas 0
            # The controller's first write still counts the old pods, then none.
            deployment_status("2026-11-30T05:31:10.050000Z", 3, 3, "NewReplicaSetAvailable", wanted=0),
            event("2026-11-30T05:31:10.100000Z", step_latency.DEPLOYMENT_CONTROLLER, "update", "deployments", "kratos",
                  "status", {"spec": {"replicas": 0}, "status": {"conditions": [
                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}),
            # Zero of zero is no rollout either, should a controller write the zeros out.
            event("2026-11-30T05:31:10.150000Z", step_latency.DEPLOYMENT_CONTROLLER, "update", "deployments", "kratos",
                  "status", {"spec": {"replicas": 0}, "status": {
                      "replicas": 0, "updatedReplicas": 0, "availableReplicas": 0, "conditions": [
                          {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}),
            operator("2026-11-30T05:31:16.000000Z", "update", "kratosupgrades", "kratos", "status"),
            operator("2026-11-30T05:31:20.000000Z", "patch", "deployments", "kratos"),  # the new image, 3 replicas
            deployment_status("2026-11-30T05:31:26.000000Z", 3, 3, "NewReplicaSetAvailable"),
            operator("2026-11-30T05:31:26.020000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([(s["completed"], s["latency_ms"]) for s in found], [("rollout kratos", 20.0)])
        self.assertEqual(step_latency.timeline(events, NS, OPERATOR)["steps_s"], {"rollout": 6.0})

    def test_a_job_counts_once_and_other_namespaces_and_reads_do_not_count(self):
        events = [
            job_status("2026-11-30T05:31:17.000000Z", "kratos-1-backup", complete=True),
            job_status("2026-11-30T05:31:17.500000Z", "kratos-1-backup", complete=True),
            event("2026-11-30T05:31:17.010000Z", OPERATOR, "get", "jobs", "kratos-1-backup"),
            event("2026-11-30T05:31:17.020000Z", OPERATOR, "create", "events", "x", namespace="elsewhere"),
            operator("2026-11-30T05:31:17.100000Z", "create", "events", "kratos.1"),
            operator("2026-11-30T05:31:18.000000Z", "create", "jobs", "kratos-1-migrate"),
        ]
        found = step_latency.steps(events, NS, OPERATOR)
        self.assertEqual([(s["next"], s["latency_ms"]) for s in found], [("create events kratos.1", 100.0)])

    def test_each_log_is_a_run_of_its_own_though_the_job_names_repeat(self):
        run = [job_status("2026-11-30T05:31:17.000000Z", "kratos-1-backup", complete=True),
               operator("2026-11-30T05:31:17.020000Z", "update", "kratosupgrades", "kratos", "status")]
        later = [job_status("2026-11-30T05:41:17.000000Z", "kratos-1-backup", complete=True),
                 operator("2026-11-30T05:41:17.040000Z", "update", "kratosupgrades", "kratos", "status")]
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, events in enumerate((run, later)):
                paths.append(os.path.join(tmp, f"{i}.jsonl"))
                with open(paths[-1], "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(e) + "\n" for e in events)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                step_latency.main(["--namespace", NS, "--operator-user", OPERATOR] + paths)
        result = json.loads(out.getvalue())
        self.assertEqual([s["latency_ms"] for s in result["steps"]], [20.0, 40.0])

    def test_a_runs_timeline_leaves_the_operators_own_time_between_its_jobs_and_rollout(self):
        events = [
            operator("2026-11-30T05:31:10.000000Z", "patch", "kratosupgrades", "kratos"),
            operator("2026-11-30T05:31:10.100000Z", "create", "jobs", "kratos-1-inspect"),
            job_status("2026-11-30T05:31:13.100000Z", "kratos-1-inspect", complete=True, condition="SuccessCriteriaMet"),
            operator("2026-11-30T05:31:13.150000Z", "update", "kratosupgrades", "kratos", "status"),
            operator("2026-11-30T05:31:13.200000Z", "create", "jobs", "kratos-1-migrate"),
            job_status("2026-11-30T05:31:17.200000Z", "kratos-1-migrate", complete=True),
            operator("2026-11-30T05:31:17.300000Z", "patch", "deployments", "kratos"),
            deployment_status("2026-11-30T05:31:23.300000Z", 3, 3, "NewReplicaSetAvailable"),
            operator("2026-11-30T05:31:23.400000Z", "update", "kratosupgrades", "kratos", "status"),
        ]
        run = step_latency.timeline(events, NS, OPERATOR)
        self.assertEqual(run["steps_s"], {"kratos-1-inspect": 3.0, "kratos-1-migrate": 4.0, "rollout": 6.0})
        self.assertEqual((run["span_s"], run["own_s"]), (13.4, 0.4))
        # A run cut short (no rollout yet) has no timeline.
        self.assertIsNone(step_latency.timeline(events[:6], NS, OPERATOR))
        result = step_latency.summary([{"completed": "x", "next": "y", "latency_ms": 1.0}], [run, None])
        self.assertEqual((result["own_median_s"], result["own_share_median"]), (0.4, round(0.4 / 13.4, 4)))

    def test_percentiles_by_nearest_rank(self):
        found = [{"completed": str(i), "next": "", "latency_ms": float(i)} for i in range(1, 101)]
        result = step_latency.summary(found)
        self.assertEqual((result["count"], result["p50_ms"], result["p99_ms"], result["max_ms"]), (100, 50.0, 99.0, 100.0))
        self.assertEqual(step_latency.summary([])["count"], 0)


if __name__ == "__main__":
    unittest.main()
