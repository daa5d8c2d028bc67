package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.product.Product;
import java.time.Duration;
import java.time.Instant;

/**
 * Input of a phase handler: the object (its status is a working copy handlers may fill in), what was
 * observed, the time, the operator settings, and the product being upgraded.
 */
public record RunContext(KratosUpgrade upgrade, Observation observed, Instant now, OperatorSettings settings, Product product) {

    public KratosUpgradeSpec spec() {
        return upgrade.getSpec();
    }

    public KratosUpgradeStatus status() {
        return upgrade.getStatus();
    }

    /** The strategy this run started with (spec edits apply to the next run). */
    public Strategy strategy() {
        return status().getStrategy() != null ? status().getStrategy() : spec().getStrategy();
    }

    /** Whether this run backs up: decided in Preflight, when status.backup is created. */
    public boolean backsUp() {
        return status().getBackup() != null;
    }

    /** The first step that touches something, once the run may go: scale down (Recreate), back up, or migrate. */
    public Phase firstStep() {
        return strategy() == Strategy.Recreate ? Phase.ScalingDown : backsUp() ? Phase.BackingUp : Phase.Migrating;
    }

    public int run() {
        return status().getRun();
    }

    public String nowText() {
        return Times.format(now);
    }

    /** Time left until {@code timeout} has passed since {@code since}; negative once it has. */
    public Duration remaining(String since, Duration timeout) {
        Instant start = since == null ? now : Times.parse(since);
        return Duration.between(now, start.plus(timeout));
    }
}
