package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class KratosFleetUpgradeStatus {

    private FleetPhase phase;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("Ready, Reconciling and Stalled (kstatus); Halted while the failure budget is used up.")
    private List<Condition> conditions = new ArrayList<>();

    private String message;

    @JsonPropertyDescription("Number of the fleet run; increases by one each time the template changes.")
    private Integer run;

    @JsonPropertyDescription("Hash of the template this run carries out.")
    private String templateHash;

    private String targetVersion;
    private String startedAt;
    private String finishedAt;

    @JsonPropertyDescription("Instances selected now.")
    private int total;
    private int succeeded;
    private int failed;
    private int inProgress;
    @JsonPropertyDescription("Selected instances not started in this run yet.")
    private int pending;
    @JsonPropertyDescription("Instances the fleet leaves alone (a KratosUpgrade made by hand targets another release).")
    private int skipped;

    @JsonPropertyDescription("succeeded/total, for kubectl get.")
    private String progress;

    @JsonPropertyDescription("Instances per phase of their KratosUpgrade in this run (NotStarted: none yet; Pending: created, not taken up yet; Skipped: a hand-made KratosUpgrade targets another release; Untracked: its KratosUpgrade was deleted after its wave finished, and it is not upgraded again).")
    private Map<String, Integer> phases = new TreeMap<>();

    @JsonPropertyDescription("Number of the wave running now, or of the last one.")
    private Integer currentWave;

    @JsonPropertyDescription("The number the next wave gets (what kratos-upgrade.io/approve-wave must say to start it).")
    private Integer nextWave;

    private List<FleetWave> waves = new ArrayList<>();

    @JsonPropertyDescription("Failed instances, with their KratosUpgrade's reason and message.")
    private List<FleetInstanceReport> failedInstances = new ArrayList<>();

    @JsonPropertyDescription("Instances the fleet leaves alone, and why.")
    private List<FleetInstanceReport> skippedInstances = new ArrayList<>();

    @JsonPropertyDescription("Value of the fleet's kratos-upgrade.io/retry annotation last acted on.")
    private String retryToken;

    public FleetPhase getPhase() { return phase; }
    public void setPhase(FleetPhase phase) { this.phase = phase; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public Integer getRun() { return run; }
    public void setRun(Integer run) { this.run = run; }
    public String getTemplateHash() { return templateHash; }
    public void setTemplateHash(String templateHash) { this.templateHash = templateHash; }
    public String getTargetVersion() { return targetVersion; }
    public void setTargetVersion(String targetVersion) { this.targetVersion = targetVersion; }
    public String getStartedAt() { return startedAt; }
    public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
    public String getFinishedAt() { return finishedAt; }
    public void setFinishedAt(String finishedAt) { this.finishedAt = finishedAt; }
    public int getTotal() { return total; }
    public void setTotal(int total) { this.total = total; }
    public int getSucceeded() { return succeeded; }
    public void setSucceeded(int succeeded) { this.succeeded = succeeded; }
    public int getFailed() { return failed; }
    public void setFailed(int failed) { this.failed = failed; }
    public int getInProgress() { return inProgress; }
    public void setInProgress(int inProgress) { this.inProgress = inProgress; }
    public int getPending() { return pending; }
    public void setPending(int pending) { this.pending = pending; }
    public int getSkipped() { return skipped; }
    public void setSkipped(int skipped) { this.skipped = skipped; }
    public String getProgress() { return progress; }
    public void setProgress(String progress) { this.progress = progress; }
    public Map<String, Integer> getPhases() { return phases; }
    public void setPhases(Map<String, Integer> phases) { this.phases = phases; }
    public Integer getCurrentWave() { return currentWave; }
    public void setCurrentWave(Integer currentWave) { this.currentWave = currentWave; }
    public Integer getNextWave() { return nextWave; }
    public void setNextWave(Integer nextWave) { this.nextWave = nextWave; }
    public List<FleetWave> getWaves() { return waves; }
    public void setWaves(List<FleetWave> waves) { this.waves = waves; }
    public List<FleetInstanceReport> getFailedInstances() { return failedInstances; }
    public void setFailedInstances(List<FleetInstanceReport> failedInstances) { this.failedInstances = failedInstances; }
    public List<FleetInstanceReport> getSkippedInstances() { return skippedInstances; }
    public void setSkippedInstances(List<FleetInstanceReport> skippedInstances) { this.skippedInstances = skippedInstances; }
    public String getRetryToken() { return retryToken; }
    public void setRetryToken(String retryToken) { this.retryToken = retryToken; }
}
