package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.PodImages;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.List;

/** Every ready Kratos pod must run the target image, and as many must be ready as the Deployment wants. */
public class VerifyingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Verifying;
    }

    @Override
    public void enter(RunContext ctx) {
        StepStatus verification = new StepStatus();
        verification.setStartedAt(ctx.nowText());
        ctx.status().setVerification(verification);
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        List<Pod> pods = ctx.observed().deploymentPods();
        String image = ctx.status().getToImage();
        List<String> stale = PodImages.readyPodsNotRunning(pods, ctx.status().getContainerName(), image);
        long ready = PodImages.readyCount(pods);
        Integer desired = ctx.observed().deployment() == null ? null : ctx.observed().deployment().getSpec().getReplicas();
        int wanted = desired == null ? 1 : desired;
        if (stale.isEmpty() && ready >= wanted) {
            ctx.status().getVerification().setFinishedAt(ctx.nowText());
            return PhaseOutcome.advance(Phase.Succeeded, "Verified", "upgraded to " + ctx.status().getToVersion() + ": all "
                    + ready + " ready pods run " + image);
        }
        String problem = !stale.isEmpty() ? "ready pods still run another image: " + String.join(", ", stale)
                : ready + " of " + wanted + " pods are ready";
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getRollout().getStartedAt(), timeout);
        if (left.isNegative()) {
            return Failures.fail(ctx, "VerificationFailed", problem);
        }
        Duration recheck = ctx.settings().podRecheck();
        return PhaseOutcome.stay("verifying: " + problem, left.compareTo(recheck) < 0 ? left : recheck);
    }
}
