package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RestoreStatus;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.DumpToolEnvironment;
import io.kratosupgrade.operator.database.InvalidDsnException;
import io.kratosupgrade.operator.kube.DeploymentPods;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.resources.CredentialsSecretBuilder;
import io.kratosupgrade.operator.resources.DatabaseRestoreJobBuilder;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rollback ImageAndDatabase, the database half: the verified dump goes back into production, then RollingBack
 * puts the release the run found back. Decided first: the restore happens only when it loses nothing (Recreate,
 * first hop, no pod of the new release ever ready) or data loss is allowed; otherwise it is refused and only the
 * image is rolled back, with the reason in status. Then Kratos is scaled to zero and waited for (nothing may
 * write while the schema is replaced), and one Job restores in a single transaction with the row counts checked
 * inside it. A failed restore leaves the database as it was (migrated) and the image rollback still happens.
 * Every exit is RollingBack.
 */
public class RestoringDatabaseHandler implements PhaseHandler {

    public static final String RESTORED = RunContext.RESTORED;
    public static final String REFUSED = "Refused";
    public static final String FAILED = "Failed";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Phase phase() {
        return Phase.RestoringDatabase;
    }

    @Override
    public void enter(RunContext ctx) {
        RestoreStatus restore = new RestoreStatus();
        restore.setJobName(Names.databaseRestoreJob(ctx.upgrade(), ctx.run()));
        restore.setStartedAt(ctx.nowText());
        ctx.status().setDatabaseRestore(restore);
    }

