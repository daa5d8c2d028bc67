package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.ReleaseImage;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.api.v1alpha1.UpgradePath;
import java.util.List;
import org.junit.jupiter.api.Test;

/** spec.path: Stepped against a real API server: one migration, rollout and verification per release. */
class SteppedUpgradeIT extends ApiServerTestBase {

    private Job job(String name) {
        return client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
    }

    @Test
    void aSteppedRunMigratesRollsOutAndVerifiesEveryKnownReleaseInOrderWithOneBackup() {
        controllers.start();
        installKratos();
        upgrade("stepped", "v25.4.0", spec -> spec.setPath(UpgradePath.Stepped));

        KratosUpgrade ku = awaitPhase("stepped", Phase.Succeeded);

        assertThat(ku.getStatus().getHops()).extracting(HopStatus::getVersion).containsExactly("v1.2.0", "v1.3.0", "v1.3.1", "v25.4.0");
        assertThat(ku.getStatus().getHops()).allSatisfy(hop -> {
            assertThat(hop.getMigratedAt()).isNotNull();
            assertThat(hop.getVerifiedAt()).isNotNull();
        });
        assertThat(controllers.jobsCreated).containsExactly("stepped-1-backup", "stepped-1-rehearse", "stepped-1-migrate", "stepped-1-migrate-2",
                "stepped-1-migrate-3", "stepped-1-migrate-4");
        assertThat(controllers.deploymentImages).containsExactly("oryd/kratos:v1.1.0", "oryd/kratos:v1.2.0", "oryd/kratos:v1.3.0",
                "oryd/kratos:v1.3.1", "oryd/kratos:v25.4.0");
        // Each hop migrates with its own release and that release's command line.
        assertThat(job("stepped-1-migrate-2").getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .isEqualTo("oryd/kratos:v1.3.0");
        assertThat(job("stepped-1-migrate-4").getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .startsWith("migrate", "sql", "up");
        assertThat(ku.getStatus().getDatabaseVersion()).isEqualTo("v25.4.0");
        assertThat(ku.getStatus().getPlan().getSteps()).anySatisfy(s -> assertThat(s).startsWith("hop 2 of 4 (v1.3.0): migrate"));
        assertThat(ku.getStatus().getPlan().getOutage()).startsWith("none:").contains("release by release");
        awaitEvents("HopVerified");
    }

    @Test
    void releaseImagesChooseTheHopsAndAFailedLaterHopGoesBackOnlyToThePreviousHop() {
        String mirror = "registry.example:5000/mirror/kratos";
        controllers.neverReady(mirror + ":v25.4.0").start();
        installKratos();
        upgrade("mirrored", "v25.4.0", spec -> {
            spec.setPath(UpgradePath.Stepped);
            spec.setReleaseImages(List.of(new ReleaseImage("v1.3.1", mirror + ":v1.3.1"), new ReleaseImage("v25.4.0", mirror + ":v25.4.0")));
            spec.getRollout().setTimeout("5s");
        });

        KratosUpgrade ku = awaitPhase("mirrored", Phase.RolledBack);

        assertThat(ku.getStatus().getHops()).extracting(HopStatus::getImage).containsExactly(mirror + ":v1.3.1", mirror + ":v25.4.0");
        assertThat(ku.getStatus().getHops().get(0).getVerifiedAt()).isNotNull();
        assertThat(ku.getStatus().getHops().get(1).getVerifiedAt()).isNull();
        assertThat(deploymentImage()).as("back to the last verified hop, not to v1.1.0").isEqualTo(mirror + ":v1.3.1");
        assertThat(ku.getStatus().getMessage()).contains("serves " + mirror + ":v1.3.1 again");
        // v1.1.0 -> v1.3.1 skips v1.2.0 and v1.3.0: the plan says the outage is not guaranteed and why.
        assertThat(ku.getStatus().getPlan().getOutage()).contains("v1.1.0 -> v1.3.1 crosses 3 releases");
        assertThat(ku.getStatus().getPlan().getRollback()).contains("previous hop's release, never further");
    }

    @Test
    void aFailedMigrationInALaterRollingHopLeavesThePreviousVerifiedRelease() {
        controllers.jobs("later-1-migrate-2", FakeControllers.JobBehavior.FAIL).start();
        installKratos();
        upgrade("later", "v1.3.1", spec -> {
            spec.setPath(UpgradePath.Stepped);
            spec.setReleaseImages(List.of(new ReleaseImage("v1.2.0", "oryd/kratos:v1.2.0")));
        });

        KratosUpgrade ku = awaitPhase("later", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
        assertThat(ku.getStatus().getMessage()).contains("hop 2 of 2", "still runs oryd/kratos:v1.2.0");
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.2.0");
        assertThat(ku.getStatus().getDatabaseVersion()).isEqualTo("v1.2.0");
    }

    @Test
    void recreateStopsKratosBeforeEachHopsMigration() {
        controllers.start();
        installKratos();
        upgrade("recreate", "v1.3.1", spec -> {
            spec.setPath(UpgradePath.Stepped);
            spec.setStrategy(Strategy.Recreate);
        });

        awaitPhase("recreate", Phase.Succeeded);

        assertThat(controllers.jobsCreated).containsExactly("recreate-1-backup", "recreate-1-rehearse", "recreate-1-migrate", "recreate-1-migrate-2",
                "recreate-1-migrate-3");
        assertThat(controllers.replicasWhenJobCreated).containsEntry("recreate-1-migrate", 0).containsEntry("recreate-1-migrate-2", 0)
                .containsEntry("recreate-1-migrate-3", 0);
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        // Later hops scale down and migrate, but never back up, verify or rehearse again (the Jobs' names would be
        // the same, so only the transitions tell): one event of each, counted once.
        awaitEvents("BackupComplete", "RehearsalPassed", "ScaledDown");
        assertThat(events()).filteredOn(e -> e.getReason().equals("BackupComplete") || e.getReason().equals("BackupVerified")
                        || e.getReason().equals("RehearsalPassed"))
                .hasSize(3).allSatisfy(e -> assertThat(e.getCount()).as(e.getReason()).isEqualTo(1));
        assertThat(events()).filteredOn(e -> e.getReason().equals("ScaledDown")).singleElement()
                .satisfies(e -> assertThat(e.getCount()).as("one scale-down per hop").isEqualTo(3));
    }
}
