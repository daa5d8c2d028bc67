package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.apiserver.FakeControllers.JobBehavior;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class FailureIT extends ApiServerTestBase {

    @Test
    void failedBackupMeansNoMigrationAndAnUntouchedDeployment() {
        controllers.jobs("backup", JobBehavior.FAIL).start();
        installKratos();
        long generation = deployment().getMetadata().getGeneration();
        upgrade("bad-backup", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("bad-backup", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(ku.getStatus().getMessage()).contains("BackoffLimitExceeded").contains("nothing was migrated");
        assertThat(controllers.jobsCreated).containsExactly("bad-backup-1-backup");
        assertThat(deployment().getMetadata().getGeneration()).isEqualTo(generation);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertStalled(ku, "BackupFailed");
        awaitEvents("BackupFailed");
        assertThat(client.secrets().inNamespace(namespace).withName("bad-backup-1-backup-db").get()).isNull();
    }

    @Test
    void failedBackupUnderRecreateBringsTheOldReleaseBack() {
        controllers.jobs("backup", JobBehavior.FAIL).start();
        installKratos();
        upgrade("bad-backup-recreate", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));

        KratosUpgrade ku = awaitPhase("bad-backup-recreate", Phase.RolledBack);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(controllers.replicasWhenJobCreated).containsEntry("bad-backup-recreate-1-backup", 0);
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
    }

    @Test
    void aBackupVolumeThatCannotBeBoundFailsTheRunAfterAShortGraceNotAtTheBackupDeadline() {
        controllers.jobs("backup", JobBehavior.VOLUME_UNBOUND).start();
        installKratos();
        long generation = deployment().getMetadata().getGeneration();
        upgrade("unbound", "v1.3.1", spec -> { });

        // While the grace lasts, the run waits and says why.
        await().atMost(WAIT).until(() -> {
            KratosUpgrade k = client.resources(KratosUpgrade.class).inNamespace(namespace).withName("unbound").get();
            return k.getStatus() != null && k.getStatus().getPhase() == Phase.BackingUp
                    && String.valueOf(k.getStatus().getMessage()).contains("unbound immediate PersistentVolumeClaims");
        });
        Instant waiting = Instant.now();
        KratosUpgrade ku = awaitPhase("unbound", Phase.Failed);

        // The backup timeout is 30 minutes: the failure comes when the pod has waited a minute for its volume.
        assertThat(Duration.between(waiting, Instant.now())).isLessThan(Duration.ofSeconds(40));
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(ku.getStatus().getMessage()).contains("waited more than 60s for a volume")
                .contains("pod has unbound immediate PersistentVolumeClaims").contains("nothing was migrated");
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(
                client.batch().v1().jobs().inNamespace(namespace).withName("unbound-1-backup").get().getSpec().getSuspend()));
        assertThat(controllers.jobsCreated).containsExactly("unbound-1-backup");
        assertThat(deployment().getMetadata().getGeneration()).isEqualTo(generation);
    }

    @Test
    void failedMigrationLeavesTheDeploymentUntouched() {
        controllers.jobs("migrate", JobBehavior.FAIL).start();
        installKratos();
        long generation = deployment().getMetadata().getGeneration();
        upgrade("bad-migration", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("bad-migration", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
        assertThat(deployment().getMetadata().getGeneration()).isEqualTo(generation);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertThat(ku.getStatus().getDatabaseVersion()).isNull();
        assertStalled(ku, "MigrationFailed");
    }

    @Test
    void anImageThatCannotBePulledFailsTheMigrationAtOnce() {
        controllers.jobs("migrate", JobBehavior.IMAGE_PULL_BACKOFF).start();
        installKratos();
        upgrade("no-image", "v1.3.1", spec -> spec.setImage("registry.invalid/kratos:v1.3.1"));
        Instant created = Instant.now();

        KratosUpgrade ku = awaitPhase("no-image", Phase.Failed);

        // The migration timeout is 15 minutes; the failure must come from the pod state, not the deadline.
        assertThat(Duration.between(created, Instant.now())).isLessThan(Duration.ofMinutes(1));
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
        assertThat(ku.getStatus().getMessage()).contains("ImagePullBackOff").contains("registry.invalid/kratos:v1.3.1");
        // The stuck Job is stopped right after the status write the wait above saw.
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(
                client.batch().v1().jobs().inNamespace(namespace).withName("no-image-1-migrate").get().getSpec().getSuspend()));
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
    }

    @Test
    void aRolloutThatDoesNotCompleteInTimeIsRolledBack() {
        controllers.neverReady("oryd/kratos:v1.3.1").start();
        installKratos();
        upgrade("stuck", "v1.3.1", spec -> {
            spec.getRollout().setTimeout("4s");
            spec.getRollback().setOnFailure(RollbackPolicy.Image);
        });

        KratosUpgrade ku = awaitPhase("stuck", Phase.RolledBack);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RolloutTimeout");
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertThat(ku.getStatus().getRollback().getFinishedAt()).isNotNull();
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("RolledOut");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("RolloutTimeout");
        });
        assertStalled(ku, "RolloutTimeout");
    }

    /** Recreate, the new release never ready: the verified dump goes back into the database, then the old image. */
    @Test
    void withImageAndDatabaseARecreateThatNeverServedGetsItsDatabaseBackBeforeTheOldImage() {
        controllers.neverReady("oryd/kratos:v1.3.1").start();
        installKratos();
        upgrade("restore", "v1.3.1", spec -> {
            spec.setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.Recreate);
            spec.getRollout().setTimeout("4s");
            spec.getRollback().setOnFailure(RollbackPolicy.ImageAndDatabase);
        });

        KratosUpgrade ku = awaitPhase("restore", Phase.RolledBack);

        assertThat(controllers.jobsCreated).endsWith("restore-1-migrate", "restore-1-restore");
        assertThat(controllers.replicasWhenJobCreated).as("Kratos stopped before the restore").containsEntry("restore-1-restore", 0);
        assertThat(ku.getStatus().getDatabaseRestore().getResult()).isEqualTo("Restored");
        assertThat(ku.getStatus().getDatabaseRestore().getRestoredCounts()).isEqualTo(ku.getStatus().getBackup().getCounts());
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RolloutTimeout");
        var restore = client.batch().v1().jobs().inNamespace(namespace).withName("restore-1-restore").get()
                .getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(restore.getEnvFrom().get(0).getSecretRef().getName()).isEqualTo("restore-1-restore-db");
        assertThat(client.secrets().inNamespace(namespace).withName("restore-1-restore-db").get()).as("deleted once done").isNull();
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("DatabaseRestored");
            assertThat(c.getStatus()).isEqualTo("True");
        });
    }

    @Test
    void aRestoredCopyThatLacksRowsFailsTheRunBeforeAnyMigration() {
        controllers.verificationReport = "{\"restoreMillis\":90,\"counts\":{\"identities\":2,\"schema_migration\":282}}";
        controllers.start();
        installKratos();
        upgrade("short", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("short", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupUnverified");
        assertThat(ku.getStatus().getBackup().getVerification().getMismatches()).containsExactly("identities: 3 -> 2");
        assertThat(controllers.jobsCreated).doesNotContain("short-1-migrate");
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertStalled(ku, "BackupUnverified");
    }

    @Test
    void aMigrationThatFailsOnTheCopyFailsTheRunWithProductionUntouched() {
        controllers.jobs("rehearse", JobBehavior.FAIL).start();
        installKratos();
        upgrade("clash", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("clash", Phase.Failed);

        assertThat(ku.getStatus().getBackup().getVerification().getResult()).as("the restore itself passed").isEqualTo("Verified");
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RehearsalFailed");
        assertThat(ku.getStatus().getRehearsal().getResult()).isEqualTo("Failed");
        assertThat(controllers.jobsCreated).doesNotContain("clash-1-migrate");
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertStalled(ku, "RehearsalFailed");
    }

    @Test
    void withImageAndDatabaseARollingRunRefusesToRestoreAndRollsBackTheImageOnly() {
        controllers.neverReady("oryd/kratos:v1.3.1").start();
        installKratos();
        upgrade("refuse", "v1.3.1", spec -> {
            spec.getRollout().setTimeout("4s");
            spec.getRollback().setOnFailure(RollbackPolicy.ImageAndDatabase);
        });

        KratosUpgrade ku = awaitPhase("refuse", Phase.RolledBack);

        assertThat(ku.getStatus().getDatabaseRestore().getResult()).isEqualTo("Refused");
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("DatabaseRestoreRefused");
        assertThat(ku.getStatus().getFailureMessage()).contains("under Rolling", "allowDataLoss");
        assertThat(controllers.jobsCreated).doesNotContain("refuse-1-restore");
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("DatabaseRestored");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("DatabaseRestoreRefused");
        });
    }

    @Test
    void withRollbackNoneAStuckRolloutEndsFailedAndIsLeftAlone() {
        controllers.neverReady("oryd/kratos:v1.3.1").start();
        installKratos();
        upgrade("stuck-none", "v1.3.1", spec -> {
            spec.getRollout().setTimeout("3s");
            spec.getRollback().setOnFailure(RollbackPolicy.None);
        });

        KratosUpgrade ku = awaitPhase("stuck-none", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RolloutTimeout");
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.3.1");
    }

    @Test
    void aMissingDeploymentIsRefused() {
        controllers.start();
        upgrade("ghost", "v1.3.1", spec -> spec.setDeploymentName("nope"));

        KratosUpgrade ku = awaitPhase("ghost", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("DeploymentNotFound");
        assertThat(ku.getStatus().getMessage()).contains("nope");
        assertThat(jobs()).isEmpty();
    }

    @Test
    void aSecondUpgradeOfTheSameDeploymentIsRefused() {
        controllers.jobs("migrate", JobBehavior.HANG).start();
        installKratos();
        upgrade("first", "v1.3.1", spec -> { });
        awaitPhase("first", Phase.Migrating);

        upgrade("second", "v25.4.0", spec -> { });
        KratosUpgrade second = awaitPhase("second", Phase.Failed);

        assertThat(second.getStatus().getFailureReason()).isEqualTo("ConcurrentUpgrade");
        assertThat(second.getStatus().getMessage()).contains("first");
        assertThat(jobs()).map(j -> j.getMetadata().getName()).noneMatch(n -> n.startsWith("second"));
        assertThat(get("first").getStatus().getPhase()).isEqualTo(Phase.Migrating);
    }

    @Test
    void aDowngradeIsRefused() {
        controllers.start();
        installKratos();
        upgrade("down", "v1.0.0", spec -> { });

        KratosUpgrade ku = awaitPhase("down", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("Downgrade");
        assertThat(jobs()).isEmpty();
    }

    @Test
    void aFailedRunStaysFailedUntilARetryIsRequested() {
        controllers.jobs("migrate", JobBehavior.FAIL).start();
        installKratos();
        upgrade("retry", "v1.3.1", spec -> { });
        awaitPhase("retry", Phase.Failed);

        controllers.jobs("migrate", JobBehavior.SUCCEED);
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("retry"),
                ku -> {
                    ku.getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Optional.ofNullable(ku.getMetadata().getAnnotations()).orElse(java.util.Map.of())));
                    ku.getMetadata().getAnnotations().put(KratosUpgrade.RETRY_ANNOTATION, "1");
                    return ku;
                });

        KratosUpgrade ku = awaitUpgrade("retry", u -> u.getStatus().getRun() == 2 && u.getStatus().getPhase() == Phase.Succeeded);
        assertThat(ku.getStatus().getHistory()).extracting(r -> r.getResult()).containsExactly("Succeeded", "Failed");
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.3.1");
    }

    private static void assertStalled(KratosUpgrade ku, String reason) {
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Stalled");
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo(reason);
        });
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("False");
        });
    }
}
