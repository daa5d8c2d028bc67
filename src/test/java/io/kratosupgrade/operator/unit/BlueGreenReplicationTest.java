package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.ReplicationSpec;
import io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.lifecycle.Deletion;
import io.kratosupgrade.operator.status.Conditions;
import org.junit.jupiter.api.Test;

/**
 * strategy BlueGreen with copy Replication through the phase machine: the replica is built while the old side serves,
 * the freeze comes only then, the cut-over detaches it, and every way back drops what replication created.
 */
class BlueGreenReplicationTest {

    private final UpgradeScenario s = new UpgradeScenario();

    @Test
    void theReplicaIsBuiltBeforeTheFreezeAndTheCutOverDetachesItAndComparesCounts() {
        s.blueGreenReplicatingToReplicating();
        assertThat(s.status().getPlan().getSteps()).anySatisfy(step -> assertThat(step).contains("subscribe the target"));
        assertThat(s.status().getPlan().getOutage()).contains("the last changes' arrival");
        assertThat(s.status().getBlueGreen().getFrozenAt()).as("the backup ran with writes on").isNull();

        s.decide();
        Job replicate = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(replicate.getMetadata().getName()).isEqualTo("kratos-upgrade-1-replicate");
        String subscription = s.status().getBlueGreen().getSubscription();
        assertThat(subscription).matches("kratos_upgrade_[0-9a-f]{1,12}_1");
        assertThat(env(replicate, "SUBSCRIPTION")).isEqualTo(subscription);
        assertThat(env(replicate, "TARGET_MUST_BE_EMPTY")).isEqualTo("true");
        Secret credentials = s.actions(Action.CreateSecret.class).get(0).secret();
        // Without spec.blueGreen.replication the old DSN publishes and the target's subscribes.
        assertThat(credentials.getStringData()).containsEntry("PUB_PGDATABASE", "kratos").containsEntry("SUB_PGDATABASE", "kratos_green")
                .containsEntry("SUB_PGUSER", "kratos2").containsEntry("TARGET_PGUSER", "kratos2");
        assertThat(credentials.getStringData().get("PUB_CONNINFO")).contains("dbname='kratos'", "host=").doesNotContain("max_conns");
        assertThat(s.status().toString() + s.status().getMessage()).doesNotContain(Fixtures.PASSWORD, "Other+s3cr3t");

        s.world.putJob(Fixtures.completeJob("kratos-upgrade-1-replicate"), Fixtures.terminatedPod("kratos-upgrade-1-replicate", "replicate", 0,
                "Completed", UpgradeScenario.REPLICATION_REPORT));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Freezing);
        BlueGreenStatus blueGreen = s.status().getBlueGreen();
        assertThat(blueGreen.getInitialSyncSeconds()).isEqualTo(1.5);
        assertThat(Conditions.get(s.status(), ConditionTypes.REPLICA_SYNCED).orElseThrow().getStatus()).isEqualTo("True");
        s.decide();
        Job freeze = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(freeze.getMetadata().getName()).isEqualTo("kratos-upgrade-1-freeze");
        assertThat(env(freeze, "TARGET_MUST_BE_EMPTY")).as("the target holds the replica").isEqualTo("false");
        s.blueGreenReplicatingToCopying();
        assertThat(blueGreen.getFrozenAt()).isNotNull();

