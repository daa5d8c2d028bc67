package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import io.kratosupgrade.operator.testsupport.KetoOutputs;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.product Keto against a real API server: the same pipeline as for Kratos (backup, verification, rehearsal,
 * migration, rollout) with Keto's own contract, as its real binaries showed it (docs/hydra-facts.md): the container
 * found by the product's name beside a sidecar, {@code keto migrate up --yes} with the server's config file (Keto
 * needs one even to migrate, and takes no -e), its tables counted. From v0.6, the legacy namespace migration of Ory's
 * guide on the BlueGreen machinery, with the outputs its sources print ({@link KetoOutputs}): no v0.6 or v0.7 binary can
 * be built here.
 */
class KetoIT extends ApiServerTestBase {

    static final String FROM = "oryd/keto:v0.10.0-alpha.0";
    static final String TO = "v0.11.0-alpha.0";

    @Test
    void ketoIsUpgradedWithItsOwnMigrateCommandAndTables() {
        controllers.inspectionReport = "{\"schemaMigration\":true,\"applied\":16,\"newest\":\"20220513200600000001\","
                + "\"pendingForTarget\":0,\"missingForRunning\":0,\"unknownToRunning\":0,\"unknownToTarget\":0,"
                + "\"aheadExamples\":[],\"missingExamples\":[],\"networks\":1}";
        controllers.start();
        installKeto(FROM);
        upgrade("keto", TO, spec -> {
            spec.setProduct(OryProduct.Keto);
            spec.setDeploymentName("keto");
        });

        KratosUpgrade ku = awaitPhase("keto", Phase.Succeeded);

        assertThat(ku.getStatus().getContainerName()).as("found by the product's name beside a sidecar").isEqualTo("keto");
        assertThat(ku.getStatus().getPlan().getSteps()).anySatisfy(step -> assertThat(step).contains("keto migrate up --yes"));
        Job migrate = client.batch().v1().jobs().inNamespace(namespace).withName("keto-1-migrate").get();
        var container = migrate.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("oryd/keto:" + TO);
        assertThat(container.getCommand()).as("the image's entrypoint, keto").isNullOrEmpty();
        assertThat(container.getArgs()).containsExactly("migrate", "up", "--yes", "--config", "/etc/config/keto/keto.yaml");
        Job backup = client.batch().v1().jobs().inNamespace(namespace).withName("keto-1-backup").get();
        assertThat(String.join(" ", backup.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand()))
                .as("Keto's tables counted in the dump's snapshot").contains("keto_relation_tuples").doesNotContain("identities");
        Deployment keto = client.apps().deployments().inNamespace(namespace).withName("keto").get();
        assertThat(keto.getSpec().getTemplate().getSpec().getContainers()).extracting(c -> c.getImage())
                .containsExactly("oryd/keto:" + TO, "envoyproxy/envoy:v1.31.0");
    }

    /**
     * Keto v0.6 -> v0.7 as Ory's guide does it, on the BlueGreen machinery: writes frozen on the old side, the copy
     * migrated, then {@code keto namespace migrate legacy --yes} on it, started again after a failure, before the new
     * side starts and the Services move.
     */
    @Test
    void fromV06TheLegacyNamespacesAreMovedOnTheCopyAndAFailedAttemptIsRunAgain() {
        startLegacyRun("legacy", KetoOutputs.CONNECTION_LOST);

        KratosUpgrade kept = awaitPhase("legacy", Phase.KeepingOld);

        assertThat(controllers.jobsCreated).containsExactly("legacy-1-check-target", "legacy-1-rehearse-copy", "legacy-1-freeze",
                "legacy-1-backup", "legacy-1-copy", "legacy-1-migrate", "legacy-1-migrate-data", "legacy-1-migrate-data-2");
        var legacy = client.batch().v1().jobs().inNamespace(namespace).withName("legacy-1-migrate-data-2").get()
                .getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(legacy.getImage()).isEqualTo("oryd/keto:" + LEGACY_TARGET);
        assertThat(legacy.getArgs()).containsExactly("namespace", "migrate", "legacy", "--yes", "--config", "/etc/config/keto/keto.yaml");
        assertThat(legacy.getEnv()).filteredOn(e -> e.getName().equals("DSN")).singleElement()
                .satisfies(e -> assertThat(e.getValueFrom().getSecretKeyRef().getName()).as("the copy").isEqualTo("kratos-green-db"));
        assertThat(kept.getStatus().getDataMigration().getAttempts()).isEqualTo(2);
        assertThat(kept.getStatus().getPlan().getSteps()).anySatisfy(step -> assertThat(step).contains("keto namespace migrate legacy --yes"));
        for (String service : SERVICES.keySet()) {
            assertThat(client.services().inNamespace(namespace).withName(service).get().getSpec().getSelector()).as(service)
                    .containsEntry(ServiceSelectors.COLOUR, kept.getStatus().getBlueGreen().getNewDeployment());
        }
        awaitEvents("DataMigrationAttemptFailed", "DataMigrated", "TrafficSwitched");
    }

    /** Broken tuples: no second attempt, the tuples in status, the old side serving and writable again, the copy emptied. */
    @Test
    void brokenTuplesSwitchBackAndAreListed() {
        startLegacyRun("broken", KetoOutputs.BROKEN_TUPLES);

        KratosUpgrade back = awaitPhase("broken", Phase.RolledBack);

        assertThat(back.getStatus().getFailureReason()).isEqualTo("BrokenRecords");
        assertThat(back.getStatus().getDataMigration().getBrokenRecords()).containsExactly("file-2#edit@readme#owner", "g-1#member@a:b:c#x");
        assertThat(controllers.jobsCreated).contains("broken-1-migrate-data", "broken-1-thaw", "broken-1-empty-target")
                .doesNotContain("broken-1-migrate-data-2");
        assertThat(back.getStatus().getBlueGreen().getOldWritesRestored()).isTrue();
        for (String service : SERVICES.keySet()) {
            assertThat(client.services().inNamespace(namespace).withName(service).get().getSpec().getSelector()).as(service)
                    .isEqualTo(Map.of("app", "keto"));
        }
    }

    static final String LEGACY = "oryd/keto:v0.6.0-alpha.3";
    /** Keto's two APIs, each behind a Service of its own: both move at the switch. */
    static final Map<String, Integer> SERVICES = Map.of("keto-read", 4466, "keto-write", 4467);
    static final String LEGACY_TARGET = "v0.7.0-alpha.1";

    /** A BlueGreen run of Keto v0.6 -> v0.7 whose first legacy migration attempt fails, printing {@code output}. */
    private void startLegacyRun(String name, String output) {
        controllers.failing(name + "-1-migrate-data", KetoOutputs.EXIT_CODE, output).start();
        installKeto(LEGACY);
        installBlueGreenTarget("keto", SERVICES);
        upgrade(name, LEGACY_TARGET, KetoIT::ketoBlueGreen);
    }

    private static void ketoBlueGreen(KratosUpgradeSpec spec) {
        blueGreen(spec);
        spec.setProduct(OryProduct.Keto);
        spec.setDeploymentName("keto");
    }
}
