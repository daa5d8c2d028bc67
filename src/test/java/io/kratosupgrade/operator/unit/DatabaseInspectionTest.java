package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.PlanWarning;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Preflight's read-only inspection of the database, and what its findings do to the run and the plan. */
class DatabaseInspectionTest {

    private final UpgradeScenario s = new UpgradeScenario();

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

        assertThat(s.phase()).as("the result and the end of preflight in one status write").isEqualTo(Phase.BackingUp);
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
}
