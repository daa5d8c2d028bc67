package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.lifecycle.Deletion;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import org.junit.jupiter.api.Test;

/** Deleting a KratosUpgrade never leaves Kratos at zero replicas and never cuts a migration off. */
class DeletionTest {

    private final UpgradeScenario s = new UpgradeScenario();

    private Deletion delete() {
        return Deletion.decide(s.ku, s.world.observe());
    }

    @Test
    void anObjectThatNeverRanOnlyReleasesTheDeployment() {
        assertThat(delete().waits()).isFalse();
        assertThat(delete().actions()).containsExactly(new Action.ReleaseLock("kratos"));
    }

    @Test
    void duringARunningMigrationDeletionWaits() {
        s.toMigrating();
        s.decide();
        s.world.putJob(Fixtures.job(s.status().getMigration().getJobName()));

        Deletion deletion = delete();

        assertThat(deletion.waits()).isTrue();
        assertThat(deletion.waitReason()).contains("is running");
        assertThat(deletion.actions()).isEmpty();
    }

    @Test
    void duringARunningDatabaseRestoreDeletionWaitsThenGivesTheReplicasBack() {
        s.recreateRolloutTimedOut(io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy.ImageAndDatabase, false);
        s.world.setReplicas(0);
        s.decide();
        String job = s.status().getDatabaseRestore().getJobName();
        s.world.putJob(Fixtures.job(job));

        Deletion deletion = delete();
        assertThat(deletion.waits()).isTrue();
        assertThat(deletion.waitReason()).contains("database restore Job " + job + " is running");

        s.world.putJob(Fixtures.completeJob(job));
        deletion = delete();
        assertThat(deletion.waits()).isFalse();
        assertThat(deletion.actions()).contains(new Action.DeleteSecret("kratos-upgrade-1-restore-db"),
                new Action.PatchDeployment("kratos", DeploymentPatches.setReplicas(2), "replicas 2 (the run was deleted)"));
    }

    @Test
    void recreateScaledToZeroGetsItsReplicasBackWithTheOldImage() {
        s.scaledDownToBackingUp();

        Deletion deletion = delete();

        assertThat(deletion.waits()).isFalse();
        assertThat(deletion.actions()).contains(
                new Action.PatchDeployment("kratos", DeploymentPatches.setReplicas(2), "replicas 2 (the run was deleted)"),
                new Action.ReleaseLock("kratos"));
        assertThat(deletion.actions()).noneMatch(a -> a instanceof Action.PatchDeployment p && p.what().startsWith("image"));
    }

    @Test
    void recreateMidMigrationWaitsThenRestoresTheReplicas() {
        s.scaledDownToBackingUp();
        s.toMigrating();
        s.decide();
        String job = s.status().getMigration().getJobName();
        s.world.putJob(Fixtures.job(job));
        assertThat(delete().waits()).isTrue();

        s.world.putJob(Fixtures.completeJob(job));

        assertThat(delete().waits()).isFalse();
        assertThat(delete().actions()).anyMatch(a -> a instanceof Action.PatchDeployment p && p.what().startsWith("replicas 2"));
    }

    @Test
    void aRollingRunLeavesTheDeploymentAsItIs() {
        s.toVerifying();

        assertThat(delete().actions()).noneMatch(a -> a instanceof Action.PatchDeployment);
    }

    @Test
    void theCredentialsSecretGoesWithTheObject() {
        s.toBackingUp();
        s.decide();

        assertThat(delete().actions()).contains(new Action.DeleteSecret(io.kratosupgrade.operator.resources.Names
                .backupCredentialsSecret(s.ku, 1)));
    }

    @Test
    void recreateDeletedMidRolloutKeepsTheNewImageAndGetsItsReplicasBack() {
        s.scaledDownToBackingUp();
        s.toRollingOut();
        // The image was set, the replica count not yet (the operator stopped between the two patches).
        s.world.setImage(s.status().getToImage());

        Deletion deletion = delete();

        assertThat(deletion.actions()).anyMatch(a -> a instanceof Action.PatchDeployment p && p.what().startsWith("replicas 2"));
        assertThat(deletion.actions()).noneMatch(a -> a instanceof Action.PatchDeployment p && p.what().startsWith("image"));
    }
}
