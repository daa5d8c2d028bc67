package io.kratosupgrade.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.List;
import java.util.Optional;

/**
 * The conditions of a KratosUpgrade: Ready, Reconciling and Stalled as kstatus reads them (so Argo CD,
 * Flux and {@code kubectl wait} understand the object), and one condition per step.
 * lastTransitionTime changes only when a condition's status does.
 */
public final class Conditions {

    public static final String READY = "Ready";
    public static final String RECONCILING = "Reconciling";
    public static final String STALLED = "Stalled";

    public static final String PREFLIGHT = "PreflightPassed";
    public static final String BACKED_UP = "BackedUp";
    public static final String MIGRATED = "Migrated";
    public static final String ROLLED_OUT = "RolledOut";
    public static final String VERIFIED = "Verified";
    public static final String ROLLED_BACK = "RolledBack";

    public static final List<String> STEP_TYPES = List.of(PREFLIGHT, BACKED_UP, MIGRATED, ROLLED_OUT, VERIFIED, ROLLED_BACK);

    private Conditions() {
    }

    /** The step condition a phase reports on; empty for phases with none. */
    public static Optional<String> forPhase(Phase phase) {
        return Optional.ofNullable(switch (phase) {
            case Preflight -> PREFLIGHT;
            case BackingUp -> BACKED_UP;
            case Migrating -> MIGRATED;
            case ScalingDown, RollingOut -> ROLLED_OUT;
            case Verifying -> VERIFIED;
            case RollingBack -> ROLLED_BACK;
            default -> null;
        });
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
        status.getConditions().removeIf(c -> STEP_TYPES.contains(c.getType()));
    }

    /** Ready/Reconciling/Stalled for the phase the run is in now. */
    public static void summarize(KratosUpgradeStatus status, long generation, String now) {
        Phase phase = status.getPhase();
        String reason = status.getFailureReason() == null ? phase.name() : status.getFailureReason();
        String message = status.getMessage();
        switch (phase) {
            case Succeeded -> {
                set(status, READY, "True", "Succeeded", message, generation, now);
                set(status, RECONCILING, "False", "Succeeded", "", generation, now);
                set(status, STALLED, "False", "Succeeded", "", generation, now);
            }
            case Failed, RolledBack -> {
                set(status, READY, "False", reason, message, generation, now);
                set(status, RECONCILING, "False", phase.name(), "", generation, now);
                set(status, STALLED, "True", reason, message, generation, now);
            }
            default -> {
                set(status, READY, "False", "UpgradeInProgress", message, generation, now);
                set(status, RECONCILING, "True", phase.name(), message, generation, now);
                set(status, STALLED, "False", phase.name(), "", generation, now);
            }
        }
    }
}
