package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Step;
import io.kratosupgrade.operator.resources.DeploymentLock;

/** A finished run only gives the Deployment back, once; it then waits for a new target or a retry. */
public class TerminalHandler implements PhaseHandler {

    private final Phase phase;

    public TerminalHandler(Phase phase) {
        this.phase = phase;
    }

    @Override
    public Phase phase() {
        return phase;
    }

    @Override
    public Step handle(RunContext ctx) {
        var deployment = ctx.observed().deployment();
        if (deployment != null && DeploymentLock.heldBy(deployment, ctx.upgrade().getMetadata().getName())) {
            return Step.stay(ctx.status().getMessage(), null, new Action.UnlockDeployment(deployment.getMetadata().getName()));
        }
        return Step.stay(ctx.status().getMessage(), null);
    }
}
