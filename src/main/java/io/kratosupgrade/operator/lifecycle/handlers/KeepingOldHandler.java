package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import java.time.Duration;
import java.util.Map;

/**
 * BlueGreen: the new side serves, the old one waits, write-frozen, as the way back. An annotation naming this run
 * decides early: {@code kratos-upgrade.io/switch-back} moves traffic back, {@code kratos-upgrade.io/finalize} releases
 * the old side now. The run number in the value keeps an annotation left from an earlier run from deciding this one.
 */
public class KeepingOldHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.KeepingOld;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        if (ctx.observed().blueGreen().newSide() == null) {
            return Failures.fail(ctx, "NewSideGone", "Deployment " + blueGreen.getNewDeployment() + " disappeared while it served; "
                    + "moving the Services back to the old side");
        }
        if (annotated(ctx, KratosUpgrade.SWITCH_BACK_ANNOTATION)) {
            return PhaseOutcome.advance(Phase.SwitchingBack, "SwitchBackRequested", "switch back requested (annotation "
                    + KratosUpgrade.SWITCH_BACK_ANNOTATION + "): the old side serves again; writes made on the new side since "
                    + blueGreen.getSwitchedAt() + " stay in the target database only");
        }
        if (annotated(ctx, KratosUpgrade.FINALIZE_ANNOTATION)) {
            return PhaseOutcome.advance(Phase.Finalizing, "FinalizeRequested", "finalize requested (annotation "
                    + KratosUpgrade.FINALIZE_ANNOTATION + "): releasing the old side");
        }
        Duration left = ctx.remaining(blueGreen.getKeepOldUntil(), Duration.ZERO);
        if (left.isNegative() || left.isZero()) {
            return PhaseOutcome.advance(Phase.Finalizing, "KeepOldForPassed", "spec.blueGreen.keepOldFor ("
                    + ctx.blueGreen().getKeepOldFor() + ") passed: releasing the old side");
        }
        return PhaseOutcome.stay("Deployment " + blueGreen.getNewDeployment() + " serves; the old side is kept, write-frozen, until "
                + blueGreen.getKeepOldUntil() + " (annotate " + KratosUpgrade.SWITCH_BACK_ANNOTATION + "=" + ctx.run() + " to move back, "
                + KratosUpgrade.FINALIZE_ANNOTATION + "=" + ctx.run() + " to release it now)", left);
    }

    private static boolean annotated(RunContext ctx, String annotation) {
        Map<String, String> annotations = ctx.upgrade().getMetadata().getAnnotations();
        return annotations != null && String.valueOf(ctx.run()).equals(annotations.get(annotation));
    }
}
