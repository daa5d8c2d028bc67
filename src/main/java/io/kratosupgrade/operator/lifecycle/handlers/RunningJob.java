package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What backup and migration share: how a running Job is watched and when it is given up on. */
final class RunningJob {

    private RunningJob() {
    }

    /** The outcome of the step's Job, with the operator's own deadline on top of the Job's. */
    static JobOutcome outcome(RunContext ctx, Job job, StepStatus step, Duration timeout) {
        String name = job.getMetadata().getName();
        JobOutcome outcome = JobOutcome.of(job, ctx.observed().podsOf(name), ctx.observed().podCreationFailure(name));
        if (!outcome.finished() && deadlineLeft(ctx, step, timeout).isNegative()) {
            return new JobOutcome(JobOutcome.State.FAILED, "DeadlineExceeded",
                    "Job " + job.getMetadata().getName() + " did not finish within " + timeout.toSeconds() + "s", null);
        }
        return outcome;
    }

    static Duration deadlineLeft(RunContext ctx, StepStatus step, Duration timeout) {
        return ctx.remaining(step.getStartedAt(), timeout.plus(ctx.settings().jobDeadlineGrace()));
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

    static Optional<Job> job(RunContext ctx, StepStatus step) {
        return ctx.observed().job(step.getJobName());
    }
}
