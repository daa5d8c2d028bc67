package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.RestoreStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.BackupVerificationJobBuilder;
import io.kratosupgrade.operator.resources.RehearsalJobBuilder;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Proves the dump restores before anything is migrated: a Job checks its SHA-256, restores it into a throw-away
 * PostgreSQL server in its own pod and counts the core tables; the counts must equal those taken in the dump's
 * own snapshot. Anything else fails the run with BackupUnverified, with production untouched. When the migration
 * is rehearsed next, that Job is the rehearsal's (its first container restores and counts, the next ones migrate
 * the copy), so the dump is restored once; otherwise it is a Job of its own.
 */
public class VerifyingBackupHandler implements PhaseHandler {

    public static final String VERIFIED = "Verified";
    public static final String UNVERIFIED = "Unverified";
    static final int LOG_TAIL_CHARS = 1500;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Phase phase() {
        return Phase.VerifyingBackup;
    }

    @Override
    public void enter(RunContext ctx) {
        RestoreStatus verification = new RestoreStatus();
        verification.setJobName(ctx.spec().rehearses() ? Names.rehearsalJob(ctx.upgrade(), ctx.run())
                : Names.backupVerificationJob(ctx.upgrade(), ctx.run()));
        verification.setStartedAt(ctx.nowText());
        ctx.status().getBackup().setVerification(verification);
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BackupStatus backup = ctx.status().getBackup();
        RestoreStatus verification = backup.getVerification();
        // With a rehearsal to follow, its Job restores once for both: its first container is the verification.
        boolean rehearsalJob = ctx.spec().rehearses();
        // Restoring takes about as long as dumping: the backup's timeout applies (plus the migrations, for a rehearsal Job).
        Duration timeout = rehearsalJob ? RehearsingHandler.timeout(ctx) : Times.goDuration(ctx.spec().getBackup().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, verification);
        if (job.isEmpty()) {
            return rehearsalJob ? RehearsingHandler.createJob(ctx, verification, timeout) : createJob(ctx, verification, timeout);
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), verification, timeout);
        String container = rehearsalJob ? RehearsalJobBuilder.RESTORE_CONTAINER : BackupVerificationJobBuilder.STEP;
        Optional<ContainerStateTerminated> restored = JobOutcome.terminated(ctx.observed().podsOf(verification.getJobName()), container)
                .filter(t -> Integer.valueOf(0).equals(t.getExitCode()));
        if (outcome.state() == JobOutcome.State.FAILED && restored.isEmpty()) {
            verification.setFinishedAt(ctx.nowText());
            verification.setResult(UNVERIFIED);
            String tail = Redaction.tail(outcome.terminationMessage(), LOG_TAIL_CHARS);
            return Failures.fail(ctx, "BackupUnverified", "the dump " + backup.getFile() + " did not restore into a "
                    + "throw-away database (Job " + verification.getJobName() + ": " + outcome.message() + ")"
                    + (tail == null ? "" : ": " + tail) + "; nothing was migrated and the dump is kept for inspection",
                    RunningJob.stopIfRunning(job.get(), outcome).toArray(Action[]::new));
        }
        if (restored.isEmpty()) {
            return PhaseOutcome.stay("verifying " + backup.getFile() + " by restoring it into a throw-away database (Job "
                    + verification.getJobName() + "): " + outcome.message(), RunningJob.recheckIn(ctx, verification, timeout));
        }
        verification.setFinishedAt(ctx.nowText());
        // A rehearsal Job goes on with the migrations on the copy; it is stopped if the verification fails.
        Action[] stop = RunningJob.stopIfRunning(job.get(), outcome).toArray(Action[]::new);
        Optional<String> unreadable = readReport(restored.get().getMessage(), verification);
        if (unreadable.isPresent()) {
            verification.setResult(UNVERIFIED);
            return Failures.fail(ctx, "BackupUnverified", "Job " + verification.getJobName() + " restored " + backup.getFile()
                    + " but its report cannot be read (" + unreadable.get() + "); nothing was migrated", stop);
        }
        verification.setMismatches(mismatches(backup.getCounts(), verification.getRestoredCounts()));
        if (!verification.getMismatches().isEmpty()) {
            verification.setResult(UNVERIFIED);
            return Failures.fail(ctx, "BackupUnverified", "the restored copy of " + backup.getFile()
                    + " does not hold what was dumped (rows, dumped -> restored: " + String.join(", ", verification.getMismatches())
                    + "); nothing was migrated and the dump is kept for inspection", stop);
        }
        verification.setResult(VERIFIED);
        return PhaseOutcome.advance(ctx.afterBackupStep(), "BackupVerified", backup.getFile() + " restores: checksum "
                + "matches, " + verification.getRestoredCounts().size() + " core tables hold the rows counted in the dump's "
                + "snapshot (restored in " + verification.getRestoreSeconds() + " s by Job " + verification.getJobName() + ")");
    }

    private static PhaseOutcome createJob(RunContext ctx, RestoreStatus verification, Duration timeout) {
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName() + " disappeared");
        }
        BackupStatus backup = ctx.status().getBackup();
        Job built = BackupVerificationJobBuilder.build(new BackupVerificationJobBuilder.Input(ctx.upgrade(), ctx.run(),
                verification.getJobName(), backup.getPersistentVolumeClaim(), backup.getFile(), backup.getSha256(), ctx.toolsImage(),
                timeout, deployment.getSpec().getTemplate().getSpec(), ctx.product().coreTables()));
        return PhaseOutcome.stay("starting backup verification Job " + verification.getJobName(),
                RunningJob.deadlineLeft(ctx, verification, timeout), new Action.CreateJob(built));
    }

    /**
     * Tables whose counts differ, as "table: dumped -> restored". Every table counted in the dump's snapshot must
     * come back with the same number of rows; a dump without counts cannot be verified.
     */
    public static List<String> mismatches(Map<String, Long> dumped, Map<String, Long> restored) {
        List<String> mismatches = new ArrayList<>();
        if (dumped == null || dumped.isEmpty()) {
            mismatches.add("the backup Job reported no row counts to compare with");
            return mismatches;
        }
        for (Map.Entry<String, Long> e : new TreeMap<>(dumped).entrySet()) {
            Long back = restored == null ? null : restored.get(e.getKey());
            if (!e.getValue().equals(back)) {
                mismatches.add(e.getKey() + ": " + e.getValue() + " -> " + (back == null ? "missing" : back));
            }
        }
        return mismatches;
    }

    /** {"restoreMillis":N,"counts":{...}}; returns what is wrong with it, if anything. */
    static Optional<String> readReport(String message, RestoreStatus verification) {
        if (message == null || message.isBlank()) return Optional.of("no termination message");
        try {
            JsonNode report = JSON.readTree(message);
            if (!report.path("counts").isObject()) return Optional.of("no counts");
            Map<String, Long> counts = new TreeMap<>();
            report.get("counts").fields().forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asLong()));
            verification.setRestoredCounts(counts);
            if (report.hasNonNull("restoreMillis")) {
                verification.setRestoreSeconds(report.get("restoreMillis").asLong() / 1000.0);
            }
            return Optional.empty();
        } catch (Exception e) {
            return Optional.of("not JSON");
        }
    }
}
