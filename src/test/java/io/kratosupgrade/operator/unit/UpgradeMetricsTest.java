package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.status.Conditions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The gauges follow each object's status: in progress while not terminal, reverted while ImageReverted is True. */
class UpgradeMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UpgradeMetrics metrics = new UpgradeMetrics(registry);

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    @Test
    void anImagePutBackCountsUntilTheDeploymentRunsTheMigratedReleaseAgainOrTheObjectGoes() {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(Phase.Succeeded);
        metrics.track("a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "True", "ImageReverted", "back to v1.0.0", 1, "2026-01-01T00:00:00Z");
        metrics.track("a", status);
        metrics.track("a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).as("one object, counted once").isEqualTo(1.0);

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "False", "ImageCurrent", "v1.3.1 again", 1, "2026-01-01T00:01:00Z");
        metrics.track("a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "True", "ImageReverted", "back again", 1, "2026-01-01T00:02:00Z");
        metrics.track("a", status);
        metrics.forget("a");
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();
    }

    @Test
    void runsInProgressAreTheNonTerminalOnes() {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(Phase.AwaitingRollout);
        metrics.track("a", status);
        assertThat(gauge("kratos.upgrade.runs.in.progress")).isEqualTo(1.0);
        status.setPhase(Phase.Succeeded);
        metrics.track("a", status);
        assertThat(gauge("kratos.upgrade.runs.in.progress")).isZero();
    }
}
