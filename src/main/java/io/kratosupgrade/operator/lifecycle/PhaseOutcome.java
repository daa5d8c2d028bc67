package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.time.Duration;
import java.util.List;

/**
 * What a phase handler decided: stay in the phase (waiting, maybe acting), move on, or fail.
 * Handlers never write to the cluster themselves; they return actions.
 *
 * @param next         the next phase, or null to stay
 * @param failed       whether {@code next} is taken because the step failed
 * @param reason       CamelCase reason for conditions and events
 * @param message      what happened, for status and events (never a secret)
 * @param actions      side effects, carried out after status is written
 * @param requeueAfter when to look again if nothing else wakes the reconciler (deadlines), or null
 * @param events       Events to record besides the one of the transition (warnings found on the way)
 */
public record PhaseOutcome(Phase next, boolean failed, String reason, String message, List<Action> actions,
                           Duration requeueAfter, List<Decision.Event> events) {

    public static PhaseOutcome stay(String message, Duration requeueAfter, Action... actions) {
        return new PhaseOutcome(null, false, null, message, List.of(actions), requeueAfter, List.of());
    }

    /**
     * Stays, having recorded a result in status, and goes on at once: the phase's handler runs again in the same
     * pass, on the same observation, so the result and what follows from it are written together.
     */
    public static PhaseOutcome continueNow(String message, Action... actions) {
        return new PhaseOutcome(null, false, null, message, List.of(actions), Duration.ZERO, List.of());
    }

    public static PhaseOutcome advance(Phase next, String reason, String message, Action... actions) {
        return new PhaseOutcome(next, false, reason, message, List.of(actions), null, List.of());
    }

    static PhaseOutcome fail(Phase next, String reason, String message, List<Action> actions) {
        return new PhaseOutcome(next, true, reason, message, actions, null, List.of());
    }

    /** This outcome with {@code more} events after its own. */
    public PhaseOutcome withEvents(List<Decision.Event> more) {
        List<Decision.Event> all = new java.util.ArrayList<>(events);
        all.addAll(more);
        return new PhaseOutcome(next, failed, reason, message, actions, requeueAfter, List.copyOf(all));
    }

    /** This outcome with one more action after its own. */
    public PhaseOutcome withAction(Action more) {
        List<Action> all = new java.util.ArrayList<>(actions);
        all.add(more);
        return new PhaseOutcome(next, failed, reason, message, List.copyOf(all), requeueAfter, events);
    }

    /** This outcome, with the actions and events of {@code earlier} (an outcome of the same pass) before its own. */
    PhaseOutcome after(PhaseOutcome earlier) {
        List<Action> allActions = new java.util.ArrayList<>(earlier.actions);
        allActions.addAll(actions);
        List<Decision.Event> allEvents = new java.util.ArrayList<>(earlier.events);
        allEvents.addAll(events);
        return new PhaseOutcome(next, failed, reason, message, List.copyOf(allActions), requeueAfter, List.copyOf(allEvents));
    }

    public boolean continuesNow() {
        return next == null && Duration.ZERO.equals(requeueAfter);
    }

    public boolean transitions() {
        return next != null;
    }
}
