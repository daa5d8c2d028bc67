package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of one reconcile, applied in this order by the reconciler: write {@link #status} (if it
 * changed), then carry out {@link #actions}, then record {@link #events} and {@link #transitions}.
 */
public record Decision(KratosUpgradeStatus status, List<Action> actions, List<Event> events,
                       List<Transition> transitions, Duration requeueAfter) {

    /** A Kubernetes Event to emit: Normal for progress, Warning for failures. */
    public record Event(boolean warning, String reason, String message) {
    }

    /**
     * A phase change, for metrics.
     *
     * @param runResult set when the transition ended a run (Succeeded, Failed, RolledBack or Superseded)
     * @param runSeconds the run's duration when it ended
     */
    public record Transition(Phase from, Phase to, boolean failed, Duration inPhase, String runResult, Duration runSeconds) {
    }
}
