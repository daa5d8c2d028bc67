package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.List;

/**
 * BlueGreen: every Service recorded in preflight selects the new side's colour instead of the old pods' hash, one
 * patch each, all in one pass; the next pass sees them moved and ends the freeze as of the patches (status.blueGreen
 * .switchedAt, written before them): from then on writes go to the new database.
 */
public class SwitchingHandler implements PhaseHandler {

    static final Duration SELECTOR_RECHECK = Duration.ofMillis(500);

    @Override
    public Phase phase() {
        return Phase.Switching;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        List<Action> moves = BlueGreenTraffic.toNewSide(ctx);
        if (!moves.isEmpty()) {
            // The moment traffic moves, written before the patches; nothing watches Services, so look again soon.
            if (blueGreen.getSwitchedAt() == null) blueGreen.setSwitchedAt(Times.formatMillis(ctx.now()));
            return PhaseOutcome.stay("moving Services " + BlueGreenTraffic.names(blueGreen) + " to Deployment "
                    + blueGreen.getNewDeployment(), SELECTOR_RECHECK, moves.toArray(Action[]::new));
        }
        if (blueGreen.getSwitchedAt() == null) blueGreen.setSwitchedAt(Times.formatMillis(ctx.now()));
        BlueGreenFreeze.end(ctx, Times.parse(blueGreen.getSwitchedAt()));
        Duration keep = Times.goDuration(ctx.blueGreen().getKeepOldFor());
        blueGreen.setKeepOldUntil(Times.format(ctx.now().plus(keep)));
        return PhaseOutcome.advance(Phase.KeepingOld, "TrafficSwitched", "Services " + BlueGreenTraffic.names(blueGreen)
                + " now select Deployment " + blueGreen.getNewDeployment() + "; writes were frozen for " + blueGreen.getFreezeSeconds()
                + " s; the old side stays up, write-frozen, until " + blueGreen.getKeepOldUntil() + " (annotate "
                + "kratos-upgrade.io/switch-back=" + ctx.run() + " to move back, losing what is written on the new side)");
    }
}
