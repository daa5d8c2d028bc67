package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.OldSideAction;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.DeploymentPods;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import java.util.ArrayList;
import java.util.List;

/**
 * BlueGreen's end: the old database's write privileges back if asked (first: the old Deployment's template is what
 * that Job is built from), the old Deployment scaled to zero or deleted, and once its pods are gone the Services get
 * their own selectors back, which then match only the new pods. The old database is otherwise left as it is: the
 * state the new side started from.
 */
public class FinalizingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Finalizing;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        Deployment old = ctx.observed().deployment();
        String oldName = ctx.spec().getDeploymentName();
        if (ctx.blueGreen().isRestoreOldWrites() && !Boolean.TRUE.equals(blueGreen.getOldWritesRestored()) && old != null) {
            BlueGreenJobs.Cleanup thaw = BlueGreenJobs.cleanup(ctx, "thaw", true, false, false, "giving the old database user its write privileges back");
            if (thaw.pending() != null) return thaw.pending();
            blueGreen.setOldWritesRestored(true);
            return PhaseOutcome.continueNow("the old database user has its write privileges back", thaw.deleteSecret());
        }
        boolean delete = ctx.blueGreen().getOldDeployment() == OldSideAction.Delete;
        if (old != null && old.getMetadata().getDeletionTimestamp() == null) {
            if (delete) {
                return PhaseOutcome.stay("deleting the old Deployment " + oldName, ctx.settings().podRecheck(), new Action.DeleteDeployment(oldName));
            }
            if (old.getSpec().getReplicas() == null || old.getSpec().getReplicas() != 0) {
                return PhaseOutcome.stay("scaling the old Deployment " + oldName + " to zero", ctx.settings().podRecheck(),
                        new Action.PatchDeployment(oldName, DeploymentPatches.setReplicas(0), "replicas 0 (blue/green: old side released)"));
            }
        }
        List<Pod> running = DeploymentPods.stillRunning(ctx.observed().deploymentPods());
        if (!running.isEmpty() || (old != null && old.getMetadata().getDeletionTimestamp() != null)) {
            return PhaseOutcome.stay("waiting for the old side's pods to stop: " + DeploymentPods.describe(running), ctx.settings().podRecheck());
        }
        List<Action> actions = new ArrayList<>(BlueGreenTraffic.toOriginal(ctx));
        if (!actions.isEmpty()) {
            return PhaseOutcome.stay("giving Services " + BlueGreenTraffic.names(blueGreen) + " their own selectors back (only the new "
                    + "pods match them now)", ctx.settings().podRecheck(), actions.toArray(Action[]::new));
        }
        if (old == null) actions.add(new Action.ReleaseLock(oldName));
        return PhaseOutcome.advance(Phase.Succeeded, "OldSideReleased", "upgraded to " + ctx.hop().getVersion() + " (blue/green): "
                + "Deployment " + blueGreen.getNewDeployment() + " serves on the target database; the old Deployment " + oldName
                + (delete ? " was deleted" : " is scaled to zero") + "; the old database is kept as it was at the freeze"
                + (Boolean.TRUE.equals(blueGreen.getOldWritesRestored()) ? " (writable again)" : " (read-only for its user)")
                + ". Name " + blueGreen.getNewDeployment() + " in spec.deploymentName for the next upgrade", actions.toArray(Action[]::new));
    }
}
