package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What goes wrong in real life, with real components: the old release keeps serving every time. */
class FailureE2E extends E2eTestBase {

    @Test
    void aTargetImageThatDoesNotExistFailsFastAndTheOldReleaseKeepsServing() throws Exception {
        kratos.install("v1.0.0");
        Instant start = Instant.now();

        upgrade("missing-image", "v1.3.1", spec -> spec.setImage(env.kratosRepository() + ":v1.3.1-does-not-exist"));
        KratosUpgrade ku = awaitOutcome("missing-image", Phase.Failed);

        System.out.printf("missing image detected after %ds (migration timeout %s)%n",
                Duration.between(start, Instant.now()).toSeconds(), ku.getSpec().getMigration().getTimeout());
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofMinutes(3));
        // The rehearsal is the first to run the target image: it fails there, before production is touched.
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RehearsalFailed");
        assertThat(ku.getStatus().getMessage()).contains("migrate-1").containsAnyOf("ErrImagePull", "ImagePullBackOff");
        assertThat(client.batch().v1().jobs().inNamespace(namespace).withName("missing-image-1-migrate").get()).isNull();
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
    }

    @Test
    void aJobWhosePodAQuotaRefusesFailsAtOnceWithTheQuotaMessage() throws Exception {
        kratos.install("v1.0.0");
        // The namespace may run two pods: both are Kratos, so the first Job's pod (the backup Job, which in a Rolling
        // run with no approval also inspects the database) is refused by admission.
        client.resourceQuotas().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.ResourceQuotaBuilder()
                .withNewMetadata().withName("pods").endMetadata()
                .withNewSpec().addToHard("pods", new io.fabric8.kubernetes.api.model.Quantity("2")).endSpec().build()).create();
        Instant start = Instant.now();

        upgrade("quota", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("quota", Phase.Failed);

        System.out.printf("pod refused by a quota detected after %ds (backup timeout %s)%n",
                Duration.between(start, Instant.now()).toSeconds(), ku.getSpec().getBackup().getTimeout());
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofMinutes(2));
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(ku.getStatus().getMessage()).contains("cannot be created", "exceeded quota", "nothing was migrated");
        assertThat(ku.getStatus().getMigration()).as("nothing was migrated").isNull();
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
    }

    @Test
    void aWrongDatabasePasswordFailsPreflightAndNothingIsTouched() throws Exception {
        kratos.install("v1.0.0");
        // The running pods keep the DSN they started with; the Secret now holds a wrong password.
        client.secrets().inNamespace(namespace).withName("kratos-db")
                .edit(s -> { s.setData(null); s.setStringData(Map.of("dsn", kratos.dsn("not-the-password"))); return s; });

        upgrade("wrong-password", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("wrong-password", Phase.Failed);

        // A Rolling run without approval: its backup Job inspects the database before it dumps: the run fails before anything is touched.
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("DatabaseInspectionFailed");
        assertThat(ku.getStatus().getMessage()).contains("password authentication failed", "nothing was changed");
        assertThat(client.batch().v1().jobs().inNamespace(namespace).withName("wrong-password-1-migrate").get()).isNull();
        assertThat(kratos.jobLogs("wrong-password-1-backup")).contains("password authentication failed");
        assertThat(runTool("no-dump", "ls /backup", java.util.Map.of())).as("nothing was dumped").doesNotContain(".pgdump");
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
    }

    @Test
    void aReleaseThatNeverBecomesReadyUnderRollingGetsTheOldImageBackButNotTheDatabase() throws Exception {
        kratos.install("v1.0.0");
        // A settings Secret rotated to a broken value: the running pods keep what they started with, every
        // new pod refuses its configuration ("serve.admin.port must be >= 1"). `migrate` does not validate
        // the configuration, so the migration succeeds and only the rollout of the new release fails.
        client.secrets().inNamespace(namespace).withName(KratosInstallation.SETTINGS_SECRET)
                .edit(s -> { s.setData(null); s.setStringData(Map.of("serve-admin-port", "not-a-port")); return s; });

        upgrade("never-ready", "v1.3.1", spec -> {
            spec.getRollout().setTimeout("60s");
            spec.getRollback().setOnFailure(RollbackPolicy.ImageAndDatabase);
        });
        KratosUpgrade ku = awaitOutcome("never-ready", Phase.RolledBack);

        // Under Rolling the old release kept serving (and could write) on the migrated schema after the dump:
        // restoring it would lose those writes, so the operator refuses and rolls back the image only. The plan
        // said so before the run started.
        assertThat(ku.getStatus().getPlan().getRollback()).contains("Not lossless here", "refuse to restore");
        assertThat(ku.getStatus().getDatabaseRestore().getResult()).isEqualTo("Refused");
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("DatabaseRestoreRefused");
        assertThat(ku.getStatus().getFailureMessage()).contains("would lose writes", "under Rolling", "allowDataLoss",
                "did not complete within 60s");
        assertThat(client.batch().v1().jobs().inNamespace(namespace).withName("never-ready-1-restore").get()).isNull();
        assertThat(ku.getStatus().getMessage()).contains("rolled back");
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
        // The database stays migrated: v1.0.0 serves on the v1.3.1 schema, as it did during the rollout.
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
    }
}
