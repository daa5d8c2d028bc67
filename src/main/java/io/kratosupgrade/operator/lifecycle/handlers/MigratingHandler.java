package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.MigrationJobBuilder;
import io.kratosupgrade.operator.resources.Names;
import java.time.Duration;
import java.util.Optional;

/**
 * Runs the target release's migrate command in one Job built from the Deployment's own pod template (BlueGreen: the
 * new side's, so it migrates the target database).
 */
public class MigratingHandler implements PhaseHandler {

    /** A run waiting for a migration slot looks again this often (another run's Job ending does not wake it). */
    static final Duration SLOT_RECHECK = Duration.ofSeconds(10);

    @Override
    public Phase phase() {
        return Phase.Migrating;
    }

    @Override
    public void enter(RunContext ctx) {
        StepStatus migration = new StepStatus();
        migration.setJobName(Names.migrationJob(ctx.upgrade(), ctx.run(), ctx.hopIndex()));
        ctx.hop().setMigrationJob(migration.getJobName());
        migration.setStartedAt(ctx.nowText());
        ctx.status().setMigration(migration);
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        StepStatus migration = ctx.status().getMigration();
        HopStatus hop = ctx.hop();
        Duration timeout = Times.goDuration(ctx.spec().getMigration().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, migration);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.forMigration(ctx);
            if (template.isEmpty()) {
                return KratosTemplate.gone(ctx);
            }
            if (!ctx.observed().migrationSlot()) {
                return PhaseOutcome.stay(ctx.hopLabel() + "waiting for a migration slot: the operator runs at most "
                        + ctx.settings().maxConcurrentMigrations() + " migrations at once (kratos-upgrade.max-concurrent-migrations); "
                        + "this one starts when another ends", SLOT_RECHECK);
            }
            // The step's clock starts with its Job, not with a wait for a slot.
            migration.setStartedAt(ctx.nowText());
            Job built = MigrationJobBuilder.build(new MigrationJobBuilder.Input(ctx.upgrade(), ctx.run(), migration.getJobName(),
                    template.get().pod(), template.get().container(), hop.getImage(), ctx.product().migrateArgs(KratosVersion.parse(hop.getVersion())), timeout));
            return PhaseOutcome.stay(ctx.hopLabel() + "starting migration Job " + migration.getJobName() + " with " + hop.getImage(),
                    RunningJob.deadlineLeft(ctx, migration, timeout), new Action.CreateJob(built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), migration, timeout);
        switch (outcome.state()) {
            case SUCCEEDED -> {
                migration.setFinishedAt(ctx.nowText());
                hop.setMigratedAt(ctx.nowText());
                String migratedTo = hop.getVersion();
                String known = ctx.status().getDatabaseVersion();
                if (known == null || KratosVersion.parse(migratedTo).compareTo(KratosVersion.parse(known)) > 0) {
                    ctx.status().setDatabaseVersion(migratedTo);
                }
                String migrated = ctx.hopLabel() + "database migrated to " + migratedTo + " by Job " + migration.getJobName();
                if (ctx.strategy() == Strategy.BlueGreen && ctx.dataMigration().isPresent()) {
                    return PhaseOutcome.advance(Phase.MigratingData, "MigrationComplete", migrated.replace("database migrated",
                            "target database migrated") + "; next: " + ctx.dataMigration().get().description());
                }
                if (ctx.strategy() == Strategy.BlueGreen) {
                    return PhaseOutcome.advance(Phase.StartingNewSide, "MigrationComplete", migrated.replace("database migrated",
                            "target database migrated") + "; starting Deployment " + ctx.status().getBlueGreen().getNewDeployment());
                }
                if (ctx.gate()) {
                    return PhaseOutcome.advance(Phase.AwaitingRollout, "MigrationComplete", migrated + "; ready for the owner of "
                            + "Deployment " + ctx.spec().getDeploymentName() + " to roll it to " + migratedTo + " (Gate mode)");
                }
                return PhaseOutcome.advance(Phase.RollingOut, "MigrationComplete", migrated);
            }
            case FAILED -> {
                migration.setFinishedAt(ctx.nowText());
                String reason = "DeadlineExceeded".equals(outcome.reason()) ? "MigrationTimeout" : "MigrationFailed";
                return Failures.fail(ctx, reason, ctx.hopLabel() + "migration Job " + migration.getJobName() + " failed: " + outcome.message()
                        + "; the Deployment still runs " + ctx.rollbackTarget().getImage(),
                        RunningJob.stopIfRunning(job.get(), outcome).toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay(ctx.hopLabel() + "migrating the database to " + hop.getVersion() + " (Job " + migration.getJobName()
                        + "): " + outcome.message(),
                        RunningJob.recheckIn(ctx, migration, timeout));
            }
        }
    }
}
