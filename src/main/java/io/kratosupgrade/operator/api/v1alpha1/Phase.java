package io.kratosupgrade.operator.api.v1alpha1;

import java.util.EnumSet;
import java.util.Set;

/**
 * The phases of one upgrade run, and the only transitions between them.
 *
 * <pre>
 * Pending     -> Preflight
 * Preflight   -> ScalingDown (Recreate) | BackingUp | Migrating (backup Skip) | Failed
 * ScalingDown -> BackingUp | Migrating (backup Skip) | RollingBack
 * BackingUp   -> Migrating | Failed (Rolling: Deployment untouched) | RollingBack (Recreate: restore replicas)
 * Migrating   -> RollingOut | Failed (Rolling) | RollingBack (Recreate)
 * RollingOut  -> Verifying | RollingBack (rollback Image) | Failed (rollback None)
 * Verifying   -> Succeeded | RollingBack (rollback Image) | Failed (rollback None)
 * RollingBack -> RolledBack | Failed (the rollback itself did not complete)
 * Succeeded, Failed, RolledBack are terminal: only a new target (spec change) or, after a failure,
 * a retry request starts a new run at Pending.
 * </pre>
 *
 * A run whose target changes while it is active finishes the step in progress; at the next step
 * boundary where the Deployment is untouched it ends as superseded and the new target starts at Pending.
 */
public enum Phase {
    Pending,
    Preflight,
    ScalingDown,
    BackingUp,
    Migrating,
    RollingOut,
    Verifying,
    RollingBack,
    Succeeded,
    Failed,
    RolledBack;

    private static final Set<Phase> TERMINAL = EnumSet.of(Succeeded, Failed, RolledBack);

    public boolean isTerminal() {
        return TERMINAL.contains(this);
    }

    /** The phases this phase may move to; anything else is a programming error. */
    public Set<Phase> allowedNext() {
        return switch (this) {
            case Pending -> EnumSet.of(Preflight);
            case Preflight -> EnumSet.of(ScalingDown, BackingUp, Migrating, Failed);
            case ScalingDown -> EnumSet.of(BackingUp, Migrating, RollingBack);
            case BackingUp -> EnumSet.of(Migrating, Failed, RollingBack);
            case Migrating -> EnumSet.of(RollingOut, Failed, RollingBack);
            case RollingOut, Verifying -> EnumSet.of(phaseAfter(this), RollingBack, Failed);
            case RollingBack -> EnumSet.of(RolledBack, Failed);
            case Succeeded, Failed, RolledBack -> EnumSet.of(Pending);
        };
    }

    public boolean canMoveTo(Phase next) {
        return allowedNext().contains(next);
    }

    /**
     * True while the Deployment still runs exactly what the run found (image and replicas), so the run
     * can be abandoned for a newer target without leaving anything half-done.
     */
    public boolean deploymentUntouched(Strategy strategy) {
        return switch (this) {
            case Pending, Preflight -> true;
            case BackingUp, Migrating -> strategy == Strategy.Rolling;
            default -> false;
        };
    }

    private static Phase phaseAfter(Phase phase) {
        return phase == RollingOut ? Verifying : Succeeded;
    }
}
