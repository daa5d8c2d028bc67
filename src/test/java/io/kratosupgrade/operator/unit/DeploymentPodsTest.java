package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.kube.DeploymentPods;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeploymentPodsTest {

    @Test
    void onlyPodsOfTheDeploymentsReplicaSetsOrOrphansCount() {
        Pod ours = owned(Fixtures.kratosPod("kratos-7d9f-a", Fixtures.OLD_IMAGE, true), "ReplicaSet", "kratos-7d9f");
        Pod orphan = Fixtures.kratosPod("orphan", Fixtures.OLD_IMAGE, true);
        Pod courier = owned(Fixtures.kratosPod("kratos-courier-5c-a", Fixtures.OLD_IMAGE, true), "ReplicaSet", "other-5c");
        Pod job = owned(Fixtures.kratosPod("seed-x", Fixtures.OLD_IMAGE, true), "Job", "seed");

        assertThat(DeploymentPods.of(Fixtures.deployment(Fixtures.OLD_IMAGE), List.of(ours, orphan, courier, job)))
                .containsExactly(ours, orphan);
    }

    @Test
    void terminatingAndPendingPodsStillRunFinishedOnesDoNot() {
        Pod terminating = ScalingDownTest.terminating(Fixtures.kratosPod("t", Fixtures.OLD_IMAGE, true));
        Pod pending = Fixtures.kratosPod("p", Fixtures.OLD_IMAGE, false);
        pending.getStatus().setPhase("Pending");
        Pod succeeded = Fixtures.kratosPod("s", Fixtures.OLD_IMAGE, false);
        succeeded.getStatus().setPhase("Succeeded");

        assertThat(DeploymentPods.stillRunning(List.of(terminating, pending, succeeded))).containsExactly(terminating, pending);
    }

    private static Pod owned(Pod pod, String kind, String name) {
        pod.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withKind(kind).withName(name)
                .withController(true).withApiVersion("apps/v1").withUid("u").build()));
        return pod;
    }
}
