package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.List;

/**
 * Sets the new image (and, for Recreate, the original replica count) and waits for a complete rollout. In Gate mode
 * the Deployment's owner set it: the run only waits, and fails if the template leaves the target release.
 */
public class RollingOutHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.RollingOut;
    }

    @Override
    public void enter(RunContext ctx) {
        ctx.status().getRollout().setStartedAt(ctx.nowText());
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        Deployment deployment = ctx.observed().deployment();
        String container = ctx.status().getContainerName();
        if (!DeploymentRollout.hasContainer(deployment, container)) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName()
                    + " or its container " + container + " disappeared during the rollout");
        }
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getRollout().getStartedAt(), timeout);
        Integer replicas = ctx.strategy() == Strategy.Recreate ? ctx.status().getRollout().getOriginalReplicas() : null;
        String image = ctx.hop().getImage();
        if (ctx.gate()) {
            // The owner rolled it; if it moves away from the target again, that is reported, never corrected.
            if (!ctx.templateVersion().map(v -> v.equals(KratosVersion.parse(ctx.hop().getVersion()))).orElse(false)) {
                return AwaitingRolloutHandler.unmigratedRelease(ctx, ctx.templateImage().orElse("?"), ctx.templateVersion());
            }
        }
        List<Action> patches = ctx.gate() ? List.of() : DeploymentRollout.patchesTowards(deployment, container, image, replicas);
        if (!patches.isEmpty()) {
            return PhaseOutcome.stay(ctx.hopLabel() + "setting image " + image + " on Deployment " + ctx.spec().getDeploymentName(),
                    left, patches.toArray(Action[]::new));
        }
        RolloutCheck check = RolloutCheck.of(deployment);
        Integer ready = deployment.getStatus() == null ? null : deployment.getStatus().getReadyReplicas();
        // Under Recreate every pod is the new release's; under Rolling a complete rollout is the first sure sign.
        boolean newReleaseReady = check.complete() || (ctx.strategy() == Strategy.Recreate && ready != null && ready > 0);
        if (newReleaseReady && ctx.status().getRollout().getNewReleaseReadyAt() == null) {
            ctx.status().getRollout().setNewReleaseReadyAt(ctx.nowText());
        }
        if (check.complete()) {
            ctx.status().getRollout().setFinishedAt(ctx.nowText());
            return PhaseOutcome.advance(Phase.Verifying, "RolloutComplete", ctx.hopLabel() + check.message());
        }
        if (check.failed()) {
            return Failures.fail(ctx, "RolloutFailed", check.message());
        }
        if (left.isNegative()) {
            return Failures.fail(ctx, "RolloutTimeout", "the rollout of " + image + " did not complete within "
                    + ctx.spec().getRollout().getTimeout() + ": " + check.message());
        }
        return PhaseOutcome.stay(ctx.hopLabel() + "rolling out " + ctx.hop().getVersion() + ": " + check.message(), left);
    }
}
