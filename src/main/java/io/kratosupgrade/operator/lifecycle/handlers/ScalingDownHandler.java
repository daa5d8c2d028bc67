package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.DeploymentPods;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import java.time.Duration;
import java.util.List;

/**
 * Recreate: stop Kratos so the backup is consistent and nothing writes during the migration. The gate is
 * the pods themselves: the run moves on only when no pod of the Deployment exists any more, terminating
 * ones included (a pod draining in a preStop hook still serves and writes).
 */
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
    public PhaseOutcome handle(RunContext ctx) {
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName() + " disappeared");
        }
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getPhaseStartedAt(), timeout);
        Integer replicas = deployment.getSpec().getReplicas();
        if (replicas == null || replicas != 0) {
            return PhaseOutcome.stay("scaling Deployment " + ctx.spec().getDeploymentName() + " to zero", left,
                    new Action.PatchDeployment(ctx.spec().getDeploymentName(), DeploymentPatches.setReplicas(0), "replicas 0"));
        }
        List<Pod> running = DeploymentPods.stillRunning(ctx.observed().deploymentPods());
        if (running.isEmpty()) {
            // One backup per run, before the first hop.
            return PhaseOutcome.advance(ctx.backsUp() && ctx.hopIndex() == 0 ? Phase.BackingUp : Phase.Migrating, "ScaledDown",
                    "Deployment " + ctx.spec().getDeploymentName() + " scaled to zero; no " + ctx.product().displayName() + " pod exists any more");
        }
        String waiting = running.size() + " " + ctx.product().displayName() + " pods still exist: " + DeploymentPods.describe(running);
        if (left.isNegative()) {
            return Failures.fail(ctx, "ScaleDownTimeout", ctx.product().displayName() + " did not stop within " + ctx.spec().getRollout().getTimeout()
                    + " of scaling to zero: " + waiting);
        }
        Duration recheck = ctx.settings().podRecheck();
        return PhaseOutcome.stay("waiting for " + ctx.product().displayName() + " to stop: " + waiting, left.compareTo(recheck) < 0 ? left : recheck);
    }
}
