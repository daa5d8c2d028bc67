package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.kratosupgrade.operator.status.Conditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A finished run gives the Deployment back, once, and deletes the Jobs of runs older than the last
 * {@code keptJobRuns} (their dump files stay on the backup volume); it then waits for a new target or a retry.
 * After a success it keeps watching the Deployment: an image put back on an older release (a GitOps sync, a
 * person) is reported as ImageReverted and never patched again, so the operator and the Deployment's owner
 * cannot fight.
 */
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
    public PhaseOutcome handle(RunContext ctx) {
        List<Action> actions = new ArrayList<>();
        Deployment deployment = ctx.observed().deployment();
        String self = ctx.upgrade().getMetadata().getName();
        if (UpgradeLock.heldBy(ctx.observed().lock(), self)) {
            actions.add(new Action.ReleaseLock(ctx.spec().getDeploymentName()));
        }
        if (deployment != null && heldByLegacyLabel(deployment, self)) {
            List<String> present = List.of(Labels.LEGACY_LOCK_LABEL, Labels.LEGACY_MANAGED_LABEL).stream()
                    .filter(deployment.getMetadata().getLabels()::containsKey).toList();
            actions.add(new Action.PatchDeployment(deployment.getMetadata().getName(), DeploymentPatches.removeLabels(present),
                    "remove the lock labels of an older operator version"));
        }
        int oldestKept = ctx.run() - ctx.settings().keptJobRuns() + 1;
        ctx.observed().jobs().values().stream()
                .filter(job -> runOf(job) < oldestKept)
                .map(job -> new Action.DeleteJob(job.getMetadata().getName()))
                .forEach(actions::add);
        List<Decision.Event> events = phase == Phase.Succeeded ? watchForRevert(ctx) : List.of();
        return PhaseOutcome.stay(ctx.status().getMessage(), null, actions.toArray(Action[]::new)).withEvents(events);
    }

    /** ImageReverted follows the Deployment's release: True (with one Event) while it is older than the migrated one. */
    private static List<Decision.Event> watchForRevert(RunContext ctx) {
        // BlueGreen migrated a copy: spec.deploymentName is the old side, kept on the old release and the old database
        // (scaled to zero, or deleted) by design; it runs no old binary on a migrated schema.
        if (ctx.status().getStrategy() == Strategy.BlueGreen) return List.of();
        Optional<KratosVersion> running = ctx.templateVersion();
        if (running.isEmpty() || ctx.status().getToVersion() == null) return List.of();
        KratosVersion migrated = KratosVersion.parse(ctx.status().getToVersion());
        boolean reverted = running.get().compareTo(migrated) < 0;
        boolean wasReverted = Conditions.get(ctx.status(), ConditionTypes.IMAGE_REVERTED).filter(c -> "True".equals(c.getStatus())).isPresent();
        long generation = ctx.status().getRunGeneration();
        if (reverted && !wasReverted) {
            String message = "Deployment " + ctx.spec().getDeploymentName() + " was put back to " + ctx.templateImage().orElse("?")
                    + " after this run migrated the database for " + migrated + ": " + running.get() + " now runs on a schema it "
                    + "does not know. The operator does not touch it; roll forward to " + migrated + " in its source (Git), or "
                    + "restore the database from " + Optional.ofNullable(ctx.status().getBackup()).map(b -> b.getFile())
                    .orElse("a backup") + " if " + running.get() + " must stay";
            Conditions.set(ctx.status(), ConditionTypes.IMAGE_REVERTED, "True", "ImageReverted", message, generation, ctx.nowText());
            return List.of(new Decision.Event(true, "ImageReverted", message));
        }
        if (!reverted && wasReverted) {
            Conditions.set(ctx.status(), ConditionTypes.IMAGE_REVERTED, "False", "ImageCurrent", "Deployment "
                    + ctx.spec().getDeploymentName() + " runs " + running.get() + " again", generation, ctx.nowText());
        }
        return List.of();
    }

    /** The lock label an operator version before the Lease lock put on the Deployment, naming this object. */
    private static boolean heldByLegacyLabel(Deployment deployment, String self) {
        Map<String, String> labels = deployment.getMetadata().getLabels();
        return labels != null && Names.bounded(self, 63).equals(labels.get(Labels.LEGACY_LOCK_LABEL));
    }

    /** The run a Job belongs to (its run label); a Job without one is never pruned. */
    private static int runOf(Job job) {
        var labels = job.getMetadata().getLabels();
        try {
            return labels == null ? Integer.MAX_VALUE : Integer.parseInt(labels.getOrDefault(Labels.RUN, ""));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
