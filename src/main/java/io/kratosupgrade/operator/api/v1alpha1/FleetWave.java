package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class FleetWave {

    @JsonPropertyDescription("1 for the first wave of a fleet run.")
    private int number;

    @JsonPropertyDescription("true for the canary wave.")
    private boolean canary;

    @JsonPropertyDescription("The instances of the wave, as namespace/deployment.")
    private List<String> instances = new ArrayList<>();

    private String startedAt;
    private String finishedAt;

    @JsonPropertyDescription("Seconds from the wave's start to the end of its last instance's run.")
    private Long durationSeconds;

    private Integer succeeded;
    private Integer failed;

    public FleetWave() {
    }

    public FleetWave(int number, boolean canary, List<String> instances, String startedAt) {
        this.number = number;
        this.canary = canary;
        this.instances = new ArrayList<>(instances);
        this.startedAt = startedAt;
    }

    public int getNumber() { return number; }
    public void setNumber(int number) { this.number = number; }
    public boolean isCanary() { return canary; }
    public void setCanary(boolean canary) { this.canary = canary; }
    public List<String> getInstances() { return instances; }
    public void setInstances(List<String> instances) { this.instances = instances; }
    public String getStartedAt() { return startedAt; }
    public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
    public String getFinishedAt() { return finishedAt; }
    public void setFinishedAt(String finishedAt) { this.finishedAt = finishedAt; }
    public Long getDurationSeconds() { return durationSeconds; }
    public void setDurationSeconds(Long durationSeconds) { this.durationSeconds = durationSeconds; }
    public Integer getSucceeded() { return succeeded; }
    public void setSucceeded(Integer succeeded) { this.succeeded = succeeded; }
    public Integer getFailed() { return failed; }
    public void setFailed(Integer failed) { this.failed = failed; }
}
