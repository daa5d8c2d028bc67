package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.resources.BackupJobBuilder;
import io.kratosupgrade.operator.api.v1alpha1.PlanWarning;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Preflight's read-only inspection of the database, and what its findings do to the run and the plan. A run that
 * asks for approval inspects with a Job of its own before the plan is shown; a Rolling run without approval has its backup Job
 * inspect (the tests at the end).
 */
class DatabaseInspectionTest {

    private final UpgradeScenario s = new UpgradeScenario(approvalRequired());

    private static KratosUpgrade approvalRequired() {
        KratosUpgrade ku = Fixtures.upgrade();
        ku.getSpec().getApproval().setRequired(true);
        return ku;
    }

    private static String report(String applied, int pending, int missingForRunning, int unknownToTarget, String networks,
                                 String examples) {
        return "{\"schemaMigration\":true,\"applied\":" + applied + ",\"newest\":\"20240119094628000000\",\"pendingForTarget\":"
                + pending + ",\"missingForRunning\":" + missingForRunning + ",\"unknownToRunning\":0,\"unknownToTarget\":"
                + unknownToTarget + ",\"aheadExamples\":" + (unknownToTarget > 0 ? examples : "[]") + ",\"missingExamples\":"
                + (missingForRunning > 0 ? examples : "[]") + ",\"networks\":" + networks + "}";
    }

    @Test
    void theJobCarriesBothReleasesMigrationListsAndTheCredentialsOnlyByReference() {
        s.toPreflight();
        s.decide();

        Job job = s.actions(Action.CreateJob.class).get(0).job();
        var container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        List<EnvVar> env = container.getEnv();
        String running = env.stream().filter(e -> e.getName().equals("RUNNING_MIGRATIONS")).findFirst().orElseThrow().getValue();
        String target = env.stream().filter(e -> e.getName().equals("TARGET_MIGRATIONS")).findFirst().orElseThrow().getValue();
        assertThat(running.split(",")).as("v1.1.0's postgres migrations").hasSize(307);
        assertThat(target.split(",")).as("v1.3.1's postgres migrations").hasSize(315);
        assertThat(container.getEnvFrom()).singleElement().satisfies(e -> assertThat(e.getSecretRef().getName()).endsWith("-inspect-db"));
        assertThat(Serialization.asYaml(job)).doesNotContain(Fixtures.PASSWORD);
        assertThat(s.actions(Action.CreateSecret.class)).hasSize(1);
        assertThat(s.status().getInspection().getJobName()).isEqualTo(job.getMetadata().getName());
    }

