package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything needed to resume a run lives here, written before the side effect it announces
 * (the operator can be killed at any instant and picks up from status alone).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KratosUpgradeStatus {

    @JsonPropertyDescription("Phase of the current (or last) run.")
    private Phase phase;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("Ready, Reconciling and Stalled (kstatus); ReconcileError while reconciling this object "
            + "keeps failing (API errors, missing permissions); and one condition per step of the current run: "
            + "PreflightPassed, Approved, ScaledDown (Recreate), BackedUp, BackupVerified, Rehearsed, Migrated, RolledOut, "
            + "Verified, DatabaseRestored, RolledBack; with strategy BlueGreen WritesFrozen, DatabaseCopied, NewSideReady, "
            + "TrafficSwitched, OldSideKept, OldSideReleased, SwitchedBack; ImageReverted after a run succeeded, while the Deployment runs an "
            + "older release than the one the database was migrated for.")
    private List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("What is happening, or what went wrong and what to do about it.")
    private String message;

    @JsonPropertyDescription("Number of the current run; increases by one for each new target or retry.")
    private Integer run;

    @JsonPropertyDescription("The metadata.generation whose spec the current run carries out.")
    private Long runGeneration;

    @JsonPropertyDescription("Value of the kratos-upgrade.io/retry annotation the current run was started for.")
    private String retryToken;

    @JsonPropertyDescription("Release the Deployment ran when the run started.")
    private String fromVersion;

    @JsonPropertyDescription("Image the Deployment ran when the run started (what a rollback restores).")
    private String fromImage;

    @JsonPropertyDescription("Target release of the current run.")
    private String toVersion;

    @JsonPropertyDescription("Target image of the current run.")
    private String toImage;

    @JsonPropertyDescription("Strategy of the current run, fixed when it starts: editing spec.strategy mid-run "
            + "affects the next run only.")
    private Strategy strategy;

    @JsonPropertyDescription("Mode of the current run, fixed when it starts (Managed or Gate).")
    private Mode mode;

    @JsonPropertyDescription("Kratos container the run acts on.")
    private String containerName;

    @JsonPropertyDescription("Newest release whose migrations this operator applied to the database; targets "
            + "below it are refused as downgrades.")
    private String databaseVersion;

    @JsonPropertyDescription("RFC 3339 time the current phase began (deadlines and phase durations count from it).")
    private String phaseStartedAt;

    @JsonPropertyDescription("RFC 3339 time the current run started.")
    private String startedAt;

    @JsonPropertyDescription("RFC 3339 time the current run ended.")
    private String finishedAt;

    @JsonPropertyDescription("Machine-readable reason of the current run's failure, if any.")
    private String failureReason;

    @JsonPropertyDescription("What went wrong in the current run, kept while a rollback overwrites message.")
    private String failureMessage;

    @JsonPropertyDescription("The upgrade plan, written by preflight before anything is touched.")
    private PlanStatus plan;

    @JsonPropertyDescription("What the read-only look at the database found (PostgreSQL, MySQL): preflight's inspection Job, or, in a Rolling run with no approval, the backup Job just before its dump (jobName says which).")
    private InspectionStatus inspection;

    @JsonPropertyDescription("The releases this run moves the Deployment to, in order (one for a Direct path); the "
            + "first hop without verifiedAt is the one in progress.")
    private List<HopStatus> hops = new ArrayList<>();

    @JsonPropertyDescription("The database backup step.")
    private BackupStatus backup;

    @JsonPropertyDescription("The migration rehearsed on a restored copy of the database (phase Rehearsing).")
    private RehearsalStatus rehearsal;

    @JsonPropertyDescription("The migration step.")
    private StepStatus migration;

    @JsonPropertyDescription("The data migration after the schema migration, when the upgrade needs one (Keto v0.6 to v0.7, "
            + "phase MigratingData).")
    private DataMigrationStatus dataMigration;

    @JsonPropertyDescription("The rollout step.")
    private RolloutStatus rollout;

    @JsonPropertyDescription("The verification step.")
    private StepStatus verification;

    @JsonPropertyDescription("The restore of the verified dump into the database (rollback ImageAndDatabase), when one "
            + "was decided on: restored, refused (it would have lost writes) or failed.")
    private RestoreStatus databaseRestore;

    @JsonPropertyDescription("The rollback, when one ran.")
    private StepStatus rollback;

    @JsonPropertyDescription("strategy BlueGreen: the new side, the Services moved, the write freeze and its length.")
    private BlueGreenStatus blueGreen;

    @JsonPropertyDescription("Past runs, newest first (bounded).")
    private List<RunRecord> history = new ArrayList<>();

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public Integer getRun() { return run; }
    public void setRun(Integer run) { this.run = run; }
    public Long getRunGeneration() { return runGeneration; }
    public void setRunGeneration(Long runGeneration) { this.runGeneration = runGeneration; }
    public String getRetryToken() { return retryToken; }
    public void setRetryToken(String retryToken) { this.retryToken = retryToken; }
    public String getFromVersion() { return fromVersion; }
    public void setFromVersion(String fromVersion) { this.fromVersion = fromVersion; }
    public String getFromImage() { return fromImage; }
    public void setFromImage(String fromImage) { this.fromImage = fromImage; }
    public String getToVersion() { return toVersion; }
    public void setToVersion(String toVersion) { this.toVersion = toVersion; }
    public String getToImage() { return toImage; }
    public void setToImage(String toImage) { this.toImage = toImage; }
    public Strategy getStrategy() { return strategy; }
    public void setStrategy(Strategy strategy) { this.strategy = strategy; }
    public Mode getMode() { return mode; }
    public void setMode(Mode mode) { this.mode = mode; }
    public String getFailureMessage() { return failureMessage; }
    public void setFailureMessage(String failureMessage) { this.failureMessage = failureMessage; }
    public String getContainerName() { return containerName; }
    public void setContainerName(String containerName) { this.containerName = containerName; }
    public String getDatabaseVersion() { return databaseVersion; }
    public void setDatabaseVersion(String databaseVersion) { this.databaseVersion = databaseVersion; }
    public String getPhaseStartedAt() { return phaseStartedAt; }
    public void setPhaseStartedAt(String phaseStartedAt) { this.phaseStartedAt = phaseStartedAt; }
    public String getStartedAt() { return startedAt; }
    public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
    public String getFinishedAt() { return finishedAt; }
    public void setFinishedAt(String finishedAt) { this.finishedAt = finishedAt; }
    public String getFailureReason() { return failureReason; }
    public void setFailureReason(String failureReason) { this.failureReason = failureReason; }
    public PlanStatus getPlan() { return plan; }
    public void setPlan(PlanStatus plan) { this.plan = plan; }
    public BlueGreenStatus getBlueGreen() { return blueGreen; }
    public void setBlueGreen(BlueGreenStatus blueGreen) { this.blueGreen = blueGreen; }
    public RestoreStatus getDatabaseRestore() { return databaseRestore; }
    public void setDatabaseRestore(RestoreStatus databaseRestore) { this.databaseRestore = databaseRestore; }
    public DataMigrationStatus getDataMigration() { return dataMigration; }
    public void setDataMigration(DataMigrationStatus dataMigration) { this.dataMigration = dataMigration; }
    public RehearsalStatus getRehearsal() { return rehearsal; }
    public void setRehearsal(RehearsalStatus rehearsal) { this.rehearsal = rehearsal; }
    public InspectionStatus getInspection() { return inspection; }
    public void setInspection(InspectionStatus inspection) { this.inspection = inspection; }
    public List<HopStatus> getHops() { return hops; }
    public void setHops(List<HopStatus> hops) { this.hops = hops; }
    public BackupStatus getBackup() { return backup; }
    public void setBackup(BackupStatus backup) { this.backup = backup; }
    public StepStatus getMigration() { return migration; }
    public void setMigration(StepStatus migration) { this.migration = migration; }
    public RolloutStatus getRollout() { return rollout; }
    public void setRollout(RolloutStatus rollout) { this.rollout = rollout; }
    public StepStatus getVerification() { return verification; }
    public void setVerification(StepStatus verification) { this.verification = verification; }
    public StepStatus getRollback() { return rollback; }
    public void setRollback(StepStatus rollback) { this.rollback = rollback; }
    public List<RunRecord> getHistory() { return history; }
    public void setHistory(List<RunRecord> history) { this.history = history; }
}
