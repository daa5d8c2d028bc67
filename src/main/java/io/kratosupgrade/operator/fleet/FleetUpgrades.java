package io.kratosupgrade.operator.fleet;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.Names;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the KratosUpgrade a fleet gives an instance. Pure. */
public final class FleetUpgrades {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    /** KratosUpgrade names end up in Job names and label values: kept to a label's length. */
    private static final int MAX_NAME = 63;
    /** JOSDK's default finalizer for KratosUpgrades (the reconciler names none): {@code <plural>.<group>/finalizer}. */
    static final String FINALIZER = HasMetadata.getFullResourceName(KratosUpgrade.class) + "/finalizer";

    private FleetUpgrades() {
    }

    /** Deterministic per fleet and Deployment, so a repeated create finds the one made before. */
    public static String name(KratosFleetUpgrade fleet, String deployment) {
        return Names.bounded(deployment + "-" + fleet.getMetadata().getName(), MAX_NAME).replaceAll("[-.]+$", "");
    }

    /** Hash of the template: a fleet run carries out one template; another hash starts another run. */
    public static String templateHash(KratosFleetUpgrade fleet) {
        return Names.sha256(JSON.asJson(fleet.getSpec().getTemplate())).substring(0, 16);
    }

    public static KratosUpgrade build(KratosFleetUpgrade fleet, FleetInstance instance, String templateHash, int wave) {
        KratosUpgradeSpec spec = JSON.convertValue(fleet.getSpec().getTemplate().getSpec(), KratosUpgradeSpec.class);
        spec.setDeploymentName(instance.deployment());
        Map<String, String> labels = new LinkedHashMap<>(fleet.getSpec().getTemplate().getLabels());
        labels.put(FleetLabels.FLEET, Names.bounded(fleet.getMetadata().getName(), MAX_NAME));
        labels.put(Labels.MANAGED_BY, Labels.OPERATOR);
        KratosUpgrade upgrade = new KratosUpgrade();
        upgrade.setMetadata(new ObjectMetaBuilder()
                .withName(instance.upgrade() != null ? instance.upgrade().getMetadata().getName() : name(fleet, instance.deployment()))
                .withNamespace(instance.namespace())
                .withLabels(labels)
                .withAnnotations(Map.of(
                        FleetLabels.FLEET_ANNOTATION, fleet.getMetadata().getNamespace() + "/" + fleet.getMetadata().getName(),
                        FleetLabels.TEMPLATE_ANNOTATION, templateHash,
                        FleetLabels.WAVE_ANNOTATION, Integer.toString(wave)))
                // The finalizer the KratosUpgrade reconciler would add with a patch of its own: one write less each.
                .withFinalizers(FINALIZER)
                .build());
        upgrade.setSpec(spec);
        return upgrade;
    }
}
