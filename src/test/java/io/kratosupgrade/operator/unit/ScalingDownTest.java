package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Recreate must not back up or migrate while any Kratos pod still runs: pods draining in a preStop hook are
 * terminating, not counted by the Deployment's status (replicas 0, no terminatingReplicas without an alpha
 * feature gate), and still serve and write.
 */
class ScalingDownTest {

    private final UpgradeScenario s = new UpgradeScenario();

    @BeforeEach
    void scaleDown() {
        s.ku.getSpec().setStrategy(Strategy.Recreate);
        s.passPreflight();
        assertThat(s.phase()).isEqualTo(Phase.ScalingDown);
        s.decide();
        assertThat(s.actions(Action.PatchDeployment.class)).singleElement().satisfies(p -> assertThat(p.what()).isEqualTo("replicas 0"));
        // The Deployment controller is done: status says zero replicas. The pods drain for a while yet.
        s.world.setReplicas(0);
        s.world.rolloutComplete();
        s.world.deploymentPods.add(terminating(Fixtures.kratosPod("kratos-a", Fixtures.OLD_IMAGE, true)));
        s.world.deploymentPods.add(terminating(Fixtures.kratosPod("kratos-b", Fixtures.OLD_IMAGE, false)));
    }

    @Test
    void podsStillTerminatingKeepTheRunInScalingDownAndItLooksAgainSoon() {
        Decision d = s.decide();

        assertThat(s.phase()).isEqualTo(Phase.ScalingDown);
        assertThat(d.actions()).isEmpty();
        assertThat(s.status().getMessage()).contains("2 Kratos pods still exist", "kratos-a (terminating)");
        assertThat(d.requeueAfter()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void theBackupStartsOnlyOnceNoPodExists() {
        s.decide();
        s.world.deploymentPods.remove(0);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.ScalingDown);

        s.world.deploymentPods.clear();
        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.BackingUp);
        assertThat(Conditions.get(s.status(), ConditionTypes.SCALED_DOWN).orElseThrow().getStatus()).isEqualTo("True");
        assertThat(Conditions.get(s.status(), ConditionTypes.ROLLED_OUT)).as("nothing was rolled out yet").isEmpty();
    }

    @Test
    void podsThatNeverStopFailTheStepAndTheReplicasComeBack() {
        s.advance(Duration.ofMinutes(10));

        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.RollingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("ScaleDownTimeout");
        assertThat(s.status().getMessage()).contains("kratos-a (terminating)");
        assertThat(Conditions.get(s.status(), ConditionTypes.SCALED_DOWN).orElseThrow().getStatus()).isEqualTo("False");
    }

    @Test
    void aPodThatSucceededOrFailedNoLongerRuns() {
        s.world.deploymentPods.clear();
        Pod done = Fixtures.kratosPod("kratos-done", Fixtures.OLD_IMAGE, false);
        done.getStatus().setPhase("Failed");
        s.world.deploymentPods.add(done);

        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.BackingUp);
    }

    static Pod terminating(Pod pod) {
        pod.getMetadata().setDeletionTimestamp("2025-03-01T10:00:00Z");
        return pod;
    }
}
