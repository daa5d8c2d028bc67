package io.kratosupgrade.operator.apiserver;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The application as Quarkus assembles it (CDI wiring, configuration, Micrometer, health), running an
 * upgrade against the real API server, with its metrics scraped from /q/metrics.
 */
@QuarkusTest
@QuarkusTestResource(ApiServerResource.class)
class QuarkusApplicationIT {

    @Test
    void theQuarkusOperatorUpgradesAndExposesMetricsAndHealth() {
        KubernetesClient client = TestApiServer.client();
        String ns = ApiServerResource.NAMESPACE;
        if (client.namespaces().withName(ns).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
        }
        try (FakeControllers controllers = new FakeControllers(client, ns).start()) {
            client.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
                    .withNewMetadata().withName("kratos-db").endMetadata()
                    .withStringData(java.util.Map.of("dsn", ApiServerTestBase.DSN)).build()).create();
            client.persistentVolumeClaims().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder()
                    .withNewMetadata().withName("kratos-backups").endMetadata()
                    .withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                    .withRequests(java.util.Map.of("storage", new io.fabric8.kubernetes.api.model.Quantity("1Gi"))).endResources()
                    .endSpec().build()).create();
            client.apps().deployments().inNamespace(ns).resource(ApiServerTestBase.kratosDeployment()).create();

            KratosUpgrade ku = new KratosUpgrade();
            ku.getMetadata().setName("via-quarkus");
            ku.getMetadata().setNamespace(ns);
            ku.setSpec(new io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec());
            ku.getSpec().setDeploymentName("kratos");
            ku.getSpec().setVersion("v1.3.1");
            ku.getSpec().getBackup().setPersistentVolumeClaim("kratos-backups");
            client.resource(ku).create();

            await().atMost(Duration.ofSeconds(60)).until(() -> {
                KratosUpgrade current = client.resources(KratosUpgrade.class).inNamespace(ns).withName("via-quarkus").get();
                return current.getStatus() != null && current.getStatus().getPhase() == Phase.Succeeded;
            });
            Job backup = client.batch().v1().jobs().inNamespace(ns).withName("via-quarkus-1-backup").get();
            assertThat(backup.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                    .as("the backup image comes from kratos-upgrade.backup.image").isEqualTo("test/db-tools:quarkus");
        }

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("kratos_upgrade_runs_total{result=\"Succeeded\"} 1.0")
                .contains("kratos_upgrade_phase_duration_seconds_count{outcome=\"completed\",phase=\"Migrating\"}")
                .contains("kratos_upgrade_runs_in_progress 0.0")
                .containsPattern("operator_sdk_reconciliations_(started|executions)")
                .doesNotContain("via-quarkus");
        given().get("/q/health/ready").then().statusCode(200);
    }
}
