package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.resources.DeploymentLock;
import io.kratosupgrade.operator.resources.Labels;
import java.util.ArrayList;
import java.util.List;

/**
 * A finished run gives the Deployment back, once, and deletes the Jobs of runs older than the last
 * {@code keptJobRuns} (their dump files stay on the backup volume); it then waits for a new target or a retry.
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
        var deployment = ctx.observed().deployment();
        if (deployment != null && DeploymentLock.heldBy(deployment, ctx.upgrade().getMetadata().getName())) {
            actions.add(new Action.UnlockDeployment(deployment.getMetadata().getName()));
        }
        int oldestKept = ctx.run() - ctx.settings().keptJobRuns() + 1;
        ctx.observed().jobs().values().stream()
                .filter(job -> runOf(job) < oldestKept)
                .map(job -> new Action.DeleteJob(job.getMetadata().getName()))
                .forEach(actions::add);
        return PhaseOutcome.stay(ctx.status().getMessage(), null, actions.toArray(Action[]::new));
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
