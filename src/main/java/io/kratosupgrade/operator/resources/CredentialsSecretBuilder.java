package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.util.Map;

/**
 * The short-lived Secret that hands the dump tool its connection settings. Owned by the KratosUpgrade
 * and deleted as soon as the backup step ends; its content is never logged.
 */
public final class CredentialsSecretBuilder {

    private CredentialsSecretBuilder() {
    }

    public static Secret build(KratosUpgrade ku, int run, String name, Map<String, String> toolEnvironment) {
        return new SecretBuilder()
                .withNewMetadata()
                    .withName(name)
                    .withNamespace(ku.getMetadata().getNamespace())
                    .withLabels(Labels.forJob(run, "backup", Names.backupJob(ku, run)))
                    .withAnnotations(Labels.upgradeAnnotation(ku))
                .endMetadata()
                .withType("Opaque")
                .withStringData(toolEnvironment)
                .build();
    }
}
