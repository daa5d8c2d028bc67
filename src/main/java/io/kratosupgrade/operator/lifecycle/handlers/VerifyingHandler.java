package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.PodImages;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.List;

/**
 * Every ready Kratos pod must run the target image, and as many must be ready as the Deployment wants.
 *
 * <p>Waiting for pods to be ready needs no polling: a pod's readiness moves the Deployment's readyReplicas and
 * availableReplicas, and the Deployment informer wakes the run on each of those status writes;
 * {@link #SAFETY_RECHECK} only guards against a missed event. A ready pod on another image after a complete
 * rollout is not one of the Deployment's replicas (they are all updated), so its going away changes nothing the
 * Deployment says: only then is the pods' list read again every pod-recheck.
 */
public class VerifyingHandler implements PhaseHandler {

    static final Duration SAFETY_RECHECK = Duration.ofMinutes(1);

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
        HopStatus hop = ctx.hop();
        String image = hop.getImage();
        List<String> stale = PodImages.readyPodsNotRunning(pods, ctx.status().getContainerName(), image);
        long ready = PodImages.readyCount(pods);
        Integer desired = ctx.observed().deployment() == null ? null : ctx.observed().deployment().getSpec().getReplicas();
        int wanted = desired == null ? 1 : desired;
        if (stale.isEmpty() && ready >= wanted) {
            ctx.status().getVerification().setFinishedAt(ctx.nowText());
            String label = ctx.hopLabel();
            hop.setVerifiedAt(ctx.nowText());
            if (ctx.hop() != hop) {
                // A stepped path goes on with the next release; Recreate stops Kratos again before its migration.
                Phase next = ctx.strategy() == Strategy.Recreate ? Phase.ScalingDown : Phase.Migrating;
                return PhaseOutcome.advance(next, "HopVerified", label + "all " + ready + " ready pods run " + image
                        + "; next: " + ctx.hop().getVersion());
            }
            return PhaseOutcome.advance(Phase.Succeeded, "Verified", "upgraded to " + hop.getVersion() + ": all "
                    + ready + " ready pods run " + image);
        }
        String problem = !stale.isEmpty() ? "ready pods still run another image: " + String.join(", ", stale)
                : ready + " of " + wanted + " pods are ready";
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getRollout().getStartedAt(), timeout);
        if (left.isNegative()) {
            return Failures.fail(ctx, "VerificationFailed", problem);
        }
        Duration recheck = stale.isEmpty() ? SAFETY_RECHECK : ctx.settings().podRecheck();
        return PhaseOutcome.stay(ctx.hopLabel() + "verifying: " + problem, left.compareTo(recheck) < 0 ? left : recheck);
    }
}
