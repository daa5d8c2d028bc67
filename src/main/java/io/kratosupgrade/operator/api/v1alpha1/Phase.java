package io.kratosupgrade.operator.api.v1alpha1;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The phases of one upgrade run. Everything that routes a run lives here, in exhaustive switches (a new
 * phase does not compile until each one says what it does): the transitions a phase allows, where a failure
 * in it goes for each strategy and rollback policy, whether the Deployment is still as the run found it,
 * and the step condition the phase reports on. Each constant documents its exits.
 *
 * <p>A run whose target changes while it is active finishes the step in progress; at the next step boundary
 * where the Deployment is untouched it ends as superseded and the new target starts at Pending.
 */
public enum Phase {
    /** Run accepted, nothing checked. Exits: Preflight; failure: Failed. */
    Pending(null),
    /**
     * Checks what can be checked before touching anything and writes the plan, then takes the Deployment.
     * Exits: Planned (dry run, nothing taken), AwaitingApproval (approval required), ScalingDown (Recreate),
     * BackingUp, Migrating (backup Skip); failure: Failed.
     */
    Preflight(ConditionTypes.PREFLIGHT_PASSED),
    /**
     * The plan waits for an approval naming its hash; nothing is touched but the Deployment's lock.
     * Exits: ScalingDown (Recreate), BackingUp, Migrating (backup Skip); failure: Failed.
     */
    AwaitingApproval(ConditionTypes.APPROVED),
    /**
     * Recreate: replicas to zero, then wait until no pod of the Deployment exists (terminating ones included).
     * Exits: BackingUp (first hop), Migrating (backup Skip, later hops); failure: RollingBack (restores the
     * replicas).
     */
    ScalingDown(ConditionTypes.SCALED_DOWN),
    /**
     * The dump Job (in a Rolling run with no approval it inspects the database first, for preflight). Exits:
     * VerifyingBackup, Rehearsing or Migrating (see {@link #afterBackupStep}); failure: Failed under Rolling
     * (Deployment untouched, also when the inspection refuses the database), RollingBack under Recreate
     * (restores the replicas).
     */
    BackingUp(ConditionTypes.BACKED_UP),
    /**
     * Restores the dump into a throw-away server inside a Job's pod and compares row counts with the dump's snapshot.
     * Exits: Rehearsing or Migrating; failure (BackupUnverified): as BackingUp.
     */
    VerifyingBackup(ConditionTypes.BACKUP_VERIFIED),
    /**
     * Runs every hop's migration on a restored copy inside a Job's pod. Exits: Migrating; failure
     * (RehearsalFailed): as BackingUp.
     */
    Rehearsing(ConditionTypes.REHEARSED),
    /**
     * The migration Job with the hop's image. Exits: RollingOut, AwaitingRollout (Gate); failure: as BackingUp (on a
     * later hop of a Rolling run the Deployment serves the previous hop's verified release and stays so).
     */
    Migrating(ConditionTypes.MIGRATED),
    /**
     * Gate mode: the database is ready for the target and the run is Ready; it waits, without a deadline, for the
     * Deployment's owner (a GitOps tool) to roll it to the target release. Exits: RollingOut (the Deployment runs the
     * target); failure (UnmigratedRelease: it was rolled to another release): Failed.
     */
    AwaitingRollout(ConditionTypes.ROLLOUT_STARTED),
    /**
     * Target image (and, under Recreate, the original replicas) set, by the operator or, in Gate mode, by the
     * Deployment's owner; waits for a complete rollout.
     * Exits: Verifying; failure: RollingBack (rollback Image), RestoringDatabase (ImageAndDatabase) or Failed (None).
     */
    RollingOut(ConditionTypes.ROLLED_OUT),
    /**
     * Every ready pod must run the hop's image. Exits: Succeeded (last hop), Migrating (next hop, Rolling),
     * ScalingDown (next hop, Recreate); failure: as RollingOut.
     */
    Verifying(ConditionTypes.VERIFIED),
    /**
     * rollback ImageAndDatabase: when restoring loses nothing (or data loss is allowed), scales Kratos to zero and
     * restores the verified dump into the database in one transaction, counts checked; otherwise refuses. Exits:
     * RollingBack in every case (restored, refused, or failed: the transaction left the database as it was).
     */
    RestoringDatabase(ConditionTypes.DATABASE_RESTORED),
    /**
     * Restores the image the run found (or, on a stepped path, the last verified hop's) and the original replica
     * count. Exits: RolledBack; failure: Failed.
     */
    RollingBack(ConditionTypes.ROLLED_BACK),
    /** Terminal. Exits: Pending, only for a new target (spec change). */
    Succeeded(null),
    /** Terminal: a dry run wrote its plan and changed nothing. Exits: Pending, for a spec change or a retry request. */
    Planned(null),
    /** Terminal. Exits: Pending, for a new target or a retry request. */
    Failed(null),
    /** Terminal: the old release serves again. Exits: Pending, for a new target or a retry request. */
    RolledBack(null);

    private final String stepCondition;

    Phase(String stepCondition) {
        this.stepCondition = stepCondition;
    }

