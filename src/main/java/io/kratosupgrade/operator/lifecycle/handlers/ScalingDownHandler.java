package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Step;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import java.time.Duration;

/** Recreate: stop every Kratos pod so the backup is consistent and nothing writes during the migration. */
public class ScalingDownHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.ScalingDown;
    }

    @Override
    public void enter(RunContext ctx) {
        ctx.status().getRollout().setScaledDownAt(ctx.nowText());
    }

    @Override
    public Step handle(RunContext ctx) {
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName() + " disappeared");
        }
        if (RolloutCheck.scaledDown(deployment)) {
            return Step.advance(ctx.backsUp() ? Phase.BackingUp : Phase.Migrating, "ScaledDown",
                    "Deployment " + ctx.spec().getDeploymentName() + " scaled to zero; no Kratos pod is running");
        }
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getPhaseStartedAt(), timeout);
        if (left.isNegative()) {
            return Failures.fail(ctx, "ScaleDownTimeout", "Kratos pods were still running " + ctx.spec().getRollout().getTimeout()
                    + " after scaling to zero");
        }
        Integer replicas = deployment.getSpec().getReplicas();
        if (replicas == null || replicas != 0) {
            return Step.stay("scaling Deployment " + ctx.spec().getDeploymentName() + " to zero", left,
                    new Action.PatchDeployment(ctx.spec().getDeploymentName(), DeploymentPatches.setReplicas(0), "replicas 0"));
        }
        return Step.stay("waiting for Kratos pods to terminate", left);
    }
}
