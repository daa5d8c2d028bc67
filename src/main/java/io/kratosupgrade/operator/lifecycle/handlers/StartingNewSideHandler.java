package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.NewSideBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * BlueGreen: the new side, started and proven before any traffic moves. The Services are first pinned to the old
 * pods (their pod-template-hash): the new pods carry the same labels, and would otherwise get traffic as soon as
 * they are ready. Then the new Deployment is created and the run waits for its complete rollout, every replica ready.
 * The Deployment informer wakes the run on the new Deployment's status writes (it is indexed by status.blueGreen). A new
 * pod in a crash loop or unable to pull its image fails the step at once: the old side's writes are frozen meanwhile.
 */
public class StartingNewSideHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.StartingNewSide;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        Deployment old = ctx.observed().deployment();
        if (old == null) return KratosTemplate.gone(ctx);
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getPhaseStartedAt(), timeout);
        if (blueGreen.getOldPodTemplateHash() == null) {
            Optional<String> hash = BlueGreenTraffic.oldPodTemplateHash(ctx.observed().deploymentPods());
            if (hash.isEmpty()) {
                return Failures.fail(ctx, "OldSideNotServing", "the ready pods of Deployment " + ctx.spec().getDeploymentName()
                        + " do not share one pod-template-hash (it is rolling out, or none is ready): the Services cannot be "
                        + "pinned to the old side before the new one starts");
            }
            blueGreen.setOldPodTemplateHash(hash.get());
            // Recorded before the Services are patched with it (write-ahead): the next pass pins them.
            return PhaseOutcome.continueNow("the old side's pods have pod-template-hash " + hash.get());
        }
        List<Action> actions = new ArrayList<>(BlueGreenTraffic.toOldSide(ctx));
        Deployment newSide = ctx.observed().blueGreen().newSide();
        if (newSide == null) {
            actions.add(new Action.CreateDeployment(NewSideBuilder.build(new NewSideBuilder.Input(ctx.upgrade(), old,
                    blueGreen.getNewDeployment(), ctx.status().getContainerName(), ctx.hop().getImage(),
                    ctx.blueGreen().getTargetDatabase(), blueGreen.getOldReplicas()))));
            return PhaseOutcome.stay("Services " + BlueGreenTraffic.names(blueGreen) + " pinned to the old pods; creating Deployment "
                    + blueGreen.getNewDeployment() + " with " + ctx.hop().getImage() + " on the target database", left,
                    actions.toArray(Action[]::new));
        }
        Object owner = newSide.getMetadata().getAnnotations() == null ? null
                : newSide.getMetadata().getAnnotations().get(Labels.UPGRADE_ANNOTATION);
        if (!Objects.equals(owner, ctx.upgrade().getMetadata().getName())) {
            return Failures.fail(ctx, "NewDeploymentExists", "Deployment " + blueGreen.getNewDeployment()
                    + " was created by someone else meanwhile; it is left alone (set spec.blueGreen.newDeploymentName)");
        }
        RolloutCheck check = RolloutCheck.of(newSide);
        Integer ready = newSide.getStatus() == null ? null : newSide.getStatus().getReadyReplicas();
        if (actions.isEmpty() && check.complete() && ready != null && ready >= blueGreen.getOldReplicas()) {
            return PhaseOutcome.advance(Phase.Switching, "NewSideReady", "Deployment " + blueGreen.getNewDeployment() + ": all "
                    + ready + " pods ready with " + ctx.hop().getImage() + " on the target database; switching Services "
                    + BlueGreenTraffic.names(blueGreen));
        }
        // Writes are frozen while this waits: a pod that cannot start without help ends the wait at once.
        Optional<JobOutcome.PodFailure> stuck = JobOutcome.stuck(ctx.observed().blueGreen().newSidePods());
        if (stuck.isPresent()) {
            return Failures.fail(ctx, "NewSideNotReady", "Deployment " + blueGreen.getNewDeployment() + " cannot become ready: "
                    + stuck.get().message());
        }
        if (check.failed() || left.isNegative()) {
            return Failures.fail(ctx, "NewSideNotReady", "Deployment " + blueGreen.getNewDeployment() + " did not become ready"
                    + (check.failed() ? "" : " within " + ctx.spec().getRollout().getTimeout()) + ": " + check.message());
        }
        return PhaseOutcome.stay("starting Deployment " + blueGreen.getNewDeployment() + ": " + check.message(), left,
                actions.toArray(Action[]::new));
    }
}
