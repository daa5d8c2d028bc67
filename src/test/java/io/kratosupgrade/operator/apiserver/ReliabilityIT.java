package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.apiserver.FakeControllers.JobBehavior;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.UpgradeLock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Deletion, refused pods and Job housekeeping, against a real API server. */
class ReliabilityIT extends ApiServerTestBase {

    @Test
    void deletingARecreateRunWhileItBacksUpGivesTheReplicasBack() {
        controllers.jobs("backup", JobBehavior.HANG).start();
        installKratos();
        upgrade("delete-me", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));
        awaitUpgrade("delete-me", ku -> ku.getStatus() != null && ku.getStatus().getPhase() == Phase.BackingUp
                && jobs().stream().anyMatch(j -> j.getMetadata().getName().equals("delete-me-1-backup")));
        assertThat(deployment().getSpec().getReplicas()).isZero();

        client.resources(KratosUpgrade.class).inNamespace(namespace).withName("delete-me").delete();

        await().atMost(WAIT).until(() -> get("delete-me") == null);
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        // The Deployment is given back once the run is over (and never carried a label of the operator).
        await().atMost(WAIT).until(() -> client.leases().inNamespace(namespace).withName(UpgradeLock.leaseName("kratos")).get() == null);
        assertThat(deployment().getMetadata().getLabels()).doesNotContainKeys(Labels.LEGACY_LOCK_LABEL, Labels.LEGACY_MANAGED_LABEL);
        assertThat(client.secrets().inNamespace(namespace).withName("delete-me-1-backup-db").get()).isNull();
        awaitEvents("DeletionRestoredReplicas");
    }

    @Test
    void deletionWaitsForARunningMigrationThenLetsGo() {
        controllers.jobs("migrate", JobBehavior.HANG).start();
        installKratos();
        upgrade("busy", "v1.3.1", spec -> { });
        awaitUpgrade("busy", ku -> jobs().stream().anyMatch(j -> j.getMetadata().getName().equals("busy-1-migrate")));

        client.resources(KratosUpgrade.class).inNamespace(namespace).withName("busy").delete();

        await().atMost(WAIT).until(() -> eventReasons().contains("DeletionDeferred"));
        assertThat(get("busy")).as("still there while its migration runs").isNotNull();
        controllers.completeJob("busy-1-migrate");
        await().atMost(WAIT).until(() -> get("busy") == null);
        assertThat(deploymentImage()).as("deletion never rolls anything").isEqualTo(OLD_IMAGE);
    }

    @Test
    void aJobWhosePodIsRefusedFailsTheStepAtOnceWithTheReason() {
        controllers.jobs("backup", JobBehavior.FAILED_CREATE).start();
        installKratos();
        Instant start = Instant.now();
        upgrade("refused", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("refused", Phase.Failed);

        assertThat(Duration.between(start, Instant.now())).as("not the 30m backup deadline").isLessThan(WAIT);
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(ku.getStatus().getMessage()).contains("cannot be created", "exceeded quota");
        // The Job is suspended (the Job controller stops retrying) right after the status write the wait above saw.
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(
                client.batch().v1().jobs().inNamespace(namespace).withName("refused-1-backup").get().getSpec().getSuspend()));
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
    }

    @Test
    void onlyTheLastRunsJobsAreKept() {
        controllers.start();
        installKratos();
        upgrade("many", "v1.2.0", spec -> spec.getBackup().setPolicy(BackupPolicy.Skip));
        awaitPhase("many", Phase.Succeeded);
        for (String version : new String[] {"v1.3.0", "v1.3.1", "v25.4.0"}) {
            Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("many"),
                    ku -> { ku.getSpec().setVersion(version); return ku; });
            awaitUpgrade("many", ku -> version.equals(ku.getStatus().getToVersion()) && ku.getStatus().getPhase() == Phase.Succeeded);
        }

        // The harness keeps 3 runs' Jobs: run 1's goes, 2 to 4 stay.
        await().atMost(WAIT).untilAsserted(() -> assertThat(jobs()).map(j -> j.getMetadata().getName())
                .containsExactlyInAnyOrder("many-2-migrate", "many-3-migrate", "many-4-migrate"));
    }

    @Test
    void aRepeatedEventIsCountedNotDuplicated() {
        controllers.jobs("migrate", JobBehavior.HANG).start();
        installKratos();
        KratosUpgrade ku = upgrade("events", "v1.3.1", spec -> { });
        var recorder = new io.kratosupgrade.operator.events.EventRecorder(client,
                java.time.Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), java.time.ZoneOffset.UTC));

        for (int i = 0; i < 3; i++) {
            recorder.record(ku, true, "SomethingRepeats", "the same thing happened again");
        }

        // Written in the background, in order: the three end as one Event counted three times.
        await().atMost(WAIT).untilAsserted(() -> assertThat(events().stream().filter(e -> "SomethingRepeats".equals(e.getReason())))
                .singleElement().satisfies(e -> {
                    assertThat(e.getCount()).isEqualTo(3);
                    assertThat(e.getLastTimestamp()).isEqualTo("2026-01-02T03:04:05Z");
                    assertThat(e.getInvolvedObject().getUid()).isEqualTo(ku.getMetadata().getUid());
                }));
        assertThat(events().stream().map(Event::getReason).filter("RunAccepted"::equals)).hasSize(1);
    }

    @Test
    void closingTheRecorderWritesTheEventsStillQueued() {
        controllers.jobs("migrate", JobBehavior.HANG).start();
        installKratos();
        KratosUpgrade ku = upgrade("flush", "v1.3.1", spec -> { });
        var recorder = new io.kratosupgrade.operator.events.EventRecorder(client, java.time.Clock.systemUTC());
        for (int i = 0; i < 5; i++) {
            recorder.record(ku, false, "Queued" + i, "event " + i + " queued before shutdown");
        }

        recorder.close(); // returns once the queue is written: no wait after it
        assertThat(eventReasons()).contains("Queued0", "Queued1", "Queued2", "Queued3", "Queued4");
    }
}
