package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.testsupport.Edits;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Invalid objects are refused by the API server itself, with a message that names the field. */
class ValidationIT extends ApiServerTestBase {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            version without v            | {"deploymentName":"kratos","version":"1.3.1","backup":{"policy":"Skip"}}                          | spec.version
            version beyond an int        | {"deploymentName":"kratos","version":"v99999999999999999999.0.0","backup":{"policy":"Skip"}}     | spec.version
            version with junk            | {"deploymentName":"kratos","version":"v1.3","backup":{"policy":"Skip"}}                           | spec.version
            missing version              | {"deploymentName":"kratos","backup":{"policy":"Skip"}}                                             | spec.version
            missing deploymentName       | {"version":"v1.3.1","backup":{"policy":"Skip"}}                                                     | spec.deploymentName
            bad deployment name          | {"deploymentName":"Kratos_1","version":"v1.3.1","backup":{"policy":"Skip"}}                        | spec.deploymentName
            unknown strategy             | {"deploymentName":"kratos","version":"v1.3.1","strategy":"Canary","backup":{"policy":"Skip"}}  | spec.strategy
            blue/green, no target        | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","backup":{"persistentVolumeClaim":"b"}}  | spec.strategy
            blue/green, no backup        | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","backup":{"policy":"Skip"},"blueGreen":{"targetDatabase":{"name":"t","key":"dsn"}}} | spec.strategy
            blue/green in Gate mode      | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","mode":"Gate","backup":{"persistentVolumeClaim":"b"},"blueGreen":{"targetDatabase":{"name":"t","key":"dsn"}}} | spec.strategy
            blue/green, stepped          | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","path":"Stepped","backup":{"persistentVolumeClaim":"b"},"blueGreen":{"targetDatabase":{"name":"t","key":"dsn"}}} | spec.strategy
            blue/green, target no key    | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","backup":{"persistentVolumeClaim":"b"},"blueGreen":{"targetDatabase":{"name":"t"}}} | spec.blueGreen.targetDatabase.key
            blue/green, keep zero        | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","backup":{"persistentVolumeClaim":"b"},"blueGreen":{"targetDatabase":{"name":"t","key":"dsn"},"keepOldFor":"0s"}} | spec.blueGreen.keepOldFor
            unknown product              | {"deploymentName":"kratos","version":"v1.3.1","product":"Vault","backup":{"policy":"Skip"}}   | spec.product
            blue/green, unknown copy     | {"deploymentName":"kratos","version":"v1.3.1","strategy":"BlueGreen","backup":{"persistentVolumeClaim":"b"},"blueGreen":{"targetDatabase":{"name":"t","key":"dsn"},"copy":"Rsync"}} | spec.blueGreen.copy
            unknown backup policy        | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Sometimes"}}                     | spec.backup.policy
            no backup choice             | {"deploymentName":"kratos","version":"v1.3.1"}                                                     | spec.backup
            backup without a volume      | {"deploymentName":"kratos","version":"v1.3.1","backup":{}}                                          | spec.backup.persistentVolumeClaim
            zero migration timeout       | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"migration":{"timeout":"0s"}} | spec.migration.timeout
            prose migration timeout      | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"migration":{"timeout":"15 minutes"}} | spec.migration.timeout
            no data migration attempt    | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"migration":{"dataMigrationAttempts":0}} | spec.migration.dataMigrationAttempts
            too many data migration runs | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"migration":{"dataMigrationAttempts":11}} | spec.migration.dataMigrationAttempts
            negative rollout timeout     | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"rollout":{"timeout":"-5m"}} | spec.rollout.timeout
            malformed image              | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"image":"oryd//kratos::v1.3.1"} | spec.image
            malformed backup image       | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip","image":"Tools Image"}} | spec.backup.image
            rehearsal without a backup   | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"rehearsal":true} | spec.rehearsal
            database rollback, no backup | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"rollback":{"onFailure":"ImageAndDatabase"}} | spec.rollback.onFailure
            database rollback, no verify | {"deploymentName":"kratos","version":"v1.3.1","backup":{"persistentVolumeClaim":"b","verify":false},"rollback":{"onFailure":"ImageAndDatabase"}} | spec.rollback.onFailure
            unknown rollback policy      | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"rollback":{"onFailure":"Database"}} | spec.rollback.onFailure
            unknown mode                 | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"mode":"Watch"} | spec.mode
            gate with recreate           | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"mode":"Gate","strategy":"Recreate"} | spec.mode
            gate with a stepped path     | {"deploymentName":"kratos","version":"v1.3.1","backup":{"policy":"Skip"},"mode":"Gate","path":"Stepped"} | spec.mode
            gate with database rollback  | {"deploymentName":"kratos","version":"v1.3.1","backup":{"persistentVolumeClaim":"b"},"mode":"Gate","rollback":{"onFailure":"ImageAndDatabase"}} | spec.mode
            """)
    void theApiServerRefusesInvalidSpecsNamingTheField(String description, String spec, String field) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("kratos-upgrade.io/v1alpha1");
        resource.setKind("KratosUpgrade");
        resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("invalid").withNamespace(namespace).build());
        resource.setAdditionalProperties(Map.of("spec", Serialization.unmarshal(spec, Map.class)));

        assertThatThrownBy(() -> client.resource(resource).create())
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> {
                    assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains(field);
                });
    }

    @Test
    void aBlueGreenSpecWithItsTargetDatabaseIsAcceptedWithItsDefaults() {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("kratos-upgrade.io/v1alpha1");
        resource.setKind("KratosUpgrade");
        resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("blue-green").withNamespace(namespace).build());
        resource.setAdditionalProperties(Map.of("spec", Map.of("deploymentName", "kratos", "version", "v1.3.1", "strategy", "BlueGreen",
                "backup", Map.of("persistentVolumeClaim", "kratos-backups"),
                "blueGreen", Map.of("targetDatabase", Map.of("name", "kratos-green-db", "key", "dsn")))));

        GenericKubernetesResource stored = client.resource(resource).create();

        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) stored.getAdditionalProperties().get("spec");
        assertThat(spec.get("blueGreen")).isEqualTo(Map.of("targetDatabase", Map.of("name", "kratos-green-db", "key", "dsn"),
                "keepOldFor", "1h", "oldDeployment", "ScaleToZero", "restoreOldWrites", false, "keepFailedTarget", false,
                "servicesExcludedFromGitOps", false, "copy", "Dump"));
    }

    @Test
    void theProductOfAnObjectCannotChange() {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("kratos-upgrade.io/v1alpha1");
        resource.setKind("KratosUpgrade");
        resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("hydra").withNamespace(namespace).build());
        resource.setAdditionalProperties(Map.of("spec", Map.of("deploymentName", "hydra", "version", "v2.3.0", "product", "Hydra",
                "backup", Map.of("persistentVolumeClaim", "hydra-backups"))));
        client.resource(resource).create();

        // The operator writes the object meanwhile (finalizer, status): read, change, write again on a conflict.
        assertThatThrownBy(() -> Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace)
                .withName("hydra").edit(ku -> { ku.getSpec().setProduct(OryProduct.Keto); return ku; })))
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> {
                    assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("spec.product", "product cannot change");
                });
    }

    /** Sent without any optional field (not through the Java model, which carries the defaults itself). */
    @Test
    void defaultsAreFilledInByTheApiServer() {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("kratos-upgrade.io/v1alpha1");
        resource.setKind("KratosUpgrade");
        resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("defaults").withNamespace(namespace).build());
        resource.setAdditionalProperties(Map.of("spec", Map.of("deploymentName", "kratos", "version", "v1.3.1",
                "backup", Map.of("persistentVolumeClaim", "kratos-backups"))));

        GenericKubernetesResource stored = client.resource(resource).create();

        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) stored.getAdditionalProperties().get("spec");
        assertThat(spec).containsEntry("strategy", "Rolling").containsEntry("mode", "Managed").containsEntry("product", "Kratos")
                .containsEntry("imageExcludedFromGitOps", false);
        assertThat(spec.get("backup")).isEqualTo(Map.of("persistentVolumeClaim", "kratos-backups", "policy", "Required",
                "timeout", "30m", "verify", true));
        assertThat(spec).as("rehearsal follows verify unless set").doesNotContainKey("rehearsal");
        assertThat(spec.get("migration")).isEqualTo(Map.of("timeout", "15m", "dataMigrationAttempts", 3));
        assertThat(spec.get("rollout")).isEqualTo(Map.of("timeout", "10m"));
        assertThat(spec.get("rollback")).isEqualTo(Map.of("onFailure", "Image", "allowDataLoss", false));
    }
}
