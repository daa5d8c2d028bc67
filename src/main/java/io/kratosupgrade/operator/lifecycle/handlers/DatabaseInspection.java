package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.InspectionStatus;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DumpToolEnvironment;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.preflight.PlanBuilder;
import io.kratosupgrade.operator.resources.BackupJobBuilder;
import io.kratosupgrade.operator.resources.CredentialsSecretBuilder;
import io.kratosupgrade.operator.resources.InspectionJobBuilder;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import io.kratosupgrade.operator.product.DataMigration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Preflight's read-only look at the database, before the plan is written: a short Job with the database tools
 * image, connected the way the backup connects (a short-lived credentials Secret, deleted once it finished).
 * PostgreSQL and MySQL; other databases (CockroachDB, SQLite) get a note in the plan.
 *
 * <p>When nobody reads the plan before the run goes on (no approval, no dry run, not Gate mode) and the backup is
 * the first step (Rolling), the backup Job inspects instead, just before its dump: a pod's start fewer per run
 * (about 3 s, most of a bare run's overhead). Its findings complete the plan and are checked before anything
 * changes; under Recreate the inspection stays first, since the scale-down comes before the backup.
 */
final class DatabaseInspection {

    static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    private DatabaseInspection() {
    }

    /** Empty once status.inspection holds a result (or nothing can be inspected); else what preflight does meanwhile. */
    static Optional<PhaseOutcome> step(RunContext ctx, PodSpec pod, Container kratos, DatabaseTarget database,
                                       KratosVersion running, KratosVersion target) {
        if (!InspectionJobBuilder.inspects(database.kind())) return Optional.empty();
        InspectionStatus inspection = ctx.status().getInspection();
        if (inspection != null && inspection.getFinishedAt() != null) return Optional.empty();
        String secret = Names.inspectionCredentialsSecret(ctx.upgrade(), ctx.run());
        if (inspection == null) {
            inspection = new InspectionStatus();
            inspection.setJobName(Names.inspectionJob(ctx.upgrade(), ctx.run()));
            inspection.setStartedAt(ctx.nowText());
            ctx.status().setInspection(inspection);
        }
        Optional<Job> job = RunningJob.job(ctx, inspection);
        if (job.isEmpty()) {
            String image = ctx.spec().getBackup().getImage() != null ? ctx.spec().getBackup().getImage() : ctx.settings().backupImage();
            Job built = InspectionJobBuilder.build(new InspectionJobBuilder.Input(ctx.upgrade(), ctx.run(), inspection.getJobName(),
                    secret, database.kind(), image, TIMEOUT, pod, kratos, versions(ctx, database.kind(), running), versions(ctx, database.kind(), target),
                    ctx.product().dataMigration(running, target).flatMap(DataMigration::precheck).orElse(null)));
            return Optional.of(PhaseOutcome.stay("inspecting the database read-only (Job " + inspection.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, inspection, TIMEOUT),
                    new Action.CreateSecret(CredentialsSecretBuilder.build(ctx.upgrade(), ctx.run(), secret, DumpToolEnvironment.of(database))),
                    new Action.CreateJob(built)));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), inspection, TIMEOUT);
        switch (outcome.state()) {
            case SUCCEEDED -> {
                inspection.setFinishedAt(ctx.nowText());
                read(outcome.terminationMessage(), inspection, versions(ctx, database.kind(), running), versions(ctx, database.kind(), target));
                return Optional.of(PhaseOutcome.continueNow("database inspected: " + summary(inspection),
                        new Action.DeleteSecret(secret)));
            }
            case FAILED -> {
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(new Action.DeleteSecret(secret));
                return Optional.of(failed(ctx, outcome, actions));
            }
            default -> {
                return Optional.of(PhaseOutcome.stay("inspecting the database read-only (Job " + inspection.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, inspection, TIMEOUT)));
            }
        }
    }

    /** The run ends: the inspection (its own Job's or the backup Job's) could not read the database. */
    static PhaseOutcome failed(RunContext ctx, JobOutcome outcome, List<Action> actions) {
        InspectionStatus inspection = ctx.status().getInspection();
        inspection.setFinishedAt(ctx.nowText());
        String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
        return Failures.fail(ctx, "DatabaseInspectionFailed", "the read-only database inspection (Job "
                + inspection.getJobName() + ") failed: " + outcome.message() + (tail == null || tail.isBlank() ? ""
                : "; it said: " + tail) + "; nothing was changed. The backup and "
                + "the migration would connect the same way: check the DSN and that the database accepts connections",
                actions.toArray(Action[]::new));
    }

    /** Whether this run's backup Job inspects the database, rather than a Job of its own in preflight. */
    static boolean deferrableToBackup(RunContext ctx, boolean backup, DatabaseKind kind) {
        return backup && InspectionJobBuilder.inspects(kind) && ctx.spec().getStrategy() == Strategy.Rolling
                && !ctx.spec().getApproval().isRequired() && !ctx.spec().isDryRun() && !ctx.gate();
    }

    /** Records that the backup Job will inspect: status.inspection names it and has not started. */
    static void deferToBackup(RunContext ctx) {
        if (ctx.status().getInspection() == null) {
            InspectionStatus inspection = new InspectionStatus();
            inspection.setJobName(Names.backupJob(ctx.upgrade(), ctx.run()));
            ctx.status().setInspection(inspection);
        }
    }

    /** The backup Job of this run has the inspection to do. */
    static boolean inBackupJob(RunContext ctx) {
        InspectionStatus inspection = ctx.status().getInspection();
        return inspection != null && inspection.getFinishedAt() == null && ctx.status().getBackup() != null
                && inspection.getJobName().equals(ctx.status().getBackup().getJobName());
    }

    /** What the backup Job's inspection compares with. */
    static BackupJobBuilder.Inspection lists(RunContext ctx, DatabaseKind kind) {
        return new BackupJobBuilder.Inspection(versions(ctx, kind, KratosVersion.parse(ctx.status().getFromVersion())),
                versions(ctx, kind, KratosVersion.parse(ctx.status().getToVersion())));
    }

    /**
     * Reads the backup Job's inspection report into status.inspection and the plan; empty when the run may go on
     * (with the new database warnings as events in {@code events}), else the refusal.
     */
    static Optional<String> finishInBackup(RunContext ctx, String report, DatabaseKind kind, List<Decision.Event> events) {
        InspectionStatus inspection = ctx.status().getInspection();
        inspection.setStartedAt(ctx.status().getBackup().getStartedAt());
        inspection.setFinishedAt(ctx.nowText());
        KratosVersion from = KratosVersion.parse(ctx.status().getFromVersion());
        KratosVersion target = KratosVersion.parse(ctx.status().getToVersion());
        read(report, inspection, versions(ctx, kind, from), versions(ctx, kind, target));
        Optional<String> ahead = ahead(ctx, inspection, target);
        if (ahead.isPresent()) return ahead;
        PlanBuilder.addInspection(ctx.status().getPlan(), inspection, from, ctx.spec().getAcknowledgedWarnings())
                .forEach(w -> events.add(new Decision.Event(true, "DatabaseWarning", w.getRule() + ": " + w.getWhat())));
        return Optional.empty();
    }

    /** The refusal when the database holds migrations the target does not know: a newer release migrated it. */
    static Optional<String> ahead(RunContext ctx, InspectionStatus inspection, KratosVersion target) {
        if (inspection == null || inspection.getUnknownToTarget() == null || inspection.getUnknownToTarget() == 0) {
            return Optional.empty();
        }
        return Optional.of("the database has " + inspection.getUnknownToTarget() + " migrations " + ctx.product().displayName()
                + " " + target + " does not know (newest: " + String.join(", ", inspection.getExamples()) + "): a newer "
                + "release already migrated it, and " + target + " on that schema is a downgrade. Nothing was changed; target "
                + "the release that migrated it (or a newer one)");
    }

    /**
     * The refusal when the inspection found records the run's data migration will not move (Keto's broken tuples):
     * the freeze, the copy and the migration would all happen for a data migration that then stops the run.
     */
    static Optional<String> unmovable(RunContext ctx, InspectionStatus inspection, DataMigration dataMigration) {
        if (inspection == null || inspection.getUnmovableRecords() == null || inspection.getUnmovableRecords() == 0) return Optional.empty();
        return Optional.of(inspection.getUnmovableRecords() + " records of the database cannot be moved by " + dataMigration.description()
                + " (status.inspection.unmovableExamples: " + String.join(", ", inspection.getUnmovableExamples()) + "). Nothing was "
                + "changed; fix or delete them with the running " + ctx.product().displayName() + ", then retry");
    }

    static String summary(InspectionStatus inspection) {
        if (inspection.getAppliedMigrations() == null) return "no result";
        return inspection.getAppliedMigrations() + " migrations applied"
                + (inspection.getNewestMigration() == null ? "" : ", newest " + inspection.getNewestMigration())
                + (inspection.getPendingForTarget() == null ? "" : ", " + inspection.getPendingForTarget() + " pending for the target")
                + (inspection.getNetworks() == null ? "" : ", " + inspection.getNetworks() + " rows in networks")
                + (inspection.getUnmovableRecords() == null ? "" : ", " + inspection.getUnmovableRecords() + " records the data migration cannot move");
    }

    private static Set<String> versions(RunContext ctx, DatabaseKind kind, KratosVersion version) {
        return ctx.product().knowledge().release(version).map(r -> (Set<String>) r.migrations(kind.id())).orElse(Set.of());
    }

    /** Counts relative to a release the knowledge base does not know are meaningless and stay empty. */
    static void read(String message, InspectionStatus inspection, Set<String> running, Set<String> target) {
        if (message == null) return;
        boolean runningKnown = !running.isEmpty();
        boolean targetKnown = !target.isEmpty();
        try {
            JsonNode report = JSON.readTree(message);
            if (report.hasNonNull("networks")) inspection.setNetworks(report.get("networks").asInt());
            if (report.hasNonNull("dataMigration")) {
                inspection.setUnmovableRecords(report.get("dataMigration").path("count").asInt());
                List<String> unmovable = new ArrayList<>();
                report.get("dataMigration").path("examples").forEach(e -> unmovable.add(e.asText()));
                inspection.setUnmovableExamples(unmovable);
            }
            if (!report.path("schemaMigration").asBoolean(false)) {
                // No schema_migration table: nothing was ever migrated.
                inspection.setAppliedMigrations(0);
                if (runningKnown) inspection.setMissingForRunning(running.size());
                if (targetKnown) inspection.setPendingForTarget(target.size());
                return;
            }
            inspection.setAppliedMigrations(report.path("applied").asInt());
            if (report.hasNonNull("newest")) inspection.setNewestMigration(report.get("newest").asText());
            if (runningKnown) {
                inspection.setMissingForRunning(report.path("missingForRunning").asInt());
                inspection.setUnknownToRunning(report.path("unknownToRunning").asInt());
            }
            if (targetKnown) {
                inspection.setPendingForTarget(report.path("pendingForTarget").asInt());
                inspection.setUnknownToTarget(report.path("unknownToTarget").asInt());
            }
            List<String> examples = new ArrayList<>();
            String field = targetKnown && inspection.getUnknownToTarget() > 0 ? "aheadExamples" : "missingExamples";
            report.path(field).forEach(v -> examples.add(v.asText()));
            inspection.setExamples(examples);
        } catch (Exception e) {
            // An unreadable report leaves the counts empty; the plan then says the database was not inspected.
            inspection.setAppliedMigrations(null);
        }
    }
}