    /** Why restoring the dump would lose writes (empty when it would not). */
    public static Optional<String> dataLossRisk(RunContext ctx) {
        if (ctx.strategy() == Strategy.Rolling) {
            return Optional.of("under Rolling the old release kept serving on the migrated schema after the dump");
        }
        if (ctx.hopIndex() > 0) {
            return Optional.of("earlier hops of this run served on the database after the dump");
        }
        if (ctx.status().getRollout() != null && ctx.status().getRollout().getNewReleaseReadyAt() != null) {
            return Optional.of("a pod of the new release was ready at " + ctx.status().getRollout().getNewReleaseReadyAt()
                    + " and may have written");
        }
        return Optional.empty();
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        RestoreStatus restore = ctx.status().getDatabaseRestore();
        BackupStatus backup = ctx.status().getBackup();
        String secretName = Names.databaseRestoreCredentialsSecret(ctx.upgrade(), ctx.run());
        if (backup == null || backup.getVerification() == null || !VerifyingBackupHandler.VERIFIED.equals(backup.getVerification().getResult())) {
            return refuse(ctx, restore, "there is no verified dump of this run to restore");
        }
        Optional<String> risk = dataLossRisk(ctx);
        if (risk.isPresent() && !ctx.spec().getRollback().getAllowDataLoss()) {
            return refuse(ctx, restore, "restoring the dump would lose writes (" + risk.get() + "); set rollback.allowDataLoss "
                    + "to restore anyway");
        }
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return giveUp(ctx, restore, "Deployment " + ctx.spec().getDeploymentName() + " disappeared", List.of());
        }
        Duration timeout = Times.goDuration(ctx.spec().getBackup().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, restore);
        if (job.isEmpty()) {
            Integer replicas = deployment.getSpec().getReplicas();
            if (replicas == null || replicas != 0) {
                if (ctx.status().getRollout().getScaledDownAt() == null) ctx.status().getRollout().setScaledDownAt(ctx.nowText());
                return PhaseOutcome.stay("scaling Deployment " + ctx.spec().getDeploymentName() + " to zero before the database restore",
                        timeout, new Action.PatchDeployment(ctx.spec().getDeploymentName(), DeploymentPatches.setReplicas(0), "replicas 0"));
            }
            List<Pod> running = DeploymentPods.stillRunning(ctx.observed().deploymentPods());
            if (!running.isEmpty()) {
                return PhaseOutcome.stay("waiting for " + ctx.product().displayName() + " to stop before the database restore: " + running.size() + " pods still exist: "
                        + DeploymentPods.describe(running), ctx.settings().podRecheck());
            }
            return createJob(ctx, restore, backup, timeout, secretName);
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), restore, timeout);
        switch (outcome.state()) {
            case SUCCEEDED -> {
                restore.setFinishedAt(ctx.nowText());
                VerifyingBackupHandler.readReport(outcome.terminationMessage(), restore);
                restore.setMismatches(VerifyingBackupHandler.mismatches(backup.getCounts(), restore.getRestoredCounts()));
                if (!restore.getMismatches().isEmpty()) {
                    return giveUp(ctx, restore, "after the restore Job " + restore.getJobName() + " the database does not hold what "
                            + "was dumped (rows, dumped -> now: " + String.join(", ", restore.getMismatches()) + ")",
                            List.of(new Action.DeleteSecret(secretName)));
                }
                restore.setResult(RESTORED);
                ctx.status().setDatabaseVersion(ctx.status().getFromVersion());
                return PhaseOutcome.advance(Phase.RollingBack, "DatabaseRestored", "database restored from " + backup.getFile()
                        + " (the state before this run's migration; row counts checked) by Job " + restore.getJobName()
                        + "; rolling back to " + ctx.status().getFromImage(), new Action.DeleteSecret(secretName));
            }
            case FAILED -> {
                restore.setFinishedAt(ctx.nowText());
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(new Action.DeleteSecret(secretName));
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                return giveUp(ctx, restore, "the restore Job " + restore.getJobName() + " failed (" + outcome.message() + ")"
                        + (tail == null ? "" : ": " + tail) + "; its transaction was rolled back, the database is still migrated", actions);
            }
            default -> {
                return PhaseOutcome.stay("restoring " + backup.getFile() + " into the database (Job " + restore.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, restore, timeout));
            }
        }
    }

    private PhaseOutcome createJob(RunContext ctx, RestoreStatus restore, BackupStatus backup, Duration timeout, String secretName) {
        DsnResolution dsn = ctx.observed().dsn();
        if (dsn == null || dsn.result() != DsnResolution.Result.FOUND) {
            return giveUp(ctx, restore, "the DSN can no longer be read: " + (dsn == null ? "not observed" : dsn.problem()), List.of());
        }
        DatabaseTarget target;
        try {
            target = DsnParser.parse(dsn.value());
        } catch (InvalidDsnException e) {
            return giveUp(ctx, restore, "the DSN from " + dsn.source() + " is not valid: " + e.getMessage(), List.of());
        }
        Optional<KratosTemplate> template = KratosTemplate.of(ctx);
        if (template.isEmpty()) {
            return giveUp(ctx, restore, "container " + ctx.status().getContainerName() + " disappeared", List.of());
        }
        String counts;
        try {
            counts = JSON.writeValueAsString(backup.getCounts());
        } catch (Exception e) {
            return giveUp(ctx, restore, "the dump's row counts cannot be written out: " + e.getMessage(), List.of());
        }
        Job job = DatabaseRestoreJobBuilder.build(new DatabaseRestoreJobBuilder.Input(ctx.upgrade(), ctx.run(), restore.getJobName(), secretName,
                backup.getPersistentVolumeClaim(), backup.getFile(), backup.getSha256(), counts, ctx.toolsImage(), timeout, template.get().pod(), template.get().container(),
                ctx.product().coreTables()));
        return PhaseOutcome.stay(ctx.product().displayName() + " is stopped; starting database restore Job " + restore.getJobName(),
                RunningJob.deadlineLeft(ctx, restore, timeout),
                new Action.CreateSecret(CredentialsSecretBuilder.build(ctx.upgrade(), ctx.run(), secretName, DumpToolEnvironment.of(target))),
                new Action.CreateJob(job));
    }

    private static PhaseOutcome refuse(RunContext ctx, RestoreStatus restore, String why) {
        restore.setResult(REFUSED);
        restore.setFinishedAt(ctx.nowText());
        return Failures.fail(ctx, "DatabaseRestoreRefused", "the database was not restored: " + why
                + "; rolling back the image only, after: " + ctx.status().getFailureMessage());
    }

    private static PhaseOutcome giveUp(RunContext ctx, RestoreStatus restore, String why, List<Action> actions) {
        restore.setResult(FAILED);
        restore.setFinishedAt(ctx.nowText());
        return Failures.fail(ctx, "DatabaseRestoreFailed", "the database was not restored: " + why
                + "; rolling back the image only, after: " + ctx.status().getFailureMessage(), actions.toArray(Action[]::new));
    }
}
