package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.api.v1alpha1.Phase;

/**
 * The logic of one phase. No I/O: it reads the context, may fill in the run's working status (names, times,
 * results), and returns a {@link PhaseOutcome} whose actions the reconciler carries out after writing status.
 */
public interface PhaseHandler {

    Phase phase();

    /**
     * Called once when the run enters this phase, in the same status write as the transition: the place
     * to record names and start times before the next reconcile acts on them (write-ahead).
     */
    default void enter(RunContext ctx) {
    }

    PhaseOutcome handle(RunContext ctx);
}
