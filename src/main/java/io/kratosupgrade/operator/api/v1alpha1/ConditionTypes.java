package io.kratosupgrade.operator.api.v1alpha1;

import java.util.List;

/** The condition types a KratosUpgrade reports: part of the API, so GitOps tools and scripts can wait on them. */
public final class ConditionTypes {

    /** kstatus: the last run succeeded and nothing is in progress. */
    public static final String READY = "Ready";
    /** kstatus: a run is in progress. */
    public static final String RECONCILING = "Reconciling";
    /** kstatus: the run ended without reaching its target, or the operator cannot make progress. */
    public static final String STALLED = "Stalled";
    /** True while reconciling this object keeps failing (API errors, missing permissions); the run's phase is kept. */
    public static final String RECONCILE_ERROR = "ReconcileError";

    public static final String PREFLIGHT_PASSED = "PreflightPassed";
    public static final String APPROVED = "Approved";
    public static final String SCALED_DOWN = "ScaledDown";
    public static final String BACKED_UP = "BackedUp";
    public static final String BACKUP_VERIFIED = "BackupVerified";
    public static final String REHEARSED = "Rehearsed";
    public static final String MIGRATED = "Migrated";
    /** Gate mode: the Deployment's owner rolled it to the target release. */
    public static final String ROLLOUT_STARTED = "RolloutStarted";
    public static final String ROLLED_OUT = "RolledOut";
    public static final String VERIFIED = "Verified";
    public static final String DATABASE_RESTORED = "DatabaseRestored";
    public static final String ROLLED_BACK = "RolledBack";
    /** BlueGreen steps. */
    public static final String REPLICA_SYNCED = "ReplicaSynced";
    public static final String WRITES_FROZEN = "WritesFrozen";
    public static final String DATABASE_COPIED = "DatabaseCopied";
    public static final String DATA_MIGRATED = "DataMigrated";
    public static final String NEW_SIDE_READY = "NewSideReady";
    public static final String TRAFFIC_SWITCHED = "TrafficSwitched";
    public static final String OLD_SIDE_KEPT = "OldSideKept";
    public static final String OLD_SIDE_RELEASED = "OldSideReleased";
    public static final String SWITCHED_BACK = "SwitchedBack";
    /** After a run succeeded: True while the Deployment runs an older release than the database was migrated for. */
    public static final String IMAGE_REVERTED = "ImageReverted";

    /** The conditions that describe one run's steps; a new run starts without them (and without ImageReverted). */
    public static final List<String> STEPS = List.of(PREFLIGHT_PASSED, APPROVED, SCALED_DOWN, BACKED_UP, BACKUP_VERIFIED, REHEARSED, MIGRATED,
            ROLLOUT_STARTED, ROLLED_OUT, VERIFIED, DATABASE_RESTORED, ROLLED_BACK, REPLICA_SYNCED, WRITES_FROZEN, DATABASE_COPIED, DATA_MIGRATED,
            NEW_SIDE_READY, TRAFFIC_SWITCHED, OLD_SIDE_KEPT, OLD_SIDE_RELEASED, SWITCHED_BACK);

    private ConditionTypes() {
    }
}
