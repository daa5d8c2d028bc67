package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RunRecord;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every refusal of Preflight ends the run Failed with its own reason; a pass takes the Deployment first. */
class PreflightTest {

    private final UpgradeScenario s = new UpgradeScenario();

    private Decision preflight() {
        s.toPreflight();
        return s.decideInPreflight();
    }

    private Condition condition(String type) {
        return Conditions.get(s.status(), type).orElseThrow(() -> new AssertionError("no condition " + type));
    }

    private void assertRefused(Decision d, String reason) {
        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo(reason);
        assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("True");
        assertThat(condition(ConditionTypes.STALLED).getReason()).isEqualTo(reason);
        assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("False");
        assertThat(condition(ConditionTypes.READY).getReason()).isEqualTo(reason);
        assertThat(condition(ConditionTypes.RECONCILING).getStatus()).isEqualTo("False");
        assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getStatus()).isEqualTo("False");
        assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getReason()).isEqualTo(reason);
        RunRecord record = s.status().getHistory().get(0);
        assertThat(record.getResult()).isEqualTo("Failed");
        assertThat(record.getReason()).isEqualTo(reason);
        assertThat(d.events()).anySatisfy(e -> {
            assertThat(e.warning()).isTrue();
            assertThat(e.reason()).isEqualTo(reason);
        });
        // Nothing was changed: no Job, no patch of the Deployment.
        assertThat(d.actions()).noneMatch(a -> a instanceof Action.CreateJob || a instanceof Action.PatchDeployment
                || a instanceof Action.AcquireLock);
    }

    @Test
    void deploymentMissing() {
        s.world.deployment = null;

        Decision d = preflight();

        assertRefused(d, "DeploymentNotFound");
        assertThat(s.status().getMessage()).contains("kratos", Fixtures.NS);
    }

    @Test
    void namedContainerMissing() {
        s.ku.getSpec().setContainerName("server");

        assertRefused(preflight(), "ContainerNotFound");
        assertThat(s.status().getMessage()).contains("server");
    }

    @Test
    void noDsnVariable() {
        s.world.dsn = Fixtures.dsnNotDefined();

        assertRefused(preflight(), "DsnNotFound");
    }

    @Test
    void dsnSecretMissing() {
        s.world.dsn = Fixtures.dsnSecretMissing();

        assertRefused(preflight(), "DsnUnreadable");
        assertThat(s.status().getMessage()).contains("kratos-secrets");
    }

    @Test
    void invalidDsnIsReportedWithoutItsContent() {
        s.world.dsn = Fixtures.dsnFound("postgres://kratos:hunter2@db.ory.svc:5432");

        assertRefused(preflight(), "InvalidDsn");
        assertThat(s.status().getMessage()).contains("no database").doesNotContain("hunter2", "db.ory.svc");
    }

    @Test
    void downgrade() {
        s.world.deployment = Fixtures.deployment("oryd/kratos:v1.3.1");
        s.ku.getSpec().setVersion("v1.1.0");

        assertRefused(preflight(), "Downgrade");
        assertThat(s.status().getMessage()).contains("v1.1.0", "v1.3.1");
    }

    @Test
    void targetBelowTheDatabaseVersionAnEarlierRunMigratedTo() {
        s.status().setDatabaseVersion("v1.4.0");

        assertRefused(preflight(), "Downgrade");
        assertThat(s.status().getMessage()).contains("v1.4.0");
    }

    @Test
    void runningImageWithoutVersionTag() {
        s.world.deployment = Fixtures.deployment("oryd/kratos:latest");

        assertRefused(preflight(), "CurrentVersionUnknown");
        assertThat(s.status().getMessage()).contains("oryd/kratos:latest");
    }

    @Test
    void cockroachCannotBeBackedUp() {
        s.world.dsn = Fixtures.dsnFound("cockroach://root:hunter2@crdb:26257/kratos?sslmode=disable");

        assertRefused(preflight(), "UnsupportedDatabase");
        assertThat(s.status().getMessage()).contains("cockroach", "Skip").doesNotContain("hunter2");
    }

    @Test
    void cockroachWithBackupSkipGoesStraightToMigrating() {
        s.world.dsn = Fixtures.dsnFound("cockroach://root:hunter2@crdb:26257/kratos?sslmode=disable");
        s.ku.getSpec().getBackup().setPolicy(BackupPolicy.Skip);
        s.world.backupVolumeExists = null;

        s.passPreflight();

        assertThat(s.phase()).isEqualTo(Phase.Migrating);
        assertThat(s.status().getBackup()).isNull();
        assertThat(condition(ConditionTypes.BACKED_UP).getStatus()).isEqualTo("False");
        assertThat(condition(ConditionTypes.BACKED_UP).getReason()).isEqualTo("BackupSkipped");
        assertThat(s.status().getMigration().getJobName()).isEqualTo("kratos-upgrade-1-migrate");
    }

    @Test
    void backupVolumeMissing() {
        s.world.backupVolumeExists = false;

        assertRefused(preflight(), "BackupVolumeNotFound");
        assertThat(s.status().getMessage()).contains("backups");
    }

    @Test
    void anotherActiveUpgradeHoldsTheDeployment() {
        s.world.lock = Fixtures.lockedBy("other-upgrade");
        s.world.peers.add(Fixtures.peer("other-upgrade", Phase.Migrating));

        assertRefused(preflight(), "ConcurrentUpgrade");
        assertThat(s.status().getMessage()).contains("other-upgrade");
    }

    @Test
    void anotherActiveUpgradeWithoutTheLockIsStillConcurrent() {
        s.world.peers.add(Fixtures.peer("other-upgrade", Phase.RollingOut));

        assertRefused(preflight(), "ConcurrentUpgrade");
    }

    @Test
    void staleLockOfAFinishedUpgradeIsTakenOver() {
        s.world.lock = Fixtures.lockedBy("other-upgrade");
        s.world.peers.add(Fixtures.peer("other-upgrade", Phase.Succeeded));

        Decision d = preflight();

        assertThat(s.phase()).isEqualTo(Phase.Preflight);
        assertThat(besidesInspectionCleanup(d)).singleElement().isInstanceOfSatisfying(Action.AcquireLock.class, a -> {
            assertThat(a.staleResourceVersion()).as("taken over only if nobody changed it since").isEqualTo("4711");
            assertThat(UpgradeLock.holder(a.lease())).isEqualTo(Fixtures.NAME);
        });
    }

    @Test
    void passingWithoutTheLockTakesTheDeploymentAndStays() {
        Decision d = preflight();

        assertThat(s.phase()).isEqualTo(Phase.Preflight);
        assertThat(besidesInspectionCleanup(d)).singleElement().isInstanceOfSatisfying(Action.AcquireLock.class, a -> {
            assertThat(a.staleResourceVersion()).as("a new Lease is created").isNull();
            assertThat(a.lease().getMetadata().getName()).isEqualTo("kratos-upgrade-lock");
            assertThat(UpgradeLock.holder(a.lease())).isEqualTo(Fixtures.NAME);
        });
        assertThat(d.requeueAfter()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.transitions()).isEmpty();
        // What the run found and its plan are in status before the lock (and anything after it) happens.
        assertThat(s.status().getFromVersion()).isEqualTo("v1.1.0");
        assertThat(s.status().getPlan().getHash()).isNotBlank();
    }

    @Test
    void passingWithTheLockMovesToBackingUpAndRecordsTheRun() {
        s.passPreflight();

        assertThat(s.phase()).isEqualTo(Phase.BackingUp);
        assertThat(s.status().getFromVersion()).isEqualTo("v1.1.0");
        assertThat(s.status().getFromImage()).isEqualTo(Fixtures.OLD_IMAGE);
        assertThat(s.status().getToVersion()).isEqualTo("v1.3.1");
        assertThat(s.status().getToImage()).isEqualTo(Fixtures.NEW_IMAGE);
        assertThat(s.status().getContainerName()).isEqualTo("kratos");
        assertThat(s.status().getRollout().getOriginalReplicas()).isEqualTo(2);
        // Written by BackingUp's enter(), in the same status write as the transition.
        assertThat(s.status().getBackup().getJobName()).isEqualTo(Names.backupJob(s.ku, 1));
        assertThat(s.status().getBackup().getFile())
                .isEqualTo(Names.backupFile(s.ku, 1, "v1.1.0", DatabaseKind.POSTGRES))
                .contains("run1", "v1.1.0", "0f1e2d3c");
        assertThat(s.status().getBackup().getPersistentVolumeClaim()).isEqualTo("backups");
        assertThat(s.status().getBackup().getDatabase()).isEqualTo("postgres");
        assertThat(s.status().getBackup().getStartedAt()).isEqualTo(s.status().getPhaseStartedAt());
        assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getStatus()).isEqualTo("True");
        assertThat(condition(ConditionTypes.BACKED_UP).getStatus()).isEqualTo("Unknown");
        assertThat(s.last.transitions()).singleElement()
                .satisfies(t -> assertThat(t.from()).isEqualTo(Phase.Preflight))
                .satisfies(t -> assertThat(t.to()).isEqualTo(Phase.BackingUp));
    }

    @Test
    void toImageKeepsAPrivateRegistryWithPort() {
        s.world.deployment = Fixtures.deployment("localhost:5000/ory/kratos:v1.1.0-distroless");

        s.passPreflight();

        assertThat(s.status().getFromVersion()).isEqualTo("v1.1.0");
        assertThat(s.status().getToImage()).isEqualTo("localhost:5000/ory/kratos:v1.3.1");
    }

    @Test
    void explicitTargetImageWins() {
        s.ku.getSpec().setImage("registry.example.com/kratos@sha256:" + "c".repeat(64));

        s.passPreflight();

        assertThat(s.status().getToImage()).isEqualTo("registry.example.com/kratos@sha256:" + "c".repeat(64));
    }

    // ---------------------------------------------------------------- configuration rules and the plan

    @Test
    void aConfigurationTheTargetRefusesStopsTheRunNamingKeyReleaseAndFix() {
        s.world.deployment = Fixtures.deployment("oryd/kratos:v0.10.1");
        s.ku.getSpec().setVersion("v0.11.0");
        s.world.config = Fixtures.config("courier:\n  message_ttl: 1h\n", Map.of());

        Decision d = preflight();

        assertRefused(d, "BreakingConfigChange");
        assertThat(s.status().getMessage()).contains("courier.message_ttl", "v0.11.0", "courier.message_retries", "Nothing was changed");
    }

    @Test
    void thePlanIsWrittenBeforeTheDeploymentIsTakenAndItsHashIsStable() {
        s.world.deployment = Fixtures.deployment("oryd/kratos:v0.10.1");
        s.ku.getSpec().setVersion("v1.0.0");
        s.world.config = Fixtures.config("selfservice:\n  flows:\n    recovery: {enabled: true}\n", Map.of());
        s.toPreflight();

        // The inspection counts what the database really lacks: 24 here, v1.0.0's postgres migrations minus v0.10.1's.
        Decision taking = s.decideInPreflight(UpgradeScenario.INSPECTION_REPORT.replace("\"pendingForTarget\":33", "\"pendingForTarget\":24"));

        assertThat(besidesInspectionCleanup(taking)).singleElement().isInstanceOf(Action.AcquireLock.class);
        var plan = s.status().getPlan();
        assertThat(plan.getHash()).hasSize(12);
        assertThat(plan.getReleasesCrossed()).containsExactly("v0.11.0", "v0.11.1", "v0.13.0", "v1.0.0");
        assertThat(plan.getTargetKnown()).isTrue();
        assertThat(plan.getPendingMigrations()).as("what the inspection counted").isEqualTo(24);
        assertThat(plan.getSteps()).hasSize(6).first().asString().contains("back up the postgres database");
        assertThat(plan.getSteps().get(1)).contains("verify the dump", "restore it into a throw-away PostgreSQL");
        assertThat(plan.getSteps().get(2)).contains("rehearse on a restored copy");
        assertThat(plan.getSteps().get(3)).contains("oryd/kratos:v1.0.0", "migrate sql -e --yes");
        assertThat(plan.getOutage()).contains("crosses 4 releases", "zero downtime only when no release is skipped");
        assertThat(plan.getRollback()).contains("previous image", "v0.10.1 serves on the v1.0.0 schema");
        assertThat(plan.getWarnings()).extracting(w -> w.getRule()).contains("recovery-default-code");
        String hash = plan.getHash();

        s.world.lock = Fixtures.lockedBy(s.ku.getMetadata().getName());
        Decision passed = s.decide();

        assertThat(s.status().getPlan().getHash()).as("the same facts give the same plan").isEqualTo(hash);
        assertThat(s.status().getMessage()).contains("plan " + hash, "recovery-default-code");
        assertThat(passed.events()).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo("ConfigurationWarning");
            assertThat(e.message()).startsWith("recovery-default-code: ");
        });
    }

    @Test
    void acknowledgingAWarningChangesThePlanAndItsHash() {
        s.world.deployment = Fixtures.deployment("oryd/kratos:v0.10.1");
        s.ku.getSpec().setVersion("v0.11.0");
        s.world.config = Fixtures.config("selfservice:\n  flows:\n    recovery: {enabled: true}\n", Map.of());
        s.toPreflight();
        s.decideInPreflight();
        String before = s.status().getPlan().getHash();

        s.ku.getSpec().setAcknowledgedWarnings(List.of("recovery-default-code"));
        s.decide();

        assertThat(s.status().getPlan().getWarnings()).extracting(w -> w.getRule()).doesNotContain("recovery-default-code");
        assertThat(s.status().getPlan().getAcknowledgedWarnings()).contains("recovery-default-code");
        assertThat(s.status().getPlan().getHash()).isNotEqualTo(before);
    }

    @Test
    void aTargetNewerThanTheKnowledgeBaseIsNotRefusedThePlanSaysWhatWasNotChecked() {
        s.ku.getSpec().setVersion("v27.1.0");

        s.passPreflight();

        assertThat(s.phase()).isEqualTo(Phase.BackingUp);
        assertThat(s.status().getPlan().getTargetKnown()).isFalse();
        assertThat(s.status().getPlan().getPendingMigrations()).isNull();
        assertThat(s.status().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("v27.1.0 is not in the knowledge base",
                "v26.2.0"));
    }

    /** The decision's actions but the deletion of the inspection's credentials, made in the same pass. */
    private static java.util.List<Action> besidesInspectionCleanup(Decision d) {
        return d.actions().stream().filter(a -> !(a instanceof Action.DeleteSecret s && s.name().endsWith("-inspect-db"))).toList();
    }
}
