package io.kratosupgrade.operator.kube;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;

/**
 * The pods of a Deployment as the kubelet sees them, terminating ones included. A Deployment's status
 * counts neither terminating pods (status.terminatingReplicas needs an alpha feature gate in Kubernetes
 * 1.34) nor pods still draining in a preStop hook, yet those pods still serve and write: only the pods
 * themselves say when Kratos has really stopped.
 */
public final class DeploymentPods {

    private DeploymentPods() {
    }

    /**
     * Of the pods matching the Deployment's selector, those it owns: controlled by one of its ReplicaSets
     * (named {@code <deployment>-<pod-template-hash>}, the hash being the pod's own label), or controlled by nothing
     * (orphans still run Kratos). Pods another controller owns (a Job, another Deployment with overlapping labels,
     * such as a blue/green new side named {@code <deployment>-v1-3-1}) are not this Deployment's.
     */
    public static List<Pod> of(Deployment deployment, List<Pod> selected) {
        String prefix = deployment.getMetadata().getName() + "-";
        return selected.stream().filter(p -> {
            OwnerReference controller = controllerOf(p);
            String hash = p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get("pod-template-hash");
            return controller == null || ("ReplicaSet".equals(controller.getKind())
                    && (hash == null ? controller.getName().startsWith(prefix) : controller.getName().equals(prefix + hash)));
        }).toList();
    }

    /** Pods whose containers may still run: every phase but Succeeded and Failed, terminating or not. */
    public static List<Pod> stillRunning(List<Pod> pods) {
        return pods.stream().filter(p -> p.getStatus() == null
                || !("Succeeded".equals(p.getStatus().getPhase()) || "Failed".equals(p.getStatus().getPhase()))).toList();
    }

    /** "name (terminating)" or "name (Running)", for status messages. */
    public static String describe(List<Pod> pods) {
        return String.join(", ", pods.stream().map(p -> p.getMetadata().getName() + " ("
                + (p.getMetadata().getDeletionTimestamp() != null ? "terminating"
                : p.getStatus() == null ? "Pending" : p.getStatus().getPhase()) + ")").toList());
    }

    private static OwnerReference controllerOf(Pod pod) {
        if (pod.getMetadata().getOwnerReferences() == null) return null;
        return pod.getMetadata().getOwnerReferences().stream()
                .filter(o -> Boolean.TRUE.equals(o.getController())).findFirst().orElse(null);
    }
}
