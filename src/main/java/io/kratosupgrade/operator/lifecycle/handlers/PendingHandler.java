package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;

/** A run was accepted: go and check it. */
public class PendingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Pending;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        return PhaseOutcome.advance(Phase.Preflight, "RunStarted",
                "run " + ctx.run() + ": upgrading Deployment " + ctx.spec().getDeploymentName() + " to "
                        + ctx.spec().getVersion() + "; running preflight checks");
    }
}
