package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.DumpToolEnvironment;
import io.kratosupgrade.operator.database.InvalidDsnException;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.resources.BackupJobBuilder;
import io.kratosupgrade.operator.resources.Containers;
import io.kratosupgrade.operator.resources.CredentialsSecretBuilder;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;

/**
 * Dumps the database to the backup volume with a Job. The connection settings reach the Job through a
 * short-lived Secret that is deleted as soon as the Job has finished.
 */
public class BackingUpHandler implements PhaseHandler {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Phase phase() {
        return Phase.BackingUp;
    }

    @Override
    public void enter(RunContext ctx) {
        BackupStatus backup = ctx.status().getBackup();
        backup.setJobName(Names.backupJob(ctx.upgrade(), ctx.run()));
        backup.setPersistentVolumeClaim(ctx.spec().getBackup().getPersistentVolumeClaim());
        backup.setFile(Names.backupFile(ctx.upgrade(), ctx.run(), ctx.status().getFromVersion(), kind(backup)));
        backup.setStartedAt(ctx.nowText());
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BackupStatus backup = ctx.status().getBackup();
        Duration timeout = Times.goDuration(ctx.spec().getBackup().getTimeout());
        String secretName = Names.backupCredentialsSecret(ctx.upgrade(), ctx.run());
        Optional<Job> job = RunningJob.job(ctx, backup);
        if (job.isEmpty()) {
            return createJob(ctx, backup, timeout, secretName);
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), backup, timeout);
        switch (outcome.state()) {
            case SUCCEEDED -> {
                backup.setFinishedAt(ctx.nowText());
                readReport(outcome.terminationMessage(), backup);
                List<Decision.Event> warnings = new ArrayList<>();
                boolean inspected = DatabaseInspection.inBackupJob(ctx);
                if (inspected) {
                    Optional<String> refused = DatabaseInspection.finishInBackup(ctx, inspectionReport(outcome.terminationMessage()),
                            kind(backup), warnings);
                    if (refused.isPresent()) {
                        return Failures.fail(ctx, "DatabaseAhead", refused.get() + ". The dump " + backup.getFile()
                                + " is kept", new Action.DeleteSecret(secretName));
                    }
                }
                return PhaseOutcome.advance(ctx.afterBackupStep(), "BackupComplete", "database dumped to " + backup.getFile()
                        + " on PersistentVolumeClaim " + backup.getPersistentVolumeClaim()
                        + (backup.getBytes() == null ? "" : " (" + backup.getBytes() + " bytes)")
                        + (inspected ? "; database inspected first: " + DatabaseInspection.summary(ctx.status().getInspection()) : ""),
                        new Action.DeleteSecret(secretName)).withEvents(warnings);
            }
            case FAILED -> {
                backup.setFinishedAt(ctx.nowText());
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(new Action.DeleteSecret(secretName));
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                if (DatabaseInspection.inBackupJob(ctx) && tail != null && tail.contains(BackupJobBuilder.INSPECTION_FAILED)) {
                    return DatabaseInspection.failed(ctx, outcome, actions);
                }
                return Failures.fail(ctx, "BackupFailed", "backup Job " + backup.getJobName() + " failed: "
                        + outcome.message() + (tail == null || tail.isBlank() ? "" : "; it said: " + tail)
                        + "; nothing was migrated", actions.toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("backing up the " + backup.getDatabase() + " database (Job " + backup.getJobName() + "): "
                        + outcome.message(),
                        RunningJob.recheckIn(ctx, backup, timeout));
            }
        }
    }

    private PhaseOutcome createJob(RunContext ctx, BackupStatus backup, Duration timeout, String secretName) {
        DsnResolution dsn = ctx.observed().dsn();
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName() + " disappeared");
        }
        if (dsn == null || dsn.result() != DsnResolution.Result.FOUND) {
            return Failures.fail(ctx, "DsnUnreadable", "the DSN can no longer be read: "
                    + (dsn == null ? "not observed" : dsn.problem()));
        }
        DatabaseTarget target;
        try {
            target = DsnParser.parse(dsn.value());
        } catch (InvalidDsnException e) {
            return Failures.fail(ctx, "InvalidDsn", "the DSN from " + dsn.source() + " is not valid: " + e.getMessage());
        }
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container kratos = Containers.of(pod, ctx.status().getContainerName(), ctx.product().defaultContainerName()).orElseThrow();
        String image = ctx.toolsImage();
        Job job = BackupJobBuilder.build(new BackupJobBuilder.Input(ctx.upgrade(), ctx.run(), backup.getJobName(), secretName,
                backup.getPersistentVolumeClaim(), backup.getFile(), target.kind(), image, timeout, pod, kratos,
                ctx.product().coreTables(), DatabaseInspection.inBackupJob(ctx) ? DatabaseInspection.lists(ctx, target.kind()) : null));
        return PhaseOutcome.stay("starting backup Job " + backup.getJobName(), RunningJob.deadlineLeft(ctx, backup, timeout),
                new Action.CreateSecret(CredentialsSecretBuilder.build(ctx.upgrade(), ctx.run(), secretName,
                        DumpToolEnvironment.of(target))),
                new Action.CreateJob(job));
    }

    private static DatabaseKind kind(BackupStatus backup) {
        return DatabaseKind.fromScheme(backup.getDatabase()).orElseThrow();
    }

    /** The inspection's own report inside the backup's, as text; null when there is none. */
    static String inspectionReport(String message) {
        if (message == null) return null;
        try {
            JsonNode inspection = JSON.readTree(message).path("inspection");
            return inspection.isObject() ? inspection.toString() : null;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The backup script reports {"bytes":N,"dumpMillis":N,"sha256":"...","counts":{"table":N,...}|null,
     * "inspection":{...}|null} as its
     * termination message.
     */
    static void readReport(String message, BackupStatus backup) {
        if (message == null) return;
        try {
            JsonNode report = JSON.readTree(message);
            if (report.hasNonNull("bytes")) backup.setBytes(report.get("bytes").asLong());
            if (report.hasNonNull("dumpMillis")) backup.setDumpSeconds(report.get("dumpMillis").asLong() / 1000.0);
            if (report.hasNonNull("sha256")) backup.setSha256(report.get("sha256").asText());
            if (report.path("counts").isObject()) {
                Map<String, Long> counts = new TreeMap<>();
                report.get("counts").fields().forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asLong()));
                backup.setCounts(counts);
            }
        } catch (Exception ignored) {
            // A report that cannot be read leaves size and checksum empty; the dump itself is fine.
        }
    }
}
