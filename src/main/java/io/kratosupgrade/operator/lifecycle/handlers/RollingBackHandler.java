package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.List;

/**
 * Puts the Deployment back to the last release known to serve on this database: the image the run found or,
 * on a stepped path, the last verified hop's; with the original replica count. Then waits for that rollout. The database is not restored: Kratos releases serve on a schema
 * migrated by a newer release, the same situation a Rolling upgrade is in while it runs.
 */
public class RollingBackHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.RollingBack;
    }

    @Override
    public void enter(RunContext ctx) {
        StepStatus rollback = new StepStatus();
        rollback.setStartedAt(ctx.nowText());
        ctx.status().setRollback(rollback);
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        Deployment deployment = ctx.observed().deployment();
        String container = ctx.status().getContainerName();
        if (!DeploymentRollout.hasContainer(deployment, container)) {
            return Failures.fail(ctx, "RollbackFailed", "cannot roll back: Deployment "
                    + ctx.spec().getDeploymentName() + " or its container " + container + " is gone");
        }
        Integer original = ctx.status().getRollout() == null ? null : ctx.status().getRollout().getOriginalReplicas();
        HopStatus back = ctx.rollbackTarget();
        List<Action> patches = DeploymentRollout.patchesTowards(deployment, container, back.getImage(), original);
        Duration timeout = Times.goDuration(ctx.spec().getRollout().getTimeout());
        Duration left = ctx.remaining(ctx.status().getRollback().getStartedAt(), timeout);
        if (!patches.isEmpty()) {
            return PhaseOutcome.stay("restoring " + back.getImage() + " with " + original + " replicas", left,
                    patches.toArray(Action[]::new));
        }
        RolloutCheck check = RolloutCheck.of(deployment);
        if (check.complete()) {
            ctx.status().getRollback().setFinishedAt(ctx.nowText());
            return PhaseOutcome.advance(Phase.RolledBack, ctx.status().getFailureReason(), "rolled back: Deployment "
                    + ctx.spec().getDeploymentName() + " serves " + back.getImage() + " again after: "
                    + ctx.status().getFailureMessage());
        }
        if (left.isNegative() || check.failed()) {
            return Failures.fail(ctx, "RollbackFailed", "the rollback to " + back.getImage()
                    + " did not complete: " + check.message());
        }
        return PhaseOutcome.stay("rolling back to " + back.getVersion() + ": " + check.message(), left);
    }
}
