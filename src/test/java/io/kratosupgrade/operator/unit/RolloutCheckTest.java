package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.kratosupgrade.operator.kube.RolloutCheck;
import org.junit.jupiter.api.Test;

/** The rules of {@code kubectl rollout status}, on a Deployment that wants 3 replicas at generation 5. */
class RolloutCheckTest {

    private static Deployment deployment(Long observedGeneration, int replicas, int updated, int available) {
        return new DeploymentBuilder(Fixtures.deployment(Fixtures.NEW_IMAGE))
                .editMetadata().withGeneration(5L).endMetadata()
                .editSpec().withReplicas(3).endSpec()
                .withNewStatus()
                    .withObservedGeneration(observedGeneration)
                    .withReplicas(replicas).withUpdatedReplicas(updated).withAvailableReplicas(available)
                    .withReadyReplicas(available)
                .endStatus()
                .build();
    }

    @Test
    void completeWhenObservedAndEveryReplicaUpdatedAndAvailable() {
        RolloutCheck check = RolloutCheck.of(deployment(5L, 3, 3, 3));

        assertThat(check.state()).isEqualTo(RolloutCheck.State.COMPLETE);
        assertThat(check.complete()).isTrue();
        assertThat(check.failed()).isFalse();
    }

    @Test
    void controllerNotYetObservedTheNewGeneration() {
        // The numbers describe the previous generation's finished rollout: they must not be trusted.
        RolloutCheck check = RolloutCheck.of(deployment(4L, 3, 3, 3));

        assertThat(check.state()).isEqualTo(RolloutCheck.State.IN_PROGRESS);
        assertThat(check.message()).contains("observe generation 5");
    }

    @Test
    void noStatusAtAllIsInProgress() {
        Deployment d = deployment(5L, 3, 3, 3);
        d.setStatus(null);

        assertThat(RolloutCheck.of(d).state()).isEqualTo(RolloutCheck.State.IN_PROGRESS);
    }

    @Test
    void fewerUpdatedReplicasThanDesired() {
        RolloutCheck check = RolloutCheck.of(deployment(5L, 3, 2, 3));

        assertThat(check.state()).isEqualTo(RolloutCheck.State.IN_PROGRESS);
        assertThat(check.message()).contains("2 of 3 new replicas");
    }

    @Test
    void oldReplicasPendingTermination() {
        RolloutCheck check = RolloutCheck.of(deployment(5L, 4, 3, 3));

        assertThat(check.state()).isEqualTo(RolloutCheck.State.IN_PROGRESS);
        assertThat(check.message()).contains("1 old replicas are pending termination");
    }

    @Test
    void updatedReplicasNotYetAvailable() {
        RolloutCheck check = RolloutCheck.of(deployment(5L, 3, 3, 2));

        assertThat(check.state()).isEqualTo(RolloutCheck.State.IN_PROGRESS);
        assertThat(check.message()).contains("2 of 3 updated replicas are available");
    }

    @Test
    void progressDeadlineExceededFails() {
        Deployment d = deployment(5L, 4, 1, 3);
        d.getStatus().getConditions().add(new DeploymentConditionBuilder().withType("Progressing").withStatus("False")
                .withReason("ProgressDeadlineExceeded").withMessage("ReplicaSet \"kratos-7d9\" has timed out progressing.").build());

        RolloutCheck check = RolloutCheck.of(d);

        assertThat(check.state()).isEqualTo(RolloutCheck.State.FAILED);
        assertThat(check.failed()).isTrue();
        assertThat(check.message()).contains("has timed out progressing");
    }

    @Test
    void progressingConditionWithOtherReasonDoesNotFail() {
        Deployment d = deployment(5L, 3, 3, 3);
        d.getStatus().getConditions().add(new DeploymentConditionBuilder().withType("Progressing").withStatus("True")
                .withReason("NewReplicaSetAvailable").build());

        assertThat(RolloutCheck.of(d).complete()).isTrue();
    }

    @Test
    void nullReplicasMeansOneDesired() {
        Deployment d = deployment(5L, 1, 1, 1);
        d.getSpec().setReplicas(null);

        assertThat(RolloutCheck.of(d).complete()).isTrue();
    }
}