    @Test
    void theDeploymentIsTakenWhileTheDatabaseIsInspectedSoItsResultEndsPreflight() {
        s.toPreflight();
        s.decide();
        assertThat(s.last.actions()).as("the Job, its credentials and the lock in one decision")
                .hasAtLeastOneElementOfType(Action.CreateJob.class).hasAtLeastOneElementOfType(Action.AcquireLock.class);
        s.world.lock = Fixtures.lockedBy(Fixtures.NAME);

        String job = s.status().getInspection().getJobName();
        s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "inspect", 0, "Completed", UpgradeScenario.INSPECTION_REPORT));
        Decision d = s.decide();

        assertThat(s.phase()).as("the result and the end of preflight in one status write").isEqualTo(Phase.AwaitingApproval);
        assertThat(d.actions()).noneMatch(a -> a instanceof Action.AcquireLock);
        assertThat(d.actions()).anyMatch(a -> a instanceof Action.DeleteSecret);
    }

    @Test
    void theExactPendingCountComesFromTheDatabase() {
        s.toPreflight();
        s.decideInPreflight(report("282", 17, 0, 0, "1", "[]"));

        assertThat(s.status().getPlan().getPendingMigrations()).isEqualTo(17);
        assertThat(s.status().getInspection().getAppliedMigrations()).isEqualTo(282);
        assertThat(s.status().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("282 migrations applied"));
    }

    @Test
    void aDatabaseMigratedByANewerReleaseThanTheTargetIsRefused() {
        s.toPreflight();
        Decision d = s.decideInPreflight(report("330", 0, 0, 2, "1", "[\"20250710085000000000\",\"20250101000000000000\"]"));

        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("DatabaseAhead");
        assertThat(s.status().getMessage()).contains("2 migrations", "20250710085000000000", "downgrade", "Nothing was changed");
        assertThat(d.actions()).noneMatch(a -> a instanceof Action.AcquireLock);
    }

    @Test
    void migrationsMissingForTheRunningReleaseAndSeveralNetworksAreWarningsThatCanBeAcknowledged() {
        s.toPreflight();
        String findings = report("279", 36, 3, 0, "2", "[\"20240100000000000000\"]");
        s.decideInPreflight(findings);

        assertThat(s.status().getPlan().getWarnings()).extracting(PlanWarning::getRule)
                .contains("database-behind-running-release", "database-several-networks");
        assertThat(s.status().getPlan().getWarnings()).filteredOn(w -> w.getRule().equals("database-behind-running-release"))
                .singleElement().satisfies(w -> assertThat(w.getWhat()).contains("3 migrations", "20240100000000000000", "503"));
        String hash = s.status().getPlan().getHash();

        s.ku.getSpec().setAcknowledgedWarnings(List.of("database-several-networks"));
        s.decide();
        assertThat(s.status().getPlan().getWarnings()).extracting(PlanWarning::getRule).doesNotContain("database-several-networks");
        assertThat(s.status().getPlan().getAcknowledgedWarnings()).contains("database-several-networks");
        assertThat(s.status().getPlan().getHash()).isNotEqualTo(hash);

        s.world.lock = Fixtures.lockedBy(Fixtures.NAME);
        Decision passed = s.decide();
        assertThat(passed.events()).filteredOn(e -> e.reason().equals("DatabaseWarning")).singleElement()
                .satisfies(e -> assertThat(e.message()).startsWith("database-behind-running-release: "));
    }

    @Test
    void aDatabaseWithoutSchemaMigrationHasEveryMigrationOfTheTargetPending() {
        s.toPreflight();
        s.decideInPreflight("{\"schemaMigration\":false,\"networks\":null}");

        assertThat(s.status().getPlan().getPendingMigrations()).isEqualTo(315);
        assertThat(s.status().getInspection().getMissingForRunning()).isEqualTo(307);
    }

    @Test
    void anInspectionThatCannotConnectFailsPreflightAndRemovesItsCredentials() {
        s.toPreflight();
        s.decide();
        String job = s.status().getInspection().getJobName();
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"),
                Fixtures.terminatedPod(job, "inspect", 2, "Error", "psql: error: connection refused"));
        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("DatabaseInspectionFailed");
        assertThat(s.status().getMessage()).contains("nothing was changed", "check the DSN", "it said: psql: error: connection refused");
        assertThat(s.actions(Action.DeleteSecret.class)).hasSize(1);
    }

    // ------------------------------------------------------------ the backup Job inspects

    @Test
    void onlyARunThatNobodyReviewsAndThatBacksUpFirstHasItsBackupJobInspect() {
        UpgradeScenario bare = new UpgradeScenario();
        bare.toPreflight();
        bare.decide();
        assertThat(bare.actions(Action.CreateJob.class)).as("no Job of its own").isEmpty();
        assertThat(bare.status().getInspection().getJobName()).isEqualTo(Fixtures.NAME + "-1-backup");
        assertThat(bare.status().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("inspected read-only in the backup Job"));

        for (var ku : List.of(approvalRequired(), recreate(), dryRun())) {
            UpgradeScenario reviewed = new UpgradeScenario(ku);
            reviewed.toPreflight();
            reviewed.decide();
            assertThat(reviewed.actions(Action.CreateJob.class)).singleElement()
                    .satisfies(j -> assertThat(j.job().getMetadata().getName()).endsWith("-1-inspect"));
        }
    }

    private static KratosUpgrade recreate() {
        KratosUpgrade ku = Fixtures.upgrade();
        ku.getSpec().setStrategy(Strategy.Recreate);
        return ku;
    }

    private static KratosUpgrade dryRun() {
        KratosUpgrade ku = Fixtures.upgrade();
        ku.getSpec().setDryRun(true);
        return ku;
    }

    /** The backup Job of a Rolling run without approval, created. */
    private Job backupJob(UpgradeScenario bare) {
        bare.toBackingUp();
        bare.decide();
        return bare.actions(Action.CreateJob.class).get(0).job();
    }

    @Test
    void theBackupJobCarriesBothReleasesMigrationListsAndInspectsBeforeItDumps() {
        UpgradeScenario bare = new UpgradeScenario();
        var container = backupJob(bare).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getEnv()).extracting(EnvVar::getName).contains("RUNNING_MIGRATIONS", "TARGET_MIGRATIONS");
        String script = container.getCommand().get(2);
        assertThat(script.indexOf("from schema_migration")).as("inspects").isPositive().isLessThan(script.indexOf("pg_dump "));
        assertThat(script).contains("\"inspection\":%s");
    }

    @Test
    void theBackupJobsInspectionCompletesThePlanBeforeAnythingChanges() {
        UpgradeScenario bare = new UpgradeScenario();
        String job = backupJob(bare).getMetadata().getName();
        String hash = bare.status().getPlan().getHash();
        String findings = report("279", 36, 3, 0, "1", "[\"20240100000000000000\"]");
        bare.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed",
                UpgradeScenario.BACKUP_REPORT.replace("}}", "},\"inspection\":" + findings + "}")));
        Decision d = bare.decide();

        assertThat(bare.phase()).isEqualTo(Phase.VerifyingBackup);
        assertThat(bare.status().getInspection().getAppliedMigrations()).isEqualTo(279);
        assertThat(bare.status().getInspection().getFinishedAt()).isNotNull();
        assertThat(bare.status().getPlan().getPendingMigrations()).isEqualTo(36);
        assertThat(bare.status().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("279 migrations applied", job))
                .noneSatisfy(n -> assertThat(n).contains("inspected read-only in the backup Job"));
        assertThat(bare.status().getPlan().getHash()).isNotEqualTo(hash);
        assertThat(d.events()).filteredOn(e -> e.reason().equals("DatabaseWarning")).singleElement()
                .satisfies(e -> assertThat(e.message()).startsWith("database-behind-running-release: "));
    }

    @Test
    void aDatabaseAheadOfTheTargetFoundByTheBackupJobEndsTheRunBeforeTheMigrationAndKeepsTheDump() {
        UpgradeScenario bare = new UpgradeScenario();
        String job = backupJob(bare).getMetadata().getName();
        String findings = report("330", 0, 0, 2, "1", "[\"20250710085000000000\",\"20250101000000000000\"]");
        bare.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed",
                UpgradeScenario.BACKUP_REPORT.replace("}}", "},\"inspection\":" + findings + "}")));
        bare.decide();

        assertThat(bare.phase()).isEqualTo(Phase.Failed);
        assertThat(bare.status().getFailureReason()).isEqualTo("DatabaseAhead");
        assertThat(bare.status().getMessage()).contains("20250710085000000000", "Nothing was changed", bare.status().getBackup().getFile() + " is kept");
        assertThat(bare.status().getMigration()).as("nothing migrated").isNull();
        assertThat(bare.actions(Action.DeleteSecret.class)).hasSize(1);
    }

    @Test
    void aBackupJobWhoseInspectionCannotConnectFailsAsTheInspection() {
        UpgradeScenario bare = new UpgradeScenario();
        String job = backupJob(bare).getMetadata().getName();
        bare.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "backup", 1, "Error",
                "psql: error: connection refused\n" + BackupJobBuilder.INSPECTION_FAILED));
        bare.decide();

        assertThat(bare.phase()).isEqualTo(Phase.Failed);
        assertThat(bare.status().getFailureReason()).isEqualTo("DatabaseInspectionFailed");
        assertThat(bare.status().getMessage()).contains("nothing was changed", "check the DSN", "psql: error: connection refused");

        UpgradeScenario dumpFailed = new UpgradeScenario();
        job = backupJob(dumpFailed).getMetadata().getName();
        dumpFailed.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "backup", 1, "Error",
                "pg_dump: error: query failed"));
        dumpFailed.decide();
        assertThat(dumpFailed.status().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(dumpFailed.status().getMessage()).contains("it said: pg_dump: error: query failed", "nothing was migrated");
    }
}
