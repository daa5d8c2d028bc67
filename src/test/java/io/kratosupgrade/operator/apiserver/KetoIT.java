package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.product Keto against a real API server: the same pipeline as for Kratos (backup, verification, rehearsal,
 * migration, rollout) with Keto's own contract, as its real binaries showed it (docs/hydra-facts.md): the container
 * found by the product's name beside a sidecar, {@code keto migrate up --yes} with the server's config file (Keto
 * needs one even to migrate, and takes no -e), its tables counted.
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
        installKratos();
        client.apps().deployments().inNamespace(namespace).withName("kratos").delete();
        client.apps().deployments().inNamespace(namespace).resource(ketoDeployment()).create();
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

    private static Deployment ketoDeployment() {
        return new DeploymentBuilder()
                .withNewMetadata().withName("keto").endMetadata()
                .withNewSpec()
                    .withReplicas(2)
                    .withNewSelector().withMatchLabels(Map.of("app", "keto")).endSelector()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(Map.of("app", "keto")).endMetadata()
                        .withNewSpec()
                            .addNewContainer()
                                .withName("keto")
                                .withImage(FROM)
                                .withArgs("serve", "-c", "/etc/config/keto/keto.yaml")
                                .addNewEnv().withName("DSN").withNewValueFrom()
                                    .withNewSecretKeyRef().withName("kratos-db").withKey("dsn").endSecretKeyRef()
                                .endValueFrom().endEnv()
                                .addNewVolumeMount().withName("config").withMountPath("/etc/config/keto").endVolumeMount()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/health/ready").withNewPort(4466).endHttpGet().endReadinessProbe()
                            .endContainer()
                            .addNewContainer().withName("proxy").withImage("envoyproxy/envoy:v1.31.0").endContainer()
                            .addNewVolume().withName("config").withNewConfigMap().withName("keto-config").endConfigMap().endVolume()
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }
}
