package io.kratosupgrade.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The conditions of a KratosUpgrade: Ready, Reconciling and Stalled as kstatus reads them (so Argo CD,
 * Flux and {@code kubectl wait} understand the object), and one condition per step.
 * lastTransitionTime changes only when a condition's status does.
 */
public final class Conditions {

    /** Ready's reason in Gate mode once the database is ready for the target and the rollout is up to the owner. */
    public static final String READY_FOR_ROLLOUT = "ReadyForRollout";

    private Conditions() {
    }

    public static void set(KratosUpgradeStatus status, String type, String value, String reason, String message,
                           long generation, String now) {
        set(status.getConditions(), type, value, reason, message, generation, now);
    }

    /** Sets a condition in a list of conditions (of any kind of object). */
    public static void set(List<Condition> conditions, String type, String value, String reason, String message,
                           long generation, String now) {
        Optional<Condition> existing = conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
        String transition = existing.filter(c -> value.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime).orElse(now);
        Condition condition = new ConditionBuilder()
                .withType(type).withStatus(value).withReason(reason).withMessage(message == null ? "" : message)
                .withObservedGeneration(generation).withLastTransitionTime(transition).build();
        // In place: a condition that keeps its position leaves an unchanged status byte-for-byte unchanged.
        int index = IntStream.range(0, conditions.size()).filter(i -> type.equals(conditions.get(i).getType())).findFirst().orElse(-1);
        if (index < 0) {
            conditions.add(condition);
        } else {
            conditions.set(index, condition);
        }
    }

    public static Optional<Condition> get(KratosUpgradeStatus status, String type) {
        return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static void clearSteps(KratosUpgradeStatus status) {
        status.getConditions().removeIf(c -> ConditionTypes.STEPS.contains(c.getType())
                || ConditionTypes.IMAGE_REVERTED.equals(c.getType()));
    }

    /**
     * Ready/Reconciling/Stalled for the phase the run is in now. While a {@link ConditionTypes#RECONCILE_ERROR}
     * is active, Stalled belongs to it: only a reconcile that got through ({@link #recovered}) gives it back.
     */
    public static void summarize(KratosUpgradeStatus status, long generation, String now) {
        Phase phase = status.getPhase();
        String reason = status.getFailureReason() == null ? phase.name() : status.getFailureReason();
        String message = status.getMessage();
        boolean stalledByError = reconcileErrorActive(status);
        if (phase == Phase.Succeeded || phase == Phase.Planned) {
            set(status, ConditionTypes.READY, "True", phase.name(), message, generation, now);
            set(status, ConditionTypes.RECONCILING, "False", phase.name(), "", generation, now);
            if (!stalledByError) set(status, ConditionTypes.STALLED, "False", phase.name(), "", generation, now);
        } else if (phase == Phase.AwaitingRollout) {
            // Gate mode: the database is ready for the target; Ready lets Flux dependsOn and Argo CD waves go on.
            set(status, ConditionTypes.READY, "True", READY_FOR_ROLLOUT, message, generation, now);
            set(status, ConditionTypes.RECONCILING, "False", READY_FOR_ROLLOUT, "", generation, now);
            if (!stalledByError) set(status, ConditionTypes.STALLED, "False", READY_FOR_ROLLOUT, "", generation, now);
        } else if (phase == Phase.AwaitingApproval) {
            set(status, ConditionTypes.READY, "False", "AwaitingApproval", message, generation, now);
            set(status, ConditionTypes.RECONCILING, "True", "AwaitingApproval", message, generation, now);
            if (!stalledByError) set(status, ConditionTypes.STALLED, "False", "AwaitingApproval", "", generation, now);
        } else if (phase.isTerminal()) {
            set(status, ConditionTypes.READY, "False", reason, message, generation, now);
            set(status, ConditionTypes.RECONCILING, "False", phase.name(), "", generation, now);
            if (!stalledByError) set(status, ConditionTypes.STALLED, "True", reason, message, generation, now);
        } else {
            set(status, ConditionTypes.READY, "False", "UpgradeInProgress", message, generation, now);
            set(status, ConditionTypes.RECONCILING, "True", phase.name(), message, generation, now);
            if (!stalledByError) set(status, ConditionTypes.STALLED, "False", phase.name(), "", generation, now);
        }
    }

    public static boolean reconcileErrorActive(KratosUpgradeStatus status) {
        return status != null && get(status, ConditionTypes.RECONCILE_ERROR).filter(c -> "True".equals(c.getStatus())).isPresent();
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

    /** A reconcile got through after errors: the error condition goes and kstatus follows the phase again. */
    public static void recovered(KratosUpgradeStatus status, long generation, String now) {
        get(status, ConditionTypes.RECONCILE_ERROR).ifPresent(c -> set(status, ConditionTypes.RECONCILE_ERROR, "False",
                "Recovered", "reconciled after: " + c.getMessage(), generation, now));
        summarize(status, generation, now);
    }
}
