package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What backup and migration share: how a running Job is watched and when it is given up on. */
final class RunningJob {

    private RunningJob() {
    }

    /**
     * How long a pod may wait for a volume that cannot be bound (see {@link JobOutcome#volumeWait}) before the step
     * fails: long enough for a dynamic provisioner, far shorter than a backup's timeout (which was the only limit).
     */
    static final Duration VOLUME_BINDING_GRACE = Duration.ofSeconds(60);

    /** The outcome of the step's Job, with the operator's own deadline and volume check on top of the Job's. */
    static JobOutcome outcome(RunContext ctx, Job job, StepStatus step, Duration timeout) {
        String name = job.getMetadata().getName();
        JobOutcome outcome = JobOutcome.of(job, ctx.observed().podsOf(name), ctx.observed().podCreationFailure(name));
        if (outcome.finished()) {
            return outcome;
        }
        if (deadlineLeft(ctx, step, timeout).isNegative()) {
            return new JobOutcome(JobOutcome.State.FAILED, "DeadlineExceeded",
                    "Job " + name + " did not finish within " + timeout.toSeconds() + "s", null);
        }
        Optional<JobOutcome.VolumeWait> volume = JobOutcome.volumeWait(ctx.observed().podsOf(name));
        if (volume.isPresent() && volumeGraceLeft(ctx, volume.get()).isNegative()) {
            return new JobOutcome(JobOutcome.State.FAILED, "VolumeNotBound", "its pod waited more than "
                    + VOLUME_BINDING_GRACE.toSeconds() + "s for a volume: " + volume.get().message(), null);
        }
        return outcome;
    }

    static Duration deadlineLeft(RunContext ctx, StepStatus step, Duration timeout) {
        return ctx.remaining(step.getStartedAt(), timeout.plus(ctx.settings().jobDeadlineGrace()));
    }

    /** When to look at a running step's Job again: at its deadline, or sooner when its pod waits for a volume. */
    static Duration recheckIn(RunContext ctx, StepStatus step, Duration timeout) {
        Duration deadline = deadlineLeft(ctx, step, timeout);
        return JobOutcome.volumeWait(ctx.observed().podsOf(step.getJobName()))
                .map(v -> volumeGraceLeft(ctx, v))
                .filter(left -> left.compareTo(deadline) < 0)
                .orElse(deadline);
    }

    private static Duration volumeGraceLeft(RunContext ctx, JobOutcome.VolumeWait volume) {
        return ctx.remaining(Times.format(volume.since()), VOLUME_BINDING_GRACE);
    }

    /** A Job the operator gives up on while it still runs (its pod cannot start, or the deadline passed) is suspended. */
    static List<Action> stopIfRunning(Job job, JobOutcome outcome) {
        List<Action> actions = new ArrayList<>();
        boolean finishedByController = JobOutcome.of(job, List.of()).finished();
        if (!finishedByController) {
            actions.add(new Action.SuspendJob(job.getMetadata().getName()));
        }
        return actions;
    }

    /**
     * Whether the step's Job has a pod whose end this operator has not seen yet (no container terminated): its report,
     * the termination message, is still to come with the pod's next update.
     */
    static boolean podNotSeenEnded(RunContext ctx, StepStatus step) {
        List<Pod> pods = ctx.observed().podsOf(step.getJobName());
        return !pods.isEmpty() && pods.stream().noneMatch(RunningJob::anyContainerEnded);
    }

    private static boolean anyContainerEnded(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null && pod.getStatus().getContainerStatuses().stream()
                .anyMatch(cs -> cs.getState() != null && cs.getState().getTerminated() != null);
    }

    static Optional<Job> job(RunContext ctx, StepStatus step) {
        return ctx.observed().job(step.getJobName());
    }
}