    public boolean isTerminal() {
        return switch (this) {
            case Succeeded, Planned, Failed, RolledBack -> true;
            case Pending, Preflight, AwaitingApproval, ScalingDown, BackingUp, VerifyingBackup, Rehearsing, Migrating,
                 AwaitingRollout, RollingOut, Verifying, RestoringDatabase, RollingBack -> false;
        };
    }

    /** The condition that reports on this phase's step, if it has one. */
    public Optional<String> stepCondition() {
        return Optional.ofNullable(stepCondition);
    }

    /** The phases this phase may move to; anything else is a programming error. */
    public Set<Phase> allowedNext() {
        return switch (this) {
            case Pending -> EnumSet.of(Preflight, Failed);
            case Preflight -> EnumSet.of(Planned, AwaitingApproval, ScalingDown, BackingUp, Migrating, Failed);
            case AwaitingApproval -> EnumSet.of(ScalingDown, BackingUp, Migrating, Failed);
            case ScalingDown -> EnumSet.of(BackingUp, Migrating, RollingBack);
            case BackingUp -> EnumSet.of(VerifyingBackup, Rehearsing, Migrating, Failed, RollingBack);
            case VerifyingBackup -> EnumSet.of(Rehearsing, Migrating, Failed, RollingBack);
            case Rehearsing -> EnumSet.of(Migrating, Failed, RollingBack);
            case Migrating -> EnumSet.of(RollingOut, AwaitingRollout, Failed, RollingBack);
            case AwaitingRollout -> EnumSet.of(RollingOut, Failed);
            case RollingOut -> EnumSet.of(Verifying, RestoringDatabase, RollingBack, Failed);
            case Verifying -> EnumSet.of(Succeeded, Migrating, ScalingDown, RestoringDatabase, RollingBack, Failed);
            case RestoringDatabase -> EnumSet.of(RollingBack);
            case RollingBack -> EnumSet.of(RolledBack, Failed);
            case Succeeded, Planned, Failed, RolledBack -> EnumSet.of(Pending);
        };
    }

    /**
     * The step after the backup or one of the safety steps that follow it: the dump is verified, then the migration
     * rehearsed on a copy, each when the spec asks for it and the database supports it (PostgreSQL), then production
     * is migrated.
     *
     * @param completed BackingUp, VerifyingBackup or Rehearsing
     * @param postgres  whether the database is PostgreSQL (the only one verification and rehearsal support)
     */
    public static Phase afterBackupStep(Phase completed, KratosUpgradeSpec spec, boolean postgres) {
        boolean verify = postgres && spec.getBackup().verifies();
        boolean rehearse = postgres && spec.rehearses();
        return switch (completed) {
            case BackingUp -> verify ? VerifyingBackup : rehearse ? Rehearsing : Migrating;
            case VerifyingBackup -> rehearse ? Rehearsing : Migrating;
            case Rehearsing -> Migrating;
            default -> throw new IllegalArgumentException(completed + " is not a backup step");
        };
    }

    public boolean canMoveTo(Phase next) {
        return allowedNext().contains(next);
    }

    /**
     * Where a failure in this phase takes the run:
     * <ul>
     * <li>before the Deployment was touched: Failed, the old release keeps serving;</li>
     * <li>after Recreate scaled the Deployment down but before the image changed: RollingBack, which restores
     *     the replica count of the unchanged old release (always: that outage was the operator's own doing);</li>
     * <li>once the image changed: RollingBack with rollback Image, RestoringDatabase with ImageAndDatabase (which
     *     then rolls back the image), Failed with None;</li>
     * <li>a failed rollback: Failed;</li>
     * <li>in Gate mode the caller passes rollback None: the operator never writes the Deployment.</li>
     * </ul>
     *
     * @throws IllegalStateException for a terminal phase, where nothing runs that could fail
     */
    public Phase onFailure(Strategy strategy, RollbackPolicy rollback) {
        return switch (this) {
            case Pending, Preflight, AwaitingApproval, AwaitingRollout, RollingBack -> Failed;
            case RestoringDatabase -> RollingBack;
            case ScalingDown -> RollingBack;
            case BackingUp, VerifyingBackup, Rehearsing, Migrating -> strategy == Strategy.Recreate ? RollingBack : Failed;
            case RollingOut, Verifying -> switch (rollback) {
                case Image -> RollingBack;
                case ImageAndDatabase -> RestoringDatabase;
                case None -> Failed;
            };
            case Succeeded, Planned, Failed, RolledBack -> throw new IllegalStateException(this + " is terminal: nothing in it can fail");
        };
    }

    /**
     * True while the Deployment still runs exactly what the run found (image and replicas), so the run can be
     * abandoned (superseded, deleted) without leaving anything half-done.
     */
    public boolean deploymentUntouched(Strategy strategy) {
        return switch (this) {
            case Pending, Preflight, AwaitingApproval, AwaitingRollout, Planned -> true;
            case BackingUp, VerifyingBackup, Rehearsing, Migrating -> strategy == Strategy.Rolling;
            case ScalingDown, RollingOut, Verifying, RestoringDatabase, RollingBack, Succeeded, Failed, RolledBack -> false;
        };
    }
}
