package io.kratosupgrade.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.Optional;

/**
 * The conditions of a KratosUpgrade: Ready, Reconciling and Stalled as kstatus reads them (so Argo CD,
 * Flux and {@code kubectl wait} understand the object), and one condition per step.
 * lastTransitionTime changes only when a condition's status does.
 */
public final class Conditions {

    private Conditions() {
    }

    public static void set(KratosUpgradeStatus status, String type, String value, String reason, String message,
                           long generation, String now) {
        Optional<Condition> existing = get(status, type);
        String transition = existing.filter(c -> value.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime).orElse(now);
        Condition condition = new ConditionBuilder()
                .withType(type).withStatus(value).withReason(reason).withMessage(message == null ? "" : message)
                .withObservedGeneration(generation).withLastTransitionTime(transition).build();
        status.getConditions().removeIf(c -> type.equals(c.getType()));
        status.getConditions().add(condition);
    }

    public static Optional<Condition> get(KratosUpgradeStatus status, String type) {
        return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static void clearSteps(KratosUpgradeStatus status) {
        status.getConditions().removeIf(c -> ConditionTypes.STEPS.contains(c.getType()));
    }

    /**
     * Ready/Reconciling/Stalled for the phase the run is in now. Called after every decision, so it also
     * clears a {@link ConditionTypes#RECONCILE_ERROR} left by earlier failed reconciles.
     */
    public static void summarize(KratosUpgradeStatus status, long generation, String now) {
        Phase phase = status.getPhase();
        String reason = status.getFailureReason() == null ? phase.name() : status.getFailureReason();
        String message = status.getMessage();
        if (phase == Phase.Succeeded) {
            set(status, ConditionTypes.READY, "True", "Succeeded", message, generation, now);
            set(status, ConditionTypes.RECONCILING, "False", "Succeeded", "", generation, now);
            set(status, ConditionTypes.STALLED, "False", "Succeeded", "", generation, now);
        } else if (phase.isTerminal()) {
            set(status, ConditionTypes.READY, "False", reason, message, generation, now);
            set(status, ConditionTypes.RECONCILING, "False", phase.name(), "", generation, now);
            set(status, ConditionTypes.STALLED, "True", reason, message, generation, now);
        } else {
            set(status, ConditionTypes.READY, "False", "UpgradeInProgress", message, generation, now);
            set(status, ConditionTypes.RECONCILING, "True", phase.name(), message, generation, now);
            set(status, ConditionTypes.STALLED, "False", phase.name(), "", generation, now);
        }
        get(status, ConditionTypes.RECONCILE_ERROR).filter(c -> "True".equals(c.getStatus())).ifPresent(c ->
                set(status, ConditionTypes.RECONCILE_ERROR, "False", "Recovered", "reconciled after: " + c.getMessage(),
                        generation, now));
    }

    /**
     * A reconcile failed (an API error, a missing permission). The run's phase and step conditions are kept;
     * when the operator has given up retrying ({@code stalled}), kstatus readers see Stalled too.
     */
    public static void reconcileError(KratosUpgradeStatus status, long generation, String reason, String message,
                                      boolean stalled, String now) {
        set(status, ConditionTypes.RECONCILE_ERROR, "True", reason, message, generation, now);
        if (stalled) {
            set(status, ConditionTypes.STALLED, "True", reason, message, generation, now);
        }
    }
}
