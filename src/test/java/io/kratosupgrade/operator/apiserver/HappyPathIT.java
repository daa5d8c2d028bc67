package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.UpgradeLock;
import java.util.List;
import org.junit.jupiter.api.Test;

class HappyPathIT extends ApiServerTestBase {

    @Test
    void rollingUpgradeBacksUpThenMigratesThenRollsOut() {
        controllers.start();
        installKratos();
        upgrade("to-131", "v1.3.1", spec -> { });

        KratosUpgrade ku = awaitPhase("to-131", Phase.Succeeded);

        assertThat(ku.getStatus().getFromVersion()).isEqualTo("v1.1.0");
        assertThat(ku.getStatus().getToVersion()).isEqualTo("v1.3.1");
        assertThat(ku.getStatus().getToImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(ku.getStatus().getObservedGeneration()).isEqualTo(ku.getMetadata().getGeneration());
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);

        // Backup, the rehearsal on a copy (whose restore is the backup's verification), then the migration: the order
        // the fake Job controller saw them created in.
        assertThat(controllers.jobsCreated).containsExactly("to-131-1-backup", "to-131-1-rehearse", "to-131-1-migrate");
        assertThat(ku.getStatus().getBackup().getVerification().getResult()).isEqualTo("Verified");
        assertThat(ku.getStatus().getRehearsal().getApplied()).isEqualTo(33L);
        Job rehearse = client.batch().v1().jobs().inNamespace(namespace).withName("to-131-1-rehearse").get();
        assertThat(rehearse.getSpec().getTemplate().getSpec().getInitContainers()).extracting(c -> c.getName())
                .containsExactly("restore", "database", "migrate-1");
        Job backup = client.batch().v1().jobs().inNamespace(namespace).withName("to-131-1-backup").get();
        assertThat(backup.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo(ApiServerTestBase.TOOLS_IMAGE);
        assertThat(String.join(" ", backup.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand())).contains("pg_dump --format=custom");
        assertThat(ku.getStatus().getBackup().getFile()).startsWith("to-131-run1-v1.1.0-").endsWith(".pgdump");
        assertThat(ku.getStatus().getBackup().getBytes()).isEqualTo(4096L);
        // The short-lived credentials Secret is gone once the backup finished.
        assertThat(client.secrets().inNamespace(namespace).withName("to-131-1-backup-db").get()).isNull();

        Job migrate = client.batch().v1().jobs().inNamespace(namespace).withName("to-131-1-migrate").get();
        var container = migrate.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(container.getArgs()).containsExactly("migrate", "sql", "-e", "--yes", "--config", "/etc/config/kratos.yaml");
        assertThat(container.getEnv().get(0).getValueFrom().getSecretKeyRef().getName()).isEqualTo("kratos-db");
        assertThat(migrate.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("kratos");
        assertThat(migrate.getMetadata().getOwnerReferences().get(0).getUid()).isEqualTo(ku.getMetadata().getUid());

        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getObservedGeneration()).isEqualTo(ku.getMetadata().getGeneration());
        });
        for (String step : List.of("PreflightPassed", "BackedUp", "BackupVerified", "Rehearsed", "Migrated", "RolledOut", "Verified")) {
            assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo(step);
                assertThat(c.getStatus()).isEqualTo("True");
            });
        }
        assertThat(ku.getStatus().getHistory()).singleElement().satisfies(r -> {
            assertThat(r.getResult()).isEqualTo("Succeeded");
            assertThat(r.getBackupFile()).isEqualTo(ku.getStatus().getBackup().getFile());
        });
        awaitEvents("RunAccepted", "PreflightPassed", "BackupComplete", "MigrationComplete",
                "RolloutComplete", "Verified");
        // The Deployment is given back once the run is over (and never carried a label of the operator).
        await().atMost(WAIT).until(() -> client.leases().inNamespace(namespace).withName(UpgradeLock.leaseName("kratos")).get() == null);
        assertThat(deployment().getMetadata().getLabels()).doesNotContainKeys(Labels.LEGACY_LOCK_LABEL, Labels.LEGACY_MANAGED_LABEL);
    }

    @Test
    void verificationIsWokenByTheDeploymentsStatusNotByPolling() {
        controllers.oneUnreadyAfterRollout("oryd/kratos:v1.3.1").start();
        installKratos();
        upgrade("late-ready", "v1.3.1", spec -> { });

        await().atMost(WAIT).until(() -> {
            KratosUpgrade ku = client.resources(KratosUpgrade.class).inNamespace(namespace).withName("late-ready").get();
            return ku.getStatus() != null && ku.getStatus().getPhase() == Phase.Verifying
                    && String.valueOf(ku.getStatus().getMessage()).contains("1 of 2 pods are ready");
        });
        java.time.Instant ready = java.time.Instant.now();
        controllers.podsBecomeReady();
        awaitPhase("late-ready", Phase.Succeeded);

        // The safety re-check is a minute away: the Deployment's status write is what woke the run.
        assertThat(java.time.Duration.between(ready, java.time.Instant.now())).isLessThan(java.time.Duration.ofSeconds(20));
    }

    @Test
    void theDsnNeverAppearsInStatusOrEvents() {
        controllers.start();
        installKratos();
        upgrade("no-leak", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitPhase("no-leak", Phase.Succeeded);

        awaitEvents("Verified"); // written in order in the background: every Event before it is written too
        String status = Serialization.asJson(ku.getStatus());
        String events = String.join("\n", events().stream().map(Event::getMessage).toList());
        for (String secret : List.of(DB_PASSWORD, "s3cr%23t%2Fp%40ss", DSN, "db.example.internal")) {
            assertThat(status).doesNotContain(secret);
            assertThat(events).doesNotContain(secret);
        }
    }

    @Test
    void crossingToV25UsesTheNewMigrateCli() {
        controllers.start();
        installKratos();
        upgrade("to-25", "v25.4.0", spec -> spec.getBackup().setPolicy(io.kratosupgrade.operator.api.v1alpha1.BackupPolicy.Skip));
        KratosUpgrade ku = awaitPhase("to-25", Phase.Succeeded);

        Job migrate = client.batch().v1().jobs().inNamespace(namespace).withName("to-25-1-migrate").get();
        assertThat(migrate.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .startsWith("migrate", "sql", "up", "-e", "--yes");
        assertThat(controllers.jobsCreated).containsExactly("to-25-1-migrate");
        assertThat(ku.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("BackedUp");
            assertThat(c.getReason()).isEqualTo("BackupSkipped");
        });
    }

    @Test
    void recreateScalesToZeroBeforeBackingUpAndRestoresTheReplicaCount() {
        controllers.start();
        installKratos();
        upgrade("recreate", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));

        KratosUpgrade ku = awaitPhase("recreate", Phase.Succeeded);

        assertThat(controllers.jobsCreated).containsExactly("recreate-1-backup", "recreate-1-rehearse",
                "recreate-1-migrate");
        assertThat(controllers.replicasWhenJobCreated).containsEntry("recreate-1-backup", 0).containsEntry("recreate-1-migrate", 0);
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(ku.getStatus().getRollout().getOriginalReplicas()).isEqualTo(2);
        assertThat(client.pods().inNamespace(namespace).withLabel("app", "kratos").list().getItems())
                .hasSize(2)
                .allSatisfy(p -> assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo("oryd/kratos:v1.3.1"));
    }

    @Test
    void aSucceededRunIsNotRepeatedAndANewVersionStartsANewRun() {
        controllers.start();
        installKratos();
        upgrade("declarative", "v1.3.1", spec -> { });
        awaitPhase("declarative", Phase.Succeeded);

        // Changing only a timeout: same target, nothing is repeated.
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("declarative"),
                ku -> { ku.getSpec().getMigration().setTimeout("20m"); return ku; });
        KratosUpgrade adopted = awaitUpgrade("declarative",
                ku -> ku.getStatus().getObservedGeneration() == 2L && ku.getStatus().getPhase() == Phase.Succeeded);
        assertThat(adopted.getStatus().getRun()).isEqualTo(1);
        assertThat(controllers.jobsCreated).hasSize(3);

        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("declarative"),
                ku -> { ku.getSpec().setVersion("v25.4.0"); return ku; });
        KratosUpgrade second = awaitUpgrade("declarative", ku -> ku.getStatus().getRun() == 2 && ku.getStatus().getPhase() == Phase.Succeeded);
        assertThat(second.getStatus().getFromVersion()).isEqualTo("v1.3.1");
        assertThat(deploymentImage()).isEqualTo("oryd/kratos:v25.4.0");
        assertThat(second.getStatus().getHistory()).extracting(r -> r.getRun() + ":" + r.getResult())
                .containsExactly("2:Succeeded", "1:Succeeded");
        assertThat(jobs()).map(j -> j.getMetadata().getName())
                .containsExactlyInAnyOrder("declarative-1-backup", "declarative-1-rehearse", "declarative-1-migrate",
                        "declarative-2-backup", "declarative-2-rehearse", "declarative-2-migrate");
    }
}
