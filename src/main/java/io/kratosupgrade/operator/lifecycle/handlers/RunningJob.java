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
import java.util.stream.Stream;

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
        List<Pod> pods = ctx.observed().podsOf(name);
        JobOutcome outcome = JobOutcome.of(job, pods, ctx.observed().podCreationFailure(name));
        if (outcome.finished()) {
            // Jobs and pods come from two informers: a Job's Complete or BackoffLimitExceeded can arrive before the update of
            // the pod that ended it, which carries its report or the end of its log. Its next update wakes the operator.
            if (endedByAPod(outcome) && podNotSeenEnded(pods) && !deadlineLeft(ctx, step, timeout).isNegative()) {
                return new JobOutcome(JobOutcome.State.RUNNING, "Running", "Job " + name + " ended; waiting for its pod's final "
                        + "status", null);
            }
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

    /** Ends for which the Job controller waited until a container of its pod terminated. */
    private static boolean endedByAPod(JobOutcome outcome) {
        return outcome.state() == JobOutcome.State.SUCCEEDED || "BackoffLimitExceeded".equals(outcome.reason());
    }

    /** The Job's pods are in the cache, and none shows a terminated container (init containers included) yet. */
    static boolean podNotSeenEnded(List<Pod> pods) {
        return !pods.isEmpty() && pods.stream().noneMatch(RunningJob::anyContainerEnded);
    }

    private static boolean anyContainerEnded(Pod pod) {
        if (pod.getStatus() == null) return false;
        return Stream.concat(
                        pod.getStatus().getInitContainerStatuses() == null ? Stream.empty() : pod.getStatus().getInitContainerStatuses().stream(),
                        pod.getStatus().getContainerStatuses() == null ? Stream.empty() : pod.getStatus().getContainerStatuses().stream())
                .anyMatch(cs -> cs.getState() != null && cs.getState().getTerminated() != null);
    }

    static Optional<Job> job(RunContext ctx, StepStatus step) {
        return ctx.observed().job(step.getJobName());
    }
}
