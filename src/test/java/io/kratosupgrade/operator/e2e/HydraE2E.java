package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.product Hydra on a real cluster: Ory Hydra v2.1.2 (built from source) upgraded to v2.3.0 by the same engine
 * that upgrades Kratos, with the whole safety pipeline (plan, verified backup, rehearsal on a copy), while a client
 * registered before the upgrade keeps asking for tokens (client credentials grant) through the Service.
 */
class HydraE2E extends E2eTestBase {

    static final String FROM = "v2.1.2";
    static final String TO = "v2.3.0";
    /** The newest schema_migration row of each release on PostgreSQL, and the rows (docs/hydra-facts.md). */
    static final String NEWEST_V2_3_0 = "20241129111700000000";
    static final long ROWS_V2_1_2 = 200;
    static final long ROWS_V2_3_0 = 212;

    @Test
    void hydraIsUpgradedWithPlanVerifiedBackupAndRehearsalWhileAClientMadeBeforeKeepsGettingTokens() throws Exception {
        HydraInstallation hydra = new HydraInstallation(client, env, postgres, namespace);
        hydra.install(FROM);
        assertThat(postgres.count(hydra.database, "schema_migration")).isEqualTo(ROWS_V2_1_2);
        TokenLoadGenerator load = new TokenLoadGenerator(client, namespace);
        load.start(hydra.serviceIp(), env.toolsImage(), "e2e-machine", "e2e-client-secret-" + namespace, 5);

        upgrade("hydra", TO, spec -> {
            spec.setProduct(OryProduct.Hydra);
            spec.setDeploymentName(HydraInstallation.NAME);
            spec.getBackup().setPolicy(BackupPolicy.Required);
            spec.getBackup().setPersistentVolumeClaim(HydraInstallation.PVC);
            spec.getBackup().setVerify(true);
            spec.setRehearsal(true);
        });
        KratosUpgrade ku = awaitOutcome("hydra", Phase.Succeeded);
        java.time.Instant finished = java.time.Instant.parse(ku.getStatus().getFinishedAt());
        // Tokens from the new pods only: requests that started after the run ended.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(500))
                .until(() -> load.requests().stream().filter(r -> r.ok() && r.start().isAfter(finished)).count() >= 3);
        List<TokenLoadGenerator.Request> requests = load.stop();
        List<TokenLoadGenerator.Request> failed = requests.stream().filter(r -> !r.ok()).toList();
        var status = ku.getStatus();
        System.out.printf("Hydra %s -> %s: %d token requests, %d failed; backup %s (%s), rehearsal applied %d migrations; run %s .. %s%n",
                FROM, TO, requests.size(), failed.size(), status.getBackup().getVerification().getResult(),
                status.getBackup().getVerification().getRestoredCounts(), status.getRehearsal().getApplied(),
                status.getStartedAt(), status.getFinishedAt());

        // The plan named Hydra's own command for the target; the pipeline ran on Hydra's tables.
        assertThat(status.getPlan().getSteps()).anySatisfy(step -> assertThat(step).contains("hydra migrate sql up -e --yes"));
        assertThat(status.getBackup().getVerification().getResult()).isEqualTo("Verified");
        assertThat(status.getBackup().getVerification().getRestoredCounts()).containsKeys("hydra_client", "schema_migration", "networks")
                .containsEntry("schema_migration", ROWS_V2_1_2);
        assertThat(status.getRehearsal().getResult()).isEqualTo("Passed");
        assertThat(status.getRehearsal().getApplied()).isEqualTo(ROWS_V2_3_0 - ROWS_V2_1_2);
        assertThat(postgres.newestMigration(hydra.database)).isEqualTo(NEWEST_V2_3_0);
        assertThat(postgres.count(hydra.database, "schema_migration")).isEqualTo(ROWS_V2_3_0);

        // The client made before the upgrade got tokens all along, and from the new pods after it (waited for above).
        assertThat(failed).as("token requests that failed").isEmpty();
        List<Pod> pods = hydra.servingPods();
        assertThat(pods).hasSize(2).allSatisfy(p -> assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo(env.hydraImage(TO)));
        for (Pod pod : pods) {
            assertThat(kratos.get(pod, 4445, "/version").body()).contains("\"version\":\"" + TO + "\"");
        }
    }
}
