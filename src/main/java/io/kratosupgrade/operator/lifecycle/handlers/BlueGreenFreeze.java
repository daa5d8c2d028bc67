package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.time.Instant;

/** The write freeze's length: from the old database's revoke to the switch, or to the thaw when no switch came. */
final class BlueGreenFreeze {

    private BlueGreenFreeze() {
    }

    /** Records the end of the freeze once (a switch ends it; a later thaw of the old side does not). */
    static void end(RunContext ctx, Instant at) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        if (blueGreen.getFrozenAt() == null || blueGreen.getFreezeEndedAt() != null) return;
        blueGreen.setFreezeEndedAt(Times.formatMillis(at));
        long millis = Duration.between(Times.parse(blueGreen.getFrozenAt()), at).toMillis();
        blueGreen.setFreezeSeconds(Math.max(0, millis) / 1000.0);
    }
}
