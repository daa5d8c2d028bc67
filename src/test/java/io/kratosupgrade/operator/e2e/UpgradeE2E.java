package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Real upgrades between real Kratos releases, on a real cluster, with real PostgreSQL and pg_dump. */
class UpgradeE2E extends E2eTestBase {

    /** Newest migration of each release (persistence/sql/migrations/sql). */
    static final Map<String, String> NEWEST_MIGRATION = Map.of(
            "v1.0.0", "20230705000000000001",
            "v1.3.1", "20240425095000000001");

    @Test
    void rollingUpgradeUnderLoadLosesNoRequestAndNoData() throws Exception {
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(5);
        String serviceIp = client.services().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getClusterIP();
        LoadGenerator load = new LoadGenerator(client, namespace);
        load.start(serviceIp, env.busyboxImage());

        upgrade("to-v131", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("to-v131", Phase.Succeeded);
        LoadGenerator.Result result = load.stop();
        System.out.printf("load generator during the rolling upgrade v1.0.0 -> v1.3.1: %d requests ok, %d failed%n",
                result.ok(), result.failed());

        assertThat(result.ok()).as("requests answered while upgrading").isGreaterThan(20);
        assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(NEWEST_MIGRATION.get("v1.3.1"));
        assertEveryPodAnswers("v1.3.1");
        assertIdentitiesIntact(emails);

        // The dump exists, matches its checksum, and restores into an empty database with the data as it was
        // before the migration.
        String file = ku.getStatus().getBackup().getFile();
        String restoreDb = kratos.database + "_restore";
        postgres.createDatabase(restoreDb, restoreDb, "restore-pw");
        String log = runTool("verify-backup", String.join(" && ",
                        "cd /backup", "sha256sum -c " + file + ".sha256", "pg_restore --list " + file + " > /dev/null",
                        "pg_restore --no-owner --exit-on-error --dbname=" + restoreDb + " " + file, "echo restored"),
                Map.of("PGHOST", env.pgHostForPods(), "PGPORT", Integer.toString(env.pgPort()), "PGUSER", restoreDb,
                        "PGPASSWORD", "restore-pw"));
        assertThat(log).contains(file + ": OK").contains("restored");
        assertThat(postgres.identities(restoreDb)).isEqualTo(5);
        assertThat(postgres.newestMigration(restoreDb)).as("dumped before the migration").isEqualTo(NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(ku.getStatus().getBackup().getBytes()).isPositive();
        assertThat(ku.getStatus().getBackup().getSha256()).hasSize(64);
    }

    @Test
    void recreateUpgradeStopsKratosBacksUpMigratesAndRestoresTheReplicas() throws Exception {
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(3);

        upgrade("recreate", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));
        KratosUpgrade ku = awaitOutcome("recreate", Phase.Succeeded);

        Job migrate = client.batch().v1().jobs().inNamespace(namespace).withName("recreate-1-migrate").get();
        assertThat(migrate.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .startsWith("migrate", "sql", "-e", "--yes");
        assertThat(ku.getStatus().getRollout().getScaledDownAt()).isNotNull();
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(NEWEST_MIGRATION.get("v1.3.1"));
        assertThat(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getReplicas())
                .isEqualTo(2);
        assertThat(ku.getStatus().getRollout().getOriginalReplicas()).isEqualTo(2);
        assertEveryPodAnswers("v1.3.1");
        assertIdentitiesIntact(emails);
    }

    void assertIdentitiesIntact(List<String> emails) throws Exception {
        var response = kratos.get(kratos.servingPods().get(0), 4434, "/admin/identities?per_page=100");
        assertThat(response.statusCode()).isEqualTo(200);
        emails.forEach(email -> assertThat(response.body()).contains(email));
        assertThat(postgres.identities(kratos.database)).isEqualTo(emails.size());
    }
}
