package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RunRecord {

    @JsonPropertyDescription("Run number.")
    private Integer run;

    @JsonPropertyDescription("Succeeded, Failed, RolledBack or Superseded.")
    private String result;

    @JsonPropertyDescription("Reason of the result.")
    private String reason;

    private String fromVersion;
    private String toVersion;

    @JsonPropertyDescription("Dump file written by this run, if any.")
    private String backupFile;

    private String startedAt;
    private String finishedAt;

    @JsonPropertyDescription("Wall-clock duration of the run in seconds.")
    private Long durationSeconds;

    public Integer getRun() { return run; }
    public void setRun(Integer run) { this.run = run; }
    public String getResult() { return result; }
    public void setResult(String result) { this.result = result; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public String getFromVersion() { return fromVersion; }
    public void setFromVersion(String fromVersion) { this.fromVersion = fromVersion; }
    public String getToVersion() { return toVersion; }
    public void setToVersion(String toVersion) { this.toVersion = toVersion; }
    public String getBackupFile() { return backupFile; }
    public void setBackupFile(String backupFile) { this.backupFile = backupFile; }
    public String getStartedAt() { return startedAt; }
    public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
    public String getFinishedAt() { return finishedAt; }
    public void setFinishedAt(String finishedAt) { this.finishedAt = finishedAt; }
    public Long getDurationSeconds() { return durationSeconds; }
    public void setDurationSeconds(Long durationSeconds) { this.durationSeconds = durationSeconds; }
}
