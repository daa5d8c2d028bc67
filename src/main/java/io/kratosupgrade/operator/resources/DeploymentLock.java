package io.kratosupgrade.operator.resources;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.Map;

/**
 * One run at a time per Deployment: the run that passes preflight puts its name in a label of the
 * Deployment, with the resourceVersion it read, so two runs racing for the same Deployment cannot both
 * win. Labels rather than annotations: a Deployment's generation moves with its annotations, and a run
 * that fails before rolling out must leave the Deployment exactly as it was.
 */
public final class DeploymentLock {

    private DeploymentLock() {
    }

    /** The label value naming a KratosUpgrade (names longer than a label value are shortened with a hash). */
    public static String holderValue(String upgradeName) {
        return Names.bounded(upgradeName, 63);
    }

    /** The label value of the run holding the Deployment, or null. */
    public static String holder(Deployment deployment) {
        Map<String, String> labels = deployment.getMetadata().getLabels();
        return labels == null ? null : labels.get(Labels.LOCK_LABEL);
    }

    public static boolean heldBy(Deployment deployment, String upgradeName) {
        return holderValue(upgradeName).equals(holder(deployment));
    }

    /** Merge patch taking the lock; the API server refuses it if the Deployment changed since it was read. */
    public static String lockPatch(String resourceVersion, String upgradeName) {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        metadata.put("resourceVersion", resourceVersion);
        metadata.putObject("labels").put(Labels.MANAGED_DEPLOYMENT, "true").put(Labels.LOCK_LABEL, holderValue(upgradeName));
        ObjectNode patch = JsonNodeFactory.instance.objectNode();
        patch.set("metadata", metadata);
        return patch.toString();
    }

    /** Merge patch releasing the lock (null deletes a label). */
    public static String unlockPatch() {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        metadata.putObject("labels").putNull(Labels.MANAGED_DEPLOYMENT).putNull(Labels.LOCK_LABEL);
        ObjectNode patch = JsonNodeFactory.instance.objectNode();
        patch.set("metadata", metadata);
        return patch.toString();
    }
}
