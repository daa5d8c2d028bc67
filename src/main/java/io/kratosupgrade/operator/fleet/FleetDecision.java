package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeStatus;
import io.kratosupgrade.operator.lifecycle.Decision;
import java.time.Duration;
import java.util.List;

/** A fleet reconcile's outcome: write {@link #status}, then carry out {@link #actions}, then record {@link #events}. */
public record FleetDecision(KratosFleetUpgradeStatus status, List<FleetAction> actions, List<Decision.Event> events,
                            Duration requeueAfter) {
}
