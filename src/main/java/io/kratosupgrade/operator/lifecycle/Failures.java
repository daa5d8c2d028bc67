package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import java.util.List;

/**
 * Where a failed step goes, in one place:
 * <ul>
 * <li>before the Deployment was touched (Preflight; BackingUp and Migrating under Rolling): Failed, the old
 *     release keeps serving;</li>
 * <li>after Recreate scaled the Deployment down but before the image changed: RollingBack, which restores
 *     the replica count of the unchanged old release (always: that outage was the operator's own doing);</li>
 * <li>during RollingOut and Verifying: RollingBack with rollback Image, Failed with None;</li>
 * <li>a failed rollback: Failed.</li>
 * </ul>
 */
public final class Failures {

    private Failures() {
    }

    public static Step fail(RunContext ctx, String reason, String message, Action... actions) {
        return Step.fail(destination(ctx), reason, message, List.of(actions));
    }

    static Phase destination(RunContext ctx) {
        Phase phase = ctx.status().getPhase();
        Strategy strategy = ctx.strategy();
        return switch (phase) {
            case ScalingDown, BackingUp, Migrating -> strategy == Strategy.Recreate ? Phase.RollingBack : Phase.Failed;
            case RollingOut, Verifying -> ctx.spec().getRollback().getOnFailure() == RollbackPolicy.Image
                    ? Phase.RollingBack : Phase.Failed;
            default -> Phase.Failed;
        };
    }
}
