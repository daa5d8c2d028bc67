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
     * Freezing (BlueGreen copy Dump), BackingUp, Migrating (backup Skip); failure: Failed.
     */
    Preflight(ConditionTypes.PREFLIGHT_PASSED),
    /**
     * The plan waits for an approval naming its hash; nothing is touched but the Deployment's lock.
     * Exits: ScalingDown (Recreate), Freezing (BlueGreen copy Dump), BackingUp, Migrating (backup Skip); failure: Failed.
     */
    AwaitingApproval(ConditionTypes.APPROVED),
    /**
     * BlueGreen copy Replication: one Job copies the schema into the target, publishes the old database's tables,
     * subscribes the target to them and waits for the initial copy; the subscription then keeps the target in sync while
     * the old side serves. Exits: Freezing; failure: SwitchingBack (drops the subscription, empties the target).
     */
    Replicating(ConditionTypes.REPLICA_SYNCED),
    /**
     * BlueGreen: one Job checks the target database (reachable, a server as new as the old one, empty unless it is the
     * replica), then takes the old database user's write privileges in one transaction that first waits for the writes
     * in flight; reads go on. Exits: BackingUp (copy Dump), Copying (copy Replication); failure: SwitchingBack (gives
     * the privileges back).
     */
    Freezing(ConditionTypes.WRITES_FROZEN),
    /**
     * Recreate: replicas to zero, then wait until no pod of the Deployment exists (terminating ones included).
     * Exits: BackingUp (first hop), Migrating (backup Skip, later hops); failure: RollingBack (restores the
     * replicas).
     */
    ScalingDown(ConditionTypes.SCALED_DOWN),
    /**
     * The dump Job (in a Rolling run with no approval it inspects the database first, for preflight). Exits:
     * VerifyingBackup, Rehearsing, Copying or Replicating (BlueGreen) or Migrating (see {@link #afterBackupStep}); failure: Failed
     * under Rolling (Deployment untouched, also when the inspection refuses the database), RollingBack under Recreate
     * (restores the replicas), SwitchingBack under BlueGreen (ends the freeze).
     */
    BackingUp(ConditionTypes.BACKED_UP),
    /**
     * Restores the dump into a throw-away server inside a Job's pod and compares row counts with the dump's snapshot.
     * Exits: Rehearsing, Replicating (BlueGreen) or Migrating; failure (BackupUnverified): as BackingUp.
     */
    VerifyingBackup(ConditionTypes.BACKUP_VERIFIED),
    /**
     * Runs every hop's migration on a restored copy inside a Job's pod. Exits: Migrating; failure
     * (RehearsalFailed): as BackingUp.
     */
    Rehearsing(ConditionTypes.REHEARSED),
    /**
     * BlueGreen copy Dump: the dump restored into the target database in one transaction, its row counts checked
     * against the dump's snapshot (this verifies the backup). Copy Replication: the last changes waited for, the
     * subscription, slot and publication dropped, the tables replication does not carry copied, row counts compared
     * with the frozen old database. Exits: Migrating (the target); failure: SwitchingBack.
     */
    Copying(ConditionTypes.DATABASE_COPIED),
    /**
     * The migration Job with the hop's image (BlueGreen: on the target database). Exits: RollingOut, AwaitingRollout
     * (Gate), MigratingData or StartingNewSide (BlueGreen); failure: as BackingUp (on a later hop of a Rolling run the Deployment serves
     * the previous hop's verified release and stays so).
     */
    Migrating(ConditionTypes.MIGRATED),
    /**
     * BlueGreen, when the product's release notes ask for a data migration after the schema migration (Keto v0.6 to
     * v0.7: {@code keto namespace migrate legacy}): one Job of the target image on the target database, started again
     * after a failure up to spec.migration.dataMigrationAttempts times, unless it reported records it cannot move.
     * Exits: StartingNewSide; failure: SwitchingBack.
     */
    MigratingData(ConditionTypes.DATA_MIGRATED),
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
     * BlueGreen: pins the Services to the old pods (their pod-template-hash), then creates the new Deployment (the
     * old one's clone with the target image and database) and waits until all its pods are ready and run the target
     * image. Exits: Switching; failure: SwitchingBack.
     */
    StartingNewSide(ConditionTypes.NEW_SIDE_READY),
    /** BlueGreen: every Service moves to the new pods in one patch each. Exits: KeepingOld; failure: SwitchingBack. */
    Switching(ConditionTypes.TRAFFIC_SWITCHED),
    /**
     * BlueGreen: the new side serves; the old one stays up, write-frozen, for keepOldFor, the way back. Exits:
     * Finalizing (keepOldFor passed, or the finalize annotation), SwitchingBack (the switch-back annotation, or the new
     * Deployment disappeared); failure: SwitchingBack.
     */
    KeepingOld(ConditionTypes.OLD_SIDE_KEPT),
    /**
     * BlueGreen: the old Deployment scaled to zero or deleted, the Services given their own selectors back (only the
     * new pods match them then), and, if asked, the old database's write privileges restored. Exits: Succeeded;
     * failure: Failed (the new side serves whatever failed).
     */
    Finalizing(ConditionTypes.OLD_SIDE_RELEASED),
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
    /**
     * BlueGreen's way back: the Services select the old pods again, the old database user gets its write privileges
     * back, the new Deployment is deleted, and a target database that never served is emptied (unless kept). Exits:
     * RolledBack; failure: Failed.
     */
    SwitchingBack(ConditionTypes.SWITCHED_BACK),
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
            case Pending, Preflight, AwaitingApproval, Replicating, Freezing, ScalingDown, BackingUp, VerifyingBackup, Rehearsing, Copying,
                 Migrating, MigratingData, AwaitingRollout, RollingOut, Verifying, StartingNewSide, Switching, KeepingOld, Finalizing,
                 RestoringDatabase, RollingBack, SwitchingBack -> false;
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
            case Preflight -> EnumSet.of(Planned, AwaitingApproval, ScalingDown, Freezing, BackingUp, Migrating, Failed);
            case AwaitingApproval -> EnumSet.of(ScalingDown, Freezing, BackingUp, Migrating, Failed);
            case Replicating -> EnumSet.of(Freezing, SwitchingBack);
            case Freezing -> EnumSet.of(BackingUp, Copying, SwitchingBack);
            case ScalingDown -> EnumSet.of(BackingUp, Migrating, RollingBack);
            case BackingUp -> EnumSet.of(VerifyingBackup, Rehearsing, Copying, Replicating, Migrating, Failed, RollingBack, SwitchingBack);
            case VerifyingBackup -> EnumSet.of(Rehearsing, Replicating, Migrating, Failed, RollingBack);
            case Rehearsing -> EnumSet.of(Migrating, Failed, RollingBack);
            case Copying -> EnumSet.of(Migrating, SwitchingBack);
            case Migrating -> EnumSet.of(RollingOut, AwaitingRollout, MigratingData, StartingNewSide, Failed, RollingBack, SwitchingBack);
            case MigratingData -> EnumSet.of(StartingNewSide, SwitchingBack);
            case AwaitingRollout -> EnumSet.of(RollingOut, Failed);
            case RollingOut -> EnumSet.of(Verifying, RestoringDatabase, RollingBack, Failed);
            case Verifying -> EnumSet.of(Succeeded, Migrating, ScalingDown, RestoringDatabase, RollingBack, Failed);
            case StartingNewSide -> EnumSet.of(Switching, SwitchingBack);
            case Switching -> EnumSet.of(KeepingOld, SwitchingBack);
            case KeepingOld -> EnumSet.of(Finalizing, SwitchingBack);
            case Finalizing -> EnumSet.of(Succeeded, Failed);
            case RestoringDatabase -> EnumSet.of(RollingBack);
            case RollingBack, SwitchingBack -> EnumSet.of(RolledBack, Failed);
            case Succeeded, Planned, Failed, RolledBack -> EnumSet.of(Pending);
        };
    }

    /**
     * The step after the backup or one of the safety steps that follow it: the dump is verified, then the migration
     * rehearsed on a copy, each when the spec asks for it and the database supports it (PostgreSQL), then production
     * is migrated.
     *
     * Under BlueGreen copy Dump the dump goes into the target database instead: restoring it there with its counts
     * checked verifies it, and migrating the copy is the rehearsal. Under copy Replication the dump of the live database
     * is verified when asked, then replication starts (migrating the replica is the rehearsal).
     *
     * @param completed BackingUp, VerifyingBackup or Rehearsing
     * @param postgres  whether the database is PostgreSQL (the only one verification and rehearsal support)
     */
    public static Phase afterBackupStep(Phase completed, Strategy strategy, KratosUpgradeSpec spec, boolean postgres) {
        if (strategy == Strategy.BlueGreen) {
            if (spec.getBlueGreen() == null || !spec.getBlueGreen().replicates()) return Copying;
            return completed == BackingUp && postgres && spec.getBackup().verifies() ? VerifyingBackup : Replicating;
        }
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
     * <li>in Gate mode the caller passes rollback None: the operator never writes the Deployment;</li>
     * <li>BlueGreen, once the freeze started: SwitchingBack, whatever the rollback policy (the old side is the way
     *     back and was never changed); a failed switch back, or a failed finalization, is Failed.</li>
     * </ul>
     *
     * @throws IllegalStateException for a terminal phase, where nothing runs that could fail
     */
    public Phase onFailure(Strategy strategy, RollbackPolicy rollback) {
        if (strategy == Strategy.BlueGreen && (this == BackingUp || this == Migrating)) {
            return SwitchingBack;
        }
        return switch (this) {
            case Pending, Preflight, AwaitingApproval, AwaitingRollout, RollingBack, SwitchingBack, Finalizing -> Failed;
            case Replicating, Freezing, Copying, MigratingData, StartingNewSide, Switching, KeepingOld -> SwitchingBack;
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
            case ScalingDown, Replicating, Freezing, Copying, MigratingData, RollingOut, Verifying, StartingNewSide, Switching, KeepingOld, Finalizing,
                 RestoringDatabase, RollingBack, SwitchingBack, Succeeded, Failed, RolledBack -> false;
        };
    }
}
