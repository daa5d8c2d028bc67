package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.api.v1alpha1.Phase;

/** The logic of one phase. Pure: reads the context, returns a {@link Step}. */
public interface PhaseHandler {

    Phase phase();

    /**
     * Called once when the run enters this phase, in the same status write as the transition: the place
     * to record names and start times before the next reconcile acts on them (write-ahead).
     */
    default void enter(RunContext ctx) {
    }

    Step handle(RunContext ctx);
}
