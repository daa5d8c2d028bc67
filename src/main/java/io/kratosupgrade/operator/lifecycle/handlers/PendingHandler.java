package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Step;

/** A run was accepted: go and check it. */
public class PendingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Pending;
    }

    @Override
    public Step handle(RunContext ctx) {
        return Step.advance(Phase.Preflight, "RunStarted",
                "run " + ctx.run() + ": upgrading Deployment " + ctx.spec().getDeploymentName() + " to "
                        + ctx.spec().getVersion() + "; running preflight checks");
    }
}
