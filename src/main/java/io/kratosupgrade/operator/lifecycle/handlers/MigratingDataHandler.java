package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.DataMigrationStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.product.DataMigration;
import io.kratosupgrade.operator.resources.MigrationJobBuilder;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * BlueGreen: the data migration the product needs after the schema migration (Keto v0.6 to v0.7), run by the target
 * image on the target database while the old side's writes are frozen, as Ory's guide does it. A failed attempt is
 * started again (the guide: "re-run the command until it succeeds"), each in a Job of its own written to status
 * first; an attempt that names records it cannot move ends the run: a re-run never moves them, and Keto's would
 * copy the good ones twice.
 */
public class MigratingDataHandler implements PhaseHandler {

    /** At most this many broken records are listed in status; the Job's log has them all. */
    static final int LISTED_BROKEN_RECORDS = 50;

    @Override
    public Phase phase() {
        return Phase.MigratingData;
    }

    @Override
    public void enter(RunContext ctx) {
        DataMigrationStatus step = new DataMigrationStatus();
        step.setDescription(ctx.dataMigration().map(DataMigration::description).orElse(null));
        startAttempt(ctx, step, 1);
        ctx.status().setDataMigration(step);
    }

    private static void startAttempt(RunContext ctx, DataMigrationStatus step, int attempt) {
        step.setAttempts(attempt);
        step.setJobName(Names.dataMigrationJob(ctx.upgrade(), ctx.run(), attempt));
        step.setStartedAt(ctx.nowText());
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        DataMigrationStatus step = ctx.status().getDataMigration();
        Optional<DataMigration> dataMigration = ctx.dataMigration();
        if (dataMigration.isEmpty()) {
            // Only reachable if the run's versions changed under it; nothing to run then.
            return PhaseOutcome.advance(Phase.StartingNewSide, "DataMigrated", "no data migration is needed from "
                    + ctx.status().getFromVersion() + " to " + ctx.status().getToVersion());
        }
        Duration timeout = Times.goDuration(ctx.spec().getMigration().getTimeout());
        int allowed = ctx.spec().getMigration().getDataMigrationAttempts();
        String attempt = "attempt " + step.getAttempts() + " of " + allowed;
        Optional<Job> job = RunningJob.job(ctx, step);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.forMigration(ctx);
            if (template.isEmpty()) return KratosTemplate.gone(ctx);
            Job built = MigrationJobBuilder.buildDataMigration(new MigrationJobBuilder.Input(ctx.upgrade(), ctx.run(), step.getJobName(),
                    template.get().pod(), template.get().container(), ctx.hop().getImage(), dataMigration.get().args(), timeout));
            return PhaseOutcome.stay("starting " + dataMigration.get().description() + " on the target database, " + attempt
                    + " (Job " + step.getJobName() + ")", RunningJob.deadlineLeft(ctx, step, timeout), new Action.CreateJob(built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), step, timeout);
        switch (outcome.state()) {
            case SUCCEEDED -> {
                step.setFinishedAt(ctx.nowText());
                return PhaseOutcome.advance(Phase.StartingNewSide, "DataMigrated", dataMigration.get().description() + " succeeded on "
                        + attempt + " (Job " + step.getJobName() + "); starting Deployment " + ctx.status().getBlueGreen().getNewDeployment());
            }
            case FAILED -> {
                Optional<DataMigration.BrokenRecords> broken = dataMigration.get().brokenRecords(outcome.terminationMessage());
                if (broken.isPresent()) {
                    step.setFinishedAt(ctx.nowText());
                    List<String> examples = broken.get().examples().stream().map(Redaction::redact).toList();
                    step.setBrokenRecords(examples.subList(0, Math.min(examples.size(), LISTED_BROKEN_RECORDS)));
                    boolean all = broken.get().complete() && examples.size() <= LISTED_BROKEN_RECORDS;
                    step.setBrokenRecordsTruncated(all ? null : true);
                    return Failures.fail(ctx, "BrokenRecords", ctx.product().displayName() + " could not move "
                            + (all ? examples.size() + " records" : "some records") + " (status.dataMigration.brokenRecords"
                            + (all ? "" : "; all of them in the log of Job " + step.getJobName()) + "): a re-run does not move "
                            + "them. Switching back: the old side serves on the untouched old database, where they can be fixed "
                            + "or deleted before a retry");
                }
                String why = Redaction.tail(outcome.message() + (outcome.terminationMessage() == null ? "" : ": " + outcome.terminationMessage()), 600);
                if ("DeadlineExceeded".equals(outcome.reason()) || step.getAttempts() >= allowed) {
                    step.setFinishedAt(ctx.nowText());
                    String reason = "DeadlineExceeded".equals(outcome.reason()) ? "DataMigrationTimeout" : "DataMigrationFailed";
                    return Failures.fail(ctx, reason, dataMigration.get().description() + " failed, " + attempt + " (Job "
                            + step.getJobName() + "): " + why, RunningJob.stopIfRunning(job.get(), outcome).toArray(Action[]::new));
                }
                String failedJob = step.getJobName();
                startAttempt(ctx, step, step.getAttempts() + 1);
                String retry = dataMigration.get().description() + " failed, " + attempt + " (Job " + failedJob + "): " + why
                        + "; starting it again (Job " + step.getJobName() + ")";
                // The next pass creates that Job, after the attempt is in status; its message replaces this one, the event stays.
                return PhaseOutcome.continueNow(retry).withEvents(List.of(new Decision.Event(true, "DataMigrationAttemptFailed", retry)));
            }
            default -> {
                return PhaseOutcome.stay(dataMigration.get().description() + ", " + attempt + " (Job " + step.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, step, timeout));
            }
        }
    }
}
