package io.kratosupgrade.operator.apiserver;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.packaging.AlertRulesIT;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.testsupport.PromQl;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The application as Quarkus assembles it (CDI wiring, configuration, Micrometer, health), running an
 * upgrade against the real API server, with its metrics scraped from /q/metrics (once while the run awaits its
 * approval, once after it), and every metric the Grafana dashboard and the chart's alerts query found there.
 */
@QuarkusTest
@QuarkusTestResource(ApiServerResource.class)
class QuarkusApplicationIT {

    @Test
    void theQuarkusOperatorUpgradesAndExposesMetricsAndHealth() {
        String waiting;
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
            ku.getSpec().getApproval().setRequired(true);
            client.resource(ku).create();

            // While the plan waits, the run in progress is exported with its name (the series the alerts use).
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                KratosUpgrade current = client.resources(KratosUpgrade.class).inNamespace(ns).withName("via-quarkus").get();
                return current.getStatus() != null && current.getStatus().getPhase() == Phase.AwaitingApproval;
            });
            // Metrics are recorded after the status write the wait above sees.
            await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/q/metrics").then().extract().asString()
                    .contains("kratos_upgrade_runs_in_phase{phase=\"AwaitingApproval\"} 1.0"));
            waiting = given().get("/q/metrics").then().statusCode(200).extract().asString();
            keep("quarkus-application-waiting.prom", waiting);
            assertThat(waiting).containsPattern("kratos_upgrade_phase_started_timestamp_seconds\\{kratosupgrade=\"via-quarkus\","
                    + "kratosupgrade_namespace=\"" + ns + "\",phase=\"AwaitingApproval\"} [0-9.E]+\n");
            String hash = client.resources(KratosUpgrade.class).inNamespace(ns).withName("via-quarkus").get()
                    .getStatus().getPlan().getHash();
            Edits.edit(client.resources(KratosUpgrade.class).inNamespace(ns).withName("via-quarkus"),
                    k -> { k.getMetadata().getAnnotations().put(KratosUpgrade.APPROVE_ANNOTATION, hash); return k; });

            await().atMost(Duration.ofSeconds(60)).until(() -> {
                KratosUpgrade current = client.resources(KratosUpgrade.class).inNamespace(ns).withName("via-quarkus").get();
                return current.getStatus() != null && current.getStatus().getPhase() == Phase.Succeeded;
            });
            Job backup = client.batch().v1().jobs().inNamespace(ns).withName("via-quarkus-1-backup").get();
            assertThat(backup.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                    .as("the backup image comes from kratos-upgrade.backup.image").isEqualTo("test/db-tools:quarkus");
        }

        // The gauges follow the status write the wait above sees.
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/q/metrics").then().extract().asString()
                .contains("kratos_upgrade_runs_in_progress 0.0"));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        keep("quarkus-application-final.prom", metrics);
        assertThat(metrics)
                .contains("kratos_upgrade_runs_total{result=\"Succeeded\"} 1.0")
                .contains("kratos_upgrade_phase_duration_seconds_count{outcome=\"completed\",phase=\"Migrating\"}")
                .contains("kratos_upgrade_runs_in_progress 0.0")
                .containsPattern("operator_sdk_reconciliations_(started|executions)")
                .contains("kratos_upgrade_phase_duration_seconds_bucket{outcome=\"completed\",phase=\"BackingUp\",le=\"3600.0\"} 1")
                .contains("kratos_upgrade_last_backup_size_bytes 4096.0")
                .contains("kratos_upgrade_reconcile_errors_total{reason=\"Forbidden\"} 0.0")
                .doesNotContain("via-quarkus");
        given().get("/q/health/ready").then().statusCode(200);

        // Every metric the dashboard and the alerts query is exported (histogram series by their _bucket/_sum/_count
        // names, exactly as the exposition has them; the per-run series from the scrape taken while one waited).
        Set<String> exposed = new TreeSet<>(PromQl.exposedNames(metrics));
        exposed.addAll(PromQl.exposedNames(waiting));
        Map<String, Set<String>> queried = new TreeMap<>();
        PromQl.dashboardQueries(PromQl.DASHBOARD).forEach(q -> queried.put("dashboard: " + q, PromQl.metricNames(q)));
        AlertRulesIT.ruleExpressions(AlertRulesIT.renderedRules()).forEach(q -> queried.put("alert: " + q, PromQl.metricNames(q)));
        assertThat(queried).hasSizeGreaterThan(15);
        queried.forEach((query, names) -> assertThat(names).as(query).isNotEmpty().isSubsetOf(exposed));
    }

    /** Kept for dashboards/render-scrapes.py (the picture in docs/img), with the time of the scrape. */
    private static void keep(String file, String exposition) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "metrics-scrapes"));
            Files.writeString(dir.resolve(file), "# scraped-at " + System.currentTimeMillis() / 1000.0 + "\n" + exposition);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
