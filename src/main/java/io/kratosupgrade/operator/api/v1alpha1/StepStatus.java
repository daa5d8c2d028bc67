package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class StepStatus {

    @JsonPropertyDescription("Job that carries out this step, if it runs one.")
    private String jobName;

    @JsonPropertyDescription("RFC 3339 time the step started.")
    private String startedAt;

    @JsonPropertyDescription("RFC 3339 time the step ended.")
    private String finishedAt;

    public String getJobName() { return jobName; }
    public void setJobName(String jobName) { this.jobName = jobName; }
    public String getStartedAt() { return startedAt; }
    public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
    public String getFinishedAt() { return finishedAt; }
    public void setFinishedAt(String finishedAt) { this.finishedAt = finishedAt; }
}