        s.decide();
        Job catchUp = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(catchUp.getMetadata().getName()).isEqualTo("kratos-upgrade-1-catch-up");
        assertThat(env(catchUp, "SUBSCRIPTION")).isEqualTo(subscription);
        s.world.putJob(Fixtures.completeJob("kratos-upgrade-1-catch-up"), Fixtures.terminatedPod("kratos-upgrade-1-catch-up", "catch-up", 0,
                "Completed", UpgradeScenario.CATCH_UP_REPORT));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Migrating);
        assertThat(blueGreen.getCatchUpMillis()).isEqualTo(420L);
        assertThat(blueGreen.getReplicationDropped()).isTrue();
        assertThat(s.status().getBackup().getVerification()).as("the replica does not verify a dump it was not made from").isNull();
        assertThat(Conditions.get(s.status(), ConditionTypes.DATABASE_COPIED).orElseThrow().getMessage()).contains("420 ms", "match");
    }

    @Test
    void theReplicationUsersOfTheSpecConnectInsteadOfTheDefaults() {
        s.blueGreen();
        ReplicationSpec replication = new ReplicationSpec();
        replication.setPublisherDatabase(new SecretKeyReference("kratos-replication", "dsn"));
        replication.setSubscriberDatabase(new SecretKeyReference("kratos-green-admin", "dsn"));
        s.ku.getSpec().getBlueGreen().setReplication(replication);
        s.world.publisherDsn = Fixtures.dsnFound("postgres://replicator:r3pl@db.ory.svc:5432/kratos?sslmode=require&sslrootcert=/etc/ca.pem");
        s.world.subscriberDsn = Fixtures.dsnFound("postgres://postgres:adm1n@db.ory.svc:5432/kratos_green");
        s.blueGreenReplicatingToReplicating();
        s.decide();
        Secret credentials = s.actions(Action.CreateSecret.class).get(0).secret();
        assertThat(credentials.getStringData()).containsEntry("PUB_PGUSER", "replicator").containsEntry("SUB_PGUSER", "postgres")
                .containsEntry("PGUSER", "kratos");
        assertThat(credentials.getStringData().get("PUB_CONNINFO")).as("a file path would name a file on the target's server")
                .isEqualTo("host='db.ory.svc' port='5432' dbname='kratos' user='replicator' password='r3pl' sslmode='require'");
    }

    @Test
    void aReplicaThatDoesNotMatchTheFrozenOldDatabaseSwitchesBackDroppingReplicationThawingAndEmptyingTheTarget() {
        s.blueGreenReplicatingToCopying();
        s.decide();
        s.world.putJob(Fixtures.completeJob("kratos-upgrade-1-catch-up"), Fixtures.terminatedPod("kratos-upgrade-1-catch-up", "catch-up", 0,
                "Completed", UpgradeScenario.CATCH_UP_REPORT.replace("\"counts\":{\"identities\":7", "\"counts\":{\"identities\":6")));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("CopyFailed");
        assertThat(s.status().getFailureMessage()).contains("identities: 7 -> 6");

        s.decide();
        Job cleanup = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(cleanup.getMetadata().getName()).isEqualTo("kratos-upgrade-1-thaw");
        assertThat(env(cleanup, "DETACH")).as("the cut-over dropped replication before it counted").isEqualTo("false");
        assertThat(env(cleanup, "THAW")).isEqualTo("true");
        s.world.putJob(Fixtures.completeJob("kratos-upgrade-1-thaw"), Fixtures.terminatedPod("kratos-upgrade-1-thaw", "cleanup", 0,
                "Completed", "{\"thawed\":true,\"thawedAtMillis\":" + s.now.toEpochMilli() + ",\"emptied\":false,\"detached\":true}"));
        s.decide();
        assertThat(s.status().getBlueGreen().getOldWritesRestored()).isTrue();
        s.decide();
        Job empty = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(empty.getMetadata().getName()).isEqualTo("kratos-upgrade-1-empty-target");
        assertThat(env(empty, "DETACH")).isEqualTo("false");
    }

    @Test
    void replicationThatCannotStartSwitchesBackDroppingWhatItCreatedWithoutAThaw() {
        s.blueGreenReplicatingToReplicating();
        s.decide();
        s.world.putJob(Fixtures.failedJob("kratos-upgrade-1-replicate", "BackoffLimitExceeded"), Fixtures.terminatedPod(
                "kratos-upgrade-1-replicate", "replicate", 1, "Error", "REPLICATION_FAILED: the subscription's workers failed 3 times"));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("ReplicationFailed");
        s.decide();
        Job detach = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(detach.getMetadata().getName()).isEqualTo("kratos-upgrade-1-detach");
        assertThat(env(detach, "DETACH")).isEqualTo("true");
        assertThat(env(detach, "THAW")).as("nothing was frozen").isEqualTo("false");
        s.world.putJob(Fixtures.completeJob("kratos-upgrade-1-detach"), Fixtures.terminatedPod("kratos-upgrade-1-detach", "cleanup", 0,
                "Completed", "{\"thawed\":false,\"thawedAtMillis\":0,\"emptied\":false,\"detached\":true}"));
        s.decide();
        assertThat(s.status().getBlueGreen().getReplicationDropped()).isTrue();
        assertThat(s.status().getBlueGreen().getFreezeSeconds()).as("never frozen").isNull();
        s.decide();
        assertThat(s.actions(Action.CreateJob.class).get(0).job().getMetadata().getName()).isEqualTo("kratos-upgrade-1-empty-target");
    }

    @Test
    void preflightRefusalsOfTheCheckJobNameWhatReplicationNeeds() {
        UpgradeScenario refused = new UpgradeScenario().blueGreen();
        refused.ku.getSpec().getBlueGreen().setCopy(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.Replication);
        refused.toPreflight();
        refused.decideInPreflight();
        Job job = refused.actions(Action.CreateJob.class).get(0).job();
        String check = job.getMetadata().getName();
        assertThat(env(job, "REPLICATION")).isEqualTo("true");
        assertThat(refused.actions(Action.CreateSecret.class).get(0).secret().getStringData()).containsKeys("PUB_PGUSER", "SUB_PGUSER");
        refused.world.putJob(Fixtures.failedJob(check, "BackoffLimitExceeded"), Fixtures.terminatedPod(check, "check-target", 1, "Error",
                "REPLICATION_UNAVAILABLE: the old database's server runs wal_level=replica; logical replication needs wal_level=logical"));
        refused.decide();
        assertThat(refused.phase()).isEqualTo(Phase.Failed);
        assertThat(refused.status().getFailureReason()).isEqualTo("ReplicationNotPossible");
        assertThat(refused.status().getFailureMessage()).contains("wal_level=replica", "Nothing was changed");
    }

    @Test
    void aDeletedRunThatReplicatesSwitchesBackFirstSoNoSlotIsLeftBehind() {
        s.blueGreenReplicatingToReplicating();
        assertThat(Deletion.finishesRunFirst(s.ku)).isTrue();
        s.ku.getMetadata().setDeletionTimestamp("2025-03-01T10:05:00Z");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("Deleted");
    }

    @Test
    void aVerifiedBackupIsVerifiedBeforeReplicationStarts() {
        UpgradeScenario verified = new UpgradeScenario().blueGreen();
        verified.ku.getSpec().getBlueGreen().setCopy(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.Replication);
        assertThat(Phase.afterBackupStep(Phase.BackingUp, Strategy.BlueGreen, verified.ku.getSpec(), true)).isEqualTo(Phase.VerifyingBackup);
        assertThat(Phase.afterBackupStep(Phase.VerifyingBackup, Strategy.BlueGreen, verified.ku.getSpec(), true)).isEqualTo(Phase.Replicating);
        assertThat(Phase.afterBackupStep(Phase.BackingUp, Strategy.BlueGreen, new UpgradeScenario().blueGreen().ku.getSpec(), true))
                .as("copy Dump").isEqualTo(Phase.Copying);
    }

    private static String env(Job job, String name) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals(name))
                .findFirst().orElseThrow().getValue();
    }
}
