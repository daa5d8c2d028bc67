package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import java.util.List;

/** Fails the current step; where the run goes is {@link io.kratosupgrade.operator.api.v1alpha1.Phase#onFailure}. */
public final class Failures {

    private Failures() {
    }

    public static PhaseOutcome fail(RunContext ctx, String reason, String message, Action... actions) {
        return PhaseOutcome.fail(ctx.status().getPhase().onFailure(ctx.strategy(), ctx.rollbackPolicy()),
                reason, message, List.of(actions));
    }
}
