package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.DeploymentPods;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.Labels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * BlueGreen's way back, after a failure or on request. In this order, each step observed before the next:
 * <ol>
 * <li>the run's Jobs still running against either database are stopped and waited for (a freeze that committed after
 *     the thaw would freeze the old side again);</li>
 * <li>copy Replication: the subscription, the replication slot and the publication are dropped (a slot left behind
 *     would keep the old server's WAL for ever), in the same Job that gives the old database user its write privileges
 *     back, before any traffic returns to the old side;</li>
 * <li>while the new Deployment exists, the Services select the old pods (when the run had pinned or switched them);</li>
 * <li>the new Deployment is deleted and its pods waited for;</li>
 * <li>the Services get their own selectors back (only the old pods match them then);</li>
 * <li>a target database that never served is emptied for a retry, unless spec.blueGreen.keepFailedTarget; one that
 *     served keeps what was written on the new side.</li>
 * </ol>
 */
public class SwitchingBackHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.SwitchingBack;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        List<Action> stops = new ArrayList<>();
        List<String> running = new ArrayList<>();
        Stream.of(blueGreen.getReplication(), blueGreen.getFreeze(), blueGreen.getCopy(), ctx.status().getMigration()).filter(s -> s != null && s.getJobName() != null)
                .forEach(step -> stopping(ctx, step, stops, running));
        if (!running.isEmpty()) {
            return PhaseOutcome.stay("switching back: waiting for Jobs " + String.join(", ", running) + " to stop", ctx.settings().podRecheck(),
                    stops.toArray(Action[]::new));
        }
        boolean thaw = blueGreen.getFreeze() != null && !Boolean.TRUE.equals(blueGreen.getOldWritesRestored());
        boolean detach = blueGreen.getReplication() != null && !Boolean.TRUE.equals(blueGreen.getReplicationDropped());
        if (thaw || detach) {
            BlueGreenJobs.Cleanup cleanup = BlueGreenJobs.cleanup(ctx, thaw ? "thaw" : "detach", thaw, false, detach, "switching back: "
                    + (detach ? "dropping the subscription, the replication slot and the publication" : "") + (detach && thaw ? ", " : "")
                    + (thaw ? "giving the old database user its write privileges back" : ""));
            if (cleanup.pending() != null) return cleanup.pending();
            if (detach) blueGreen.setReplicationDropped(true);
            if (!thaw) return PhaseOutcome.continueNow("switching back: replication stopped", cleanup.deleteSecret());
            blueGreen.setOldWritesRestored(true);
            Instant thawedAt = cleanup.report().hasNonNull("thawedAtMillis")
                    ? Instant.ofEpochMilli(cleanup.report().get("thawedAtMillis").asLong()) : ctx.now();
            BlueGreenFreeze.end(ctx, thawedAt);
            return PhaseOutcome.continueNow("switching back: the old database accepts writes again", cleanup.deleteSecret());
        }
        Deployment newSide = ctx.observed().blueGreen().newSide();
        if (newSide != null && blueGreen.getOldPodTemplateHash() != null) {
            List<Action> back = BlueGreenTraffic.toOldSide(ctx);
            if (!back.isEmpty()) {
                if (blueGreen.getSwitchedAt() != null && blueGreen.getSwitchedBackAt() == null) blueGreen.setSwitchedBackAt(Times.formatMillis(ctx.now()));
                return PhaseOutcome.stay("switching back: Services " + BlueGreenTraffic.names(blueGreen) + " select the old pods again",
                        ctx.settings().podRecheck(), back.toArray(Action[]::new));
            }
        }
        if (newSide != null && newSide.getMetadata().getDeletionTimestamp() == null && ownedByThisRun(ctx, newSide)) {
            return PhaseOutcome.stay("switching back: deleting Deployment " + blueGreen.getNewDeployment(), ctx.settings().podRecheck(),
                    new Action.DeleteDeployment(blueGreen.getNewDeployment()));
        }
        List<Pod> newPods = DeploymentPods.stillRunning(ctx.observed().blueGreen().newSidePods());
        if ((newSide != null && newSide.getMetadata().getDeletionTimestamp() != null) || !newPods.isEmpty()) {
            return PhaseOutcome.stay("switching back: waiting for the new side's pods to stop: " + DeploymentPods.describe(newPods),
                    ctx.settings().podRecheck());
        }
        List<Action> original = BlueGreenTraffic.toOriginal(ctx);
        if (!original.isEmpty()) {
            return PhaseOutcome.stay("switching back: Services " + BlueGreenTraffic.names(blueGreen) + " get their own selectors back",
                    ctx.settings().podRecheck(), original.toArray(Action[]::new));
        }
        boolean targetWritten = blueGreen.getCopy() != null || blueGreen.getReplication() != null;
        boolean emptyTarget = blueGreen.getSwitchedAt() == null && targetWritten && !ctx.blueGreen().isKeepFailedTarget()
                && !Boolean.TRUE.equals(blueGreen.getTargetEmptied());
        Action cleaned = null;
        if (emptyTarget) {
            BlueGreenJobs.Cleanup empty = BlueGreenJobs.cleanup(ctx, "empty-target", false, true, false, "switching back: emptying the target database");
            if (empty.pending() != null) return empty.pending();
            blueGreen.setTargetEmptied(true);
            cleaned = empty.deleteSecret();
        }
        String target = blueGreen.getSwitchedAt() != null ? "the target database keeps what was written on the new side since "
                + blueGreen.getSwitchedAt() : Boolean.TRUE.equals(blueGreen.getTargetEmptied()) ? "the target database was emptied for a retry"
                : targetWritten ? "the target database is kept as the run left it (spec.blueGreen.keepFailedTarget): empty it before a retry"
                : "the target database was not written";
        String why = ctx.status().getFailureReason() == null ? "on request" : "after: " + ctx.status().getFailureMessage();
        String reason = ctx.status().getFailureReason() == null ? "SwitchedBack" : ctx.status().getFailureReason();
        String message = "switched back " + why + ": Deployment " + ctx.spec().getDeploymentName() + " serves " + ctx.status().getFromImage()
                + " on the old database, which accepts writes again; " + target;
        return cleaned == null ? PhaseOutcome.advance(Phase.RolledBack, reason, message)
                : PhaseOutcome.advance(Phase.RolledBack, reason, message, cleaned);
    }

    /** A Job of this run that has not finished is suspended, and waited for until none of its pods runs. */
    private static void stopping(RunContext ctx, StepStatus step, List<Action> stops, List<String> running) {
        Optional<Job> job = ctx.observed().job(step.getJobName());
        if (job.isEmpty()) return;
        List<Pod> pods = ctx.observed().podsOf(step.getJobName());
        boolean active = !JobOutcome.of(job.get(), pods).finished();
        if (active) stops.add(new Action.SuspendJob(step.getJobName()));
        if (active || !DeploymentPods.stillRunning(pods).isEmpty()) running.add(step.getJobName());
    }

    private static boolean ownedByThisRun(RunContext ctx, Deployment newSide) {
        var annotations = newSide.getMetadata().getAnnotations();
        return annotations != null && ctx.upgrade().getMetadata().getName().equals(annotations.get(Labels.UPGRADE_ANNOTATION));
    }
}
