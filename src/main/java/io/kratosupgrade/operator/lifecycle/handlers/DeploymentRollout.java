package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.resources.Containers;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import java.util.ArrayList;
import java.util.List;

/** What rolling out and rolling back share: bring the Deployment to an image and replica count. */
final class DeploymentRollout {

    private DeploymentRollout() {
    }

    /** Patches needed for the Deployment to run {@code image} with {@code replicas} (null: leave replicas alone). */
    static List<Action> patchesTowards(Deployment deployment, String container, String image, Integer replicas) {
        List<Action> actions = new ArrayList<>();
        String name = deployment.getMetadata().getName();
        var pod = deployment.getSpec().getTemplate().getSpec();
        int index = Containers.indexOf(pod, container);
        Container current = pod.getContainers().get(index);
        if (!image.equals(current.getImage())) {
            actions.add(new Action.PatchDeployment(name, DeploymentPatches.setImage(index, container, image), "image " + image));
        }
        if (replicas != null && !replicas.equals(deployment.getSpec().getReplicas())) {
            actions.add(new Action.PatchDeployment(name, DeploymentPatches.setReplicas(replicas), "replicas " + replicas));
        }
        return actions;
    }

    static boolean hasContainer(Deployment deployment, String container) {
        return deployment != null && Containers.indexOf(deployment.getSpec().getTemplate().getSpec(), container) >= 0;
    }
}
