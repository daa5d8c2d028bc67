package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RestoreStatus;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.BlueGreenJobBuilder;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * BlueGreen copy Dump: the dump taken during the freeze goes into the target database, in one transaction that checks
 * the target is still empty and ends with the core tables' row counts compared with the dump's snapshot. A copy that
 * went through is the backup's verification too (status.backup.verification): it restored, and it holds what was
 * dumped.
 *
 * <p>Copy Replication: the cut-over of the replica, writes being frozen: the last changes waited for, the
 * subscription, slot and publication dropped, what replication does not carry copied, and the core tables' row counts
 * compared with the frozen old database's (see {@link BlueGreenJobBuilder.Operation#CATCH_UP}).
 */
public class CopyingHandler implements PhaseHandler {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Long>> COUNTS = new TypeReference<>() {
    };

    @Override
    public Phase phase() {
        return Phase.Copying;
    }

    @Override
    public void enter(RunContext ctx) {
        ctx.status().getBlueGreen().setCopy(BlueGreenJobs.step(ctx, operation(ctx).step()));
    }

    private static BlueGreenJobBuilder.Operation operation(RunContext ctx) {
        return ctx.blueGreen().replicates() ? BlueGreenJobBuilder.Operation.CATCH_UP : BlueGreenJobBuilder.Operation.COPY;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        return ctx.blueGreen().replicates() ? catchUp(ctx) : restoreDump(ctx);
    }

    private PhaseOutcome catchUp(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        StepStatus copy = blueGreen.getCopy();
        Duration timeout = Times.goDuration(ctx.spec().getBackup().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, copy);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.of(ctx);
            if (template.isEmpty()) return KratosTemplate.gone(ctx);
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, true, true, true);
            if (credentials.problem() != null) {
                return Failures.fail(ctx, "DsnUnreadable", "cannot finish the replica: " + credentials.problem());
            }
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.CATCH_UP, copy, timeout, template.get()));
            return PhaseOutcome.stay("waiting for the last changes to reach the target database (Job " + copy.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, copy, timeout), BlueGreenJobs.create(ctx, copy, credentials, built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), copy, timeout);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(copy));
        switch (outcome.state()) {
            case SUCCEEDED -> {
                copy.setFinishedAt(ctx.nowText());
                blueGreen.setReplicationDropped(true);
                JsonNode report = BlueGreenJobs.report(outcome);
                if (report.hasNonNull("catchUpMillis")) blueGreen.setCatchUpMillis(report.get("catchUpMillis").asLong());
                Map<String, Long> source = JSON.convertValue(report.path("sourceCounts"), COUNTS);
                Map<String, Long> target = JSON.convertValue(report.path("counts"), COUNTS);
                List<String> mismatches = source == null || target == null || source.isEmpty() ? List.of("no row counts reported")
                        : VerifyingBackupHandler.mismatches(source, target);
                if (!mismatches.isEmpty()) {
                    return Failures.fail(ctx, "CopyFailed", "the replica does not hold what the frozen old database holds (rows, old -> "
                            + "target: " + String.join(", ", mismatches) + ")", deleteSecret);
                }
                return PhaseOutcome.advance(Phase.Migrating, "DatabaseCopied", "the target database received every change made before "
                        + "the freeze " + blueGreen.getCatchUpMillis() + " ms after it; subscription " + blueGreen.getSubscription()
                        + " and its slot and publication dropped; row counts of " + source.size() + " core tables match the frozen old "
                        + "database (Job " + copy.getJobName() + ")", deleteSecret);
            }
            case FAILED -> {
                copy.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                return Failures.fail(ctx, BlueGreenJobs.reason(tail, "CopyFailed"), "the cut-over Job " + copy.getJobName() + " failed ("
                        + outcome.message() + ")" + (tail == null ? "" : ": " + tail), actions.toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("waiting for the last changes to reach the target database (Job " + copy.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, copy, timeout));
            }
        }
    }

    private PhaseOutcome restoreDump(RunContext ctx) {
        StepStatus copy = ctx.status().getBlueGreen().getCopy();
        BackupStatus backup = ctx.status().getBackup();
        Duration timeout = Times.goDuration(ctx.spec().getBackup().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, copy);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.of(ctx);
            if (template.isEmpty()) return KratosTemplate.gone(ctx);
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, false, true);
            if (credentials.problem() != null) {
                return Failures.fail(ctx, "DsnUnreadable", "cannot copy the database: " + credentials.problem());
            }
            String counts;
            try {
                counts = JSON.writeValueAsString(backup.getCounts());
            } catch (Exception e) {
                return Failures.fail(ctx, "CopyFailed", "the dump's row counts cannot be written out: " + e.getMessage());
            }
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.COPY, copy, timeout, template.get())
                    .withDump(backup.getPersistentVolumeClaim(), backup.getFile(), backup.getSha256(), counts));
            return PhaseOutcome.stay("restoring " + backup.getFile() + " into the target database (Job " + copy.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, copy, timeout), BlueGreenJobs.create(ctx, copy, credentials, built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), copy, timeout);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(copy));
        switch (outcome.state()) {
            case SUCCEEDED -> {
                copy.setFinishedAt(ctx.nowText());
                RestoreStatus verification = new RestoreStatus();
                verification.setJobName(copy.getJobName());
                verification.setStartedAt(copy.getStartedAt());
                verification.setFinishedAt(copy.getFinishedAt());
                backup.setVerification(verification);
                Optional<String> unreadable = VerifyingBackupHandler.readReport(outcome.terminationMessage(), verification);
                if (unreadable.isEmpty()) {
                    verification.setMismatches(VerifyingBackupHandler.mismatches(backup.getCounts(), verification.getRestoredCounts()));
                }
                if (unreadable.isPresent() || !verification.getMismatches().isEmpty()) {
                    verification.setResult(VerifyingBackupHandler.UNVERIFIED);
                    return Failures.fail(ctx, "CopyFailed", "the copy in the target database does not hold what was dumped ("
                            + unreadable.orElse("rows, dumped -> copied: " + String.join(", ", verification.getMismatches())) + ")", deleteSecret);
                }
                verification.setResult(VerifyingBackupHandler.VERIFIED);
                return PhaseOutcome.advance(Phase.Migrating, "DatabaseCopied", backup.getFile() + " restored into the target database in "
                        + verification.getRestoreSeconds() + " s by Job " + copy.getJobName() + "; row counts of "
                        + verification.getRestoredCounts().size() + " core tables match the dump (the backup is verified)", deleteSecret);
            }
            case FAILED -> {
                copy.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                String reason = BlueGreenJobs.reason(tail, "CopyFailed");
                return Failures.fail(ctx, reason, "the copy Job " + copy.getJobName() + " failed (" + outcome.message() + ")"
                        + (tail == null ? "" : ": " + tail) + "; its transaction was rolled back", actions.toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("copying the database into the target (Job " + copy.getJobName() + "): " + outcome.message(),
                        RunningJob.recheckIn(ctx, copy, timeout));
            }
        }
    }
}
