package io.kratosupgrade.operator.act;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.fleet.FleetAction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/** Carries out a fleet's actions on its instances' KratosUpgrades. Each action may be repeated safely. */
public class FleetActuator {

    private static final Logger LOG = Logger.getLogger(FleetActuator.class);
    private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);

    private final KubernetesClient client;

    public FleetActuator(KubernetesClient client) {
        this.client = client;
    }

    public void execute(List<FleetAction> actions) {
        for (FleetAction action : actions) {
            if (action instanceof FleetAction.CreateUpgrade a) {
                create(a.upgrade());
            } else if (action instanceof FleetAction.RetargetUpgrade a) {
                retarget(a.upgrade());
            } else if (action instanceof FleetAction.RetryUpgrade a) {
                client.resources(KratosUpgrade.class).inNamespace(a.namespace()).withName(a.name()).patch(MERGE,
                        client.getKubernetesSerialization().asJson(Map.of("metadata",
                                Map.of("annotations", Map.of(KratosUpgrade.RETRY_ANNOTATION, a.token())))));
                LOG.infof("KratosUpgrade %s/%s: retry %s", a.namespace(), a.name(), a.token());
            }
        }
    }

    private void create(KratosUpgrade upgrade) {
        Actuator.createIfAbsent(() -> client.resource(upgrade).create());
        LOG.infof("KratosUpgrade %s/%s: upgrades %s to %s", upgrade.getMetadata().getNamespace(), upgrade.getMetadata().getName(),
                upgrade.getSpec().getDeploymentName(), upgrade.getSpec().getVersion());
    }

    /** The existing KratosUpgrade takes the new spec, labels and fleet annotations; its other metadata stays. */
    private void retarget(KratosUpgrade upgrade) {
        var resource = client.resources(KratosUpgrade.class).inNamespace(upgrade.getMetadata().getNamespace())
                .withName(upgrade.getMetadata().getName());
        if (resource.get() == null) {
            create(upgrade);
            return;
        }
        resource.edit(existing -> {
            existing.setSpec(upgrade.getSpec());
            Map<String, String> labels = new HashMap<>(existing.getMetadata().getLabels() == null ? Map.of() : existing.getMetadata().getLabels());
            labels.putAll(upgrade.getMetadata().getLabels());
            existing.getMetadata().setLabels(labels);
            Map<String, String> annotations = new HashMap<>(existing.getMetadata().getAnnotations() == null ? Map.of()
                    : existing.getMetadata().getAnnotations());
            annotations.putAll(upgrade.getMetadata().getAnnotations());
            existing.getMetadata().setAnnotations(annotations);
            return existing;
        });
        LOG.infof("KratosUpgrade %s/%s retargeted to %s", upgrade.getMetadata().getNamespace(), upgrade.getMetadata().getName(),
                upgrade.getSpec().getVersion());
    }
}
