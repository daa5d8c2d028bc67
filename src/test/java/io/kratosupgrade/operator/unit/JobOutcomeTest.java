package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.kube.JobOutcome;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JobOutcomeTest {

    private static final String JOB = "kratos-upgrade-1-backup";

    @Test
    void completeConditionSucceedsWithTheSuccessfulPodsTerminationMessage() {
        JobOutcome outcome = JobOutcome.of(Fixtures.completeJob(JOB),
                List.of(Fixtures.terminatedPod(JOB, "backup", 0, "Completed", "{\"bytes\":12,\"sha256\":\"ab\"}")));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.SUCCEEDED);
        assertThat(outcome.finished()).isTrue();
        assertThat(outcome.terminationMessage()).isEqualTo("{\"bytes\":12,\"sha256\":\"ab\"}");
    }

    @Test
    void theJobsSucceededPodEndsTheStepBeforeTheJobControllerMarksTheJob() {
        Job job = Fixtures.job(JOB); // no condition yet: the Job controller syncs pod updates up to a second later
        Pod succeeded = Fixtures.terminatedPod(JOB, "backup", 0, "Completed", "{\"bytes\":12}");

        JobOutcome outcome = JobOutcome.of(job, List.of(succeeded));
        assertThat(outcome.state()).isEqualTo(JobOutcome.State.SUCCEEDED);
        assertThat(outcome.terminationMessage()).isEqualTo("{\"bytes\":12}");

        Pod stillRunning = new PodBuilder(succeeded).editStatus().withPhase("Running").endStatus().build();
        assertThat(JobOutcome.of(job, List.of(stillRunning)).state()).isEqualTo(JobOutcome.State.RUNNING);
        assertThat(JobOutcome.of(job, List.of()).state()).isEqualTo(JobOutcome.State.RUNNING);
        // A pod left by an earlier Job of the same name (another uid) says nothing about this one.
        Pod earlierJobs = new PodBuilder(succeeded).editMetadata().editFirstOwnerReference().withUid("uid-of-a-deleted-job")
                .endOwnerReference().endMetadata().build();
        assertThat(JobOutcome.of(job, List.of(earlierJobs)).state()).isEqualTo(JobOutcome.State.RUNNING);
    }

    @Test
    void terminationMessageOfAFailedContainerIsNotTaken() {
        JobOutcome outcome = JobOutcome.of(Fixtures.completeJob(JOB),
                List.of(Fixtures.terminatedPod(JOB, "backup", 1, "Error", "boom")));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.SUCCEEDED);
        assertThat(outcome.terminationMessage()).isNull();
    }

    @Test
    void failedConditionFailsWithItsReasonAndThePodsExitCode() {
        JobOutcome outcome = JobOutcome.of(Fixtures.failedJob(JOB, "BackoffLimitExceeded"),
                List.of(Fixtures.terminatedPod(JOB, "migrate", 1, "Error", null)));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.FAILED);
        assertThat(outcome.reason()).isEqualTo("BackoffLimitExceeded");
        assertThat(outcome.message()).contains("BackoffLimitExceeded", "container migrate exited 1 (Error)");
    }

    @Test
    void falseConditionsAreIgnored() {
        Job job = Fixtures.job(JOB);
        job.getStatus().getConditions().add(new io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder()
                .withType("Failed").withStatus("False").build());

        assertThat(JobOutcome.of(job, List.of()).state()).isEqualTo(JobOutcome.State.RUNNING);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError"})
    void podThatCannotStartFailsTheJobBeforeTheJobControllerDoes(String reason) {
        Job running = Fixtures.job(JOB);
        assertThat(running.getStatus().getConditions()).isEmpty();

        JobOutcome outcome = JobOutcome.of(running, List.of(Fixtures.waitingPod(JOB, "backup", reason)));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.FAILED);
        assertThat(outcome.reason()).isEqualTo(reason);
        assertThat(outcome.message()).contains("container backup", JOB, reason, "details of " + reason);
    }

    @Test
    void aSecretTheKubeletCannotReadYetIsWaitedForButAMissingOneFails() {
        // Seen when the API server restarted while the migration pod started: the kubelet retries by itself.
        Pod syncing = Fixtures.waitingPod(JOB, "migrate", "CreateContainerConfigError");
        syncing.getStatus().getContainerStatuses().get(0).getState().getWaiting()
                .setMessage("failed to sync secret cache: timed out waiting for the condition");
        Pod missing = Fixtures.waitingPod(JOB, "migrate", "CreateContainerConfigError");
        missing.getStatus().getContainerStatuses().get(0).getState().getWaiting().setMessage("secret \"kratos-db\" not found");

        assertThat(JobOutcome.of(Fixtures.job(JOB), List.of(syncing)).state()).isEqualTo(JobOutcome.State.RUNNING);
        assertThat(JobOutcome.of(Fixtures.job(JOB), List.of(missing)).state()).isEqualTo(JobOutcome.State.FAILED);
    }

    @Test
    void initContainerThatCannotStartAlsoFails() {
        Pod pod = Fixtures.waitingPod(JOB, "migrate", "PodInitializing");
        pod.getStatus().setInitContainerStatuses(Fixtures.waitingPod(JOB, "cloud-sql-proxy", "ErrImagePull")
                .getStatus().getContainerStatuses());

        JobOutcome outcome = JobOutcome.of(Fixtures.job(JOB), List.of(pod));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.FAILED);
        assertThat(outcome.message()).contains("cloud-sql-proxy");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ContainerCreating", "PodInitializing"})
    void podStillStartingIsRunning(String reason) {
        JobOutcome outcome = JobOutcome.of(Fixtures.job(JOB), List.of(Fixtures.waitingPod(JOB, "backup", reason)));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.RUNNING);
        assertThat(outcome.finished()).isFalse();
    }

    @Test
    void noPodsYetIsRunning() {
        assertThat(JobOutcome.of(Fixtures.job(JOB), List.of()).state()).isEqualTo(JobOutcome.State.RUNNING);
    }

    @Test
    void suspendedJobIsFailed() {
        Job job = Fixtures.job(JOB);
        job.getSpec().setSuspend(true);

        assertThat(JobOutcome.of(job, List.of()).state()).isEqualTo(JobOutcome.State.FAILED);
    }

    @Test
    void anUnschedulablePodIsStillRunningButSaysWhy() {
        Pod pod = Fixtures.waitingPod(JOB, "backup", "ContainerCreating");
        pod.getStatus().setContainerStatuses(List.of());
        pod.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                .withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                .withMessage("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.").build()));

        JobOutcome outcome = JobOutcome.of(Fixtures.job(JOB), List.of(pod));

        assertThat(outcome.state()).isEqualTo(JobOutcome.State.RUNNING);
        assertThat(outcome.message()).contains("not scheduled: Unschedulable").contains("unbound immediate PersistentVolumeClaims");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found",
            "0/1 nodes are available: persistentvolumeclaim \"backups\" not found. not found",
            "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind."})
    void aPodWaitingForAVolumeThatCannotBeBoundIsToldApartFromAFullNode(String schedulerMessage) {
        assertThat(JobOutcome.volumeWait(List.of(unschedulable(schedulerMessage, "2026-11-29T18:03:35Z"))))
                .hasValueSatisfying(w -> {
                    assertThat(w.since()).isEqualTo(Instant.parse("2026-11-29T18:03:35Z"));
                    assertThat(w.message()).contains(schedulerMessage);
                });
        assertThat(JobOutcome.volumeWait(List.of(unschedulable("0/1 nodes are available: 1 Insufficient memory.", null)))).isEmpty();
    }

    private static Pod unschedulable(String message, String since) {
        Pod pod = Fixtures.waitingPod(JOB, "backup", "ContainerCreating");
        pod.getStatus().setContainerStatuses(List.of());
        pod.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                .withType("PodScheduled").withStatus("False").withReason("Unschedulable").withLastTransitionTime(since)
                .withMessage(message).build()));
        return pod;
    }
}
