package io.kratosupgrade.operator.kube;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;

/**
 * Whether a Deployment's rollout is complete, by the rules of {@code kubectl rollout status}
 * (kubectl/pkg/polymorphichelpers/rollout_status.go): the controller has observed the newest generation,
 * every replica is updated, no old replica is left, and every updated replica is available;
 * a Progressing condition with reason ProgressDeadlineExceeded means the rollout failed.
 */
public record RolloutCheck(State state, String message) {

    public enum State { COMPLETE, IN_PROGRESS, FAILED }

    public static RolloutCheck of(Deployment deployment) {
        DeploymentStatus status = deployment.getStatus();
        long generation = deployment.getMetadata().getGeneration() == null ? 0 : deployment.getMetadata().getGeneration();
        if (status == null || status.getObservedGeneration() == null || status.getObservedGeneration() < generation) {
            return new RolloutCheck(State.IN_PROGRESS, "waiting for the Deployment controller to observe generation " + generation);
        }
        for (DeploymentCondition c : nullSafe(status.getConditions())) {
            if ("Progressing".equals(c.getType()) && "ProgressDeadlineExceeded".equals(c.getReason())) {
                return new RolloutCheck(State.FAILED, "Deployment exceeded its progress deadline: " + c.getMessage());
            }
        }
        int desired = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
        int updated = intOf(status.getUpdatedReplicas());
        int replicas = intOf(status.getReplicas());
        int available = intOf(status.getAvailableReplicas());
        if (updated < desired) {
            return new RolloutCheck(State.IN_PROGRESS, updated + " of " + desired + " new replicas have been updated");
        }
        if (replicas > updated) {
            return new RolloutCheck(State.IN_PROGRESS, (replicas - updated) + " old replicas are pending termination");
        }
        if (available < updated) {
            return new RolloutCheck(State.IN_PROGRESS, available + " of " + updated + " updated replicas are available");
        }
        return new RolloutCheck(State.COMPLETE, "rollout complete: " + updated + " of " + desired + " replicas updated and available");
    }

    public boolean complete() {
        return state == State.COMPLETE;
    }

    public boolean failed() {
        return state == State.FAILED;
    }

    private static int intOf(Integer i) {
        return i == null ? 0 : i;
    }

    private static <T> java.util.List<T> nullSafe(java.util.List<T> list) {
        return list == null ? java.util.List.of() : list;
    }
}
