package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.CopyRehearsalStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.Decision;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * BlueGreen copy Dump: preflight rehearses the copy (the live old database dumped, restored into the target in a
 * transaction that is rolled back) and the plan says how long the dump and the restore took, before anyone approves a
 * freeze that covers both.
 */
class BlueGreenCopyRehearsalTest {

    private final UpgradeScenario s = new UpgradeScenario().blueGreen();

    @Test
    void afterTheTargetCheckPreflightDumpsAndRestoresInATransactionItRollsBackRecordingTheJobBeforeCreatingIt() {
        s.blueGreenToCopyRehearsal();

        CopyRehearsalStatus rehearsal = s.status().getBlueGreen().getCopyRehearsal();
        // Write-ahead: the decision that creates the Job carries its name in status, written before the Job is created.
        assertThat(rehearsal.getJobName()).isEqualTo("kratos-upgrade-1-rehearse-copy");
        assertThat(rehearsal.getStartedAt()).isNotNull();
        assertThat(rehearsal.getFinishedAt()).isNull();
        assertThat(s.status().getPlan()).as("no plan before the measurement").isNull();
        Job job = s.actions(Action.CreateJob.class).get(0).job();
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().get(0);
        String script = container.getCommand().get(2);
        assertThat(script).contains("pg_dump --format=custom", "pg_restore", "'rollback;'").doesNotContain("commit", "revoke");
        assertThat(pod.getVolumes()).as("the dump lives in the pod's scratch volume, not on the backup volume")
                .noneMatch(v -> v.getPersistentVolumeClaim() != null);
        assertThat(s.actions(Action.CreateSecret.class).get(0).secret().getStringData())
                .containsEntry("PGDATABASE", "kratos").containsEntry("TARGET_PGDATABASE", "kratos_green");
        assertThat(s.last.actions().indexOf(s.actions(Action.CreateSecret.class).get(0)))
                .as("the credentials first, then the Job").isLessThan(s.last.actions().indexOf(s.actions(Action.CreateJob.class).get(0)));

        assertThat(job.getSpec().getActiveDeadlineSeconds()).as("backup.timeout (30m) for the dump and again for the restore")
                .isEqualTo(3600L);

        s.world.putJob(Fixtures.job(rehearsal.getJobName()));
        s.decide();
        assertThat(s.actions(Action.CreateJob.class)).as("the Job exists: found by its name, not created again").isEmpty();
        assertThat(s.status().getMessage()).contains("rehearsing the copy");

        s.completeCopyRehearsal(UpgradeScenario.COPY_REHEARSAL_REPORT);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Freezing);
        assertThat(s.actions(Action.DeleteSecret.class)).extracting(Action.DeleteSecret::name)
                .contains("kratos-upgrade-1-rehearse-copy-db");
        assertThat(rehearsal.getDumpSeconds()).isEqualTo(3.2);
        assertThat(rehearsal.getRestoreSeconds()).isEqualTo(5.1);
        assertThat(rehearsal.getDumpBytes()).isEqualTo(12_400_000L);
        assertThat(rehearsal.getRestoredCounts()).containsEntry("identities", 5L).containsEntry("schema_migration", 282L);
        assertThat(rehearsal.getFinishedAt()).isNotNull();
        assertThat(s.status().getPlan().getOutage()).contains("Job kratos-upgrade-1-rehearse-copy, " + rehearsal.getFinishedAt(),
                "the dump took 3.2 s (12.4 MB) and the restore 5.1 s", "about 8.3 s plus the migration");
    }

    @Test
    void theMeasurementIsTakenOncePerRunSoThePlanAndItsHashStayPutAcrossReconciles() {
        s.ku.getSpec().getApproval().setRequired(true);
        s.blueGreenToCopyRehearsal();
        s.completeCopyRehearsal(UpgradeScenario.COPY_REHEARSAL_REPORT);
        // The Deployment's lock is lost meanwhile: preflight passes again and again, writing the plan each time.
        s.world.lock = null;
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Preflight);
        String hash = s.status().getPlan().getHash();
        String outage = s.status().getPlan().getOutage();
        // A later measurement would say something else; the Job is not run again, so nothing says it.
        s.completeCopyRehearsal("{\"dumpMillis\":9900,\"restoreMillis\":9900,\"bytes\":1,\"counts\":{}}");
        for (int i = 0; i < 3; i++) {
            s.decide();
            assertThat(s.actions(Action.CreateJob.class)).isEmpty();
            assertThat(s.status().getPlan().getHash()).isEqualTo(hash);
        }
        s.world.lock = Fixtures.lockedBy(s.ku.getMetadata().getName());
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.AwaitingApproval);
        assertThat(s.status().getPlan().getHash()).isEqualTo(hash);
        assertThat(s.status().getPlan().getOutage()).isEqualTo(outage).contains("3.2 s");

        approve(hash);
        s.decide();
        assertThat(s.phase()).as("the approved plan is the one that runs").isEqualTo(Phase.Freezing);
    }

    @Test
    void aDryRunMeasuresTooSinceMeasuringChangesNothing() {
        s.ku.getSpec().setDryRun(true);
        s.toPreflight();
        s.decideInPreflight();
        String check = s.status().getBlueGreen().getTargetCheck().getJobName();
        s.world.putJob(Fixtures.completeJob(check), Fixtures.terminatedPod(check, "check-target", 0, "Completed", "{\"targetMajor\":15}"));
        s.decide();
        assertThat(s.actions(Action.CreateJob.class)).extracting(a -> a.job().getMetadata().getName())
                .containsExactly("kratos-upgrade-1-rehearse-copy");
        assertThat(s.actions(Action.AcquireLock.class)).as("a dry run takes no lock").isEmpty();
        s.completeCopyRehearsal(UpgradeScenario.COPY_REHEARSAL_REPORT);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Planned);
        assertThat(s.status().getPlan().getOutage()).contains("the dump took 3.2 s");
    }

    @Test
    void aFailedRehearsalEndsTheRunInPreflightWithItsReasonAndNoSecretInStatus() {
        s.blueGreenToCopyRehearsal();
        String job = s.status().getBlueGreen().getCopyRehearsal().getJobName();
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "rehearse-copy", 1, "Error",
                "psql:<stdin>:412: ERROR:  permission denied for schema public (postgres://kratos2:" + Fixtures.PASSWORD + "@db/kratos_green)\n"
                        + "the rehearsed restore failed; its transaction was rolled back and the target is as it was"));
        Decision failed = s.decide();

        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("CopyRehearsalFailed");
        assertThat(s.status().getFailureMessage()).contains("permission denied for schema public", "Nothing was changed", job);
        assertThat(s.status().getBlueGreen().getFreeze()).as("nothing frozen").isNull();
        assertThat(failed.actions()).as("nothing touched").allSatisfy(a ->
                assertThat(a).isInstanceOfAny(Action.ReleaseLock.class, Action.DeleteSecret.class));
        assertThat(s.status().toString() + s.status().getFailureMessage() + s.status().getMessage() + failed.events())
                .doesNotContain(Fixtures.PASSWORD);
    }

    @Test
    void aJobSeenCompleteBeforeItsPodsReportIsWaitedFor() {
        s.blueGreenToCopyRehearsal();
        String job = s.status().getBlueGreen().getCopyRehearsal().getJobName();
        // The Job informer is ahead of the pod informer: the pod still looks running.
        s.world.putJob(Fixtures.completeJob(job), Fixtures.kratosPod(job + "-q9w8e", "db-tools", true));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Preflight);
        assertThat(s.status().getMessage()).contains("waiting for its pod's final status");
        assertThat(s.status().getBlueGreen().getCopyRehearsal().getFinishedAt()).isNull();

        s.completeCopyRehearsal(UpgradeScenario.COPY_REHEARSAL_REPORT);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Freezing);
        assertThat(s.status().getBlueGreen().getCopyRehearsal().getDumpSeconds()).isEqualTo(3.2);
    }

    @Test
    void aTargetFilledSinceItsCheckIsNamedAsSuch() {
        s.blueGreenToCopyRehearsal();
        String job = s.status().getBlueGreen().getCopyRehearsal().getJobName();
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "rehearse-copy", 1, "Error",
                "TARGET_NOT_EMPTY: the target database's schema holds 4 tables, views or sequences; blue/green needs an empty one"));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("TargetDatabaseNotEmpty");
    }

    @Test
    void aRehearsalThatMeasuredNothingFailsRatherThanWriteAPlanWithoutTheFreeze() {
        s.blueGreenToCopyRehearsal();
        s.completeCopyRehearsal("{\"dumpMillis\":3200}");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("CopyRehearsalFailed");
        assertThat(s.status().getFailureMessage()).contains("reported no measurement");
    }

    @Test
    void aRehearsalStillRunningAtItsDeadlineIsStoppedAndTheRunFails() {
        s.ku.getSpec().getBackup().setTimeout("10m");
        s.blueGreenToCopyRehearsal();
        String job = s.status().getBlueGreen().getCopyRehearsal().getJobName();
        s.world.putJob(Fixtures.job(job), Fixtures.kratosPod(job + "-p", "db-tools", true));
        s.advance(Duration.ofMinutes(15));
        s.decide();
        assertThat(s.phase()).as("the dump and the restore each get backup.timeout").isEqualTo(Phase.Preflight);
        s.advance(Duration.ofMinutes(10));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("CopyRehearsalFailed");
        assertThat(s.actions(Action.SuspendJob.class)).singleElement().satisfies(a -> assertThat(a.name()).isEqualTo(job));
    }

    @Test
    void copyReplicationCopiesBeforeTheFreezeAndRehearsesNothing() {
        UpgradeScenario replicated = new UpgradeScenario().blueGreenReplicatingToReplicating();
        assertThat(replicated.status().getBlueGreen().getCopyRehearsal()).isNull();
        assertThat(replicated.status().getPlan().getOutage()).doesNotContain("rehearsal");
    }

    private void approve(String hash) {
        Map<String, String> annotations = new HashMap<>();
        if (s.ku.getMetadata().getAnnotations() != null) annotations.putAll(s.ku.getMetadata().getAnnotations());
        annotations.put(KratosUpgrade.APPROVE_ANNOTATION, hash);
        s.ku.getMetadata().setAnnotations(annotations);
    }
}
