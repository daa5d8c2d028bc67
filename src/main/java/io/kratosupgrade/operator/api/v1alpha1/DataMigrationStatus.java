package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * The data migration some upgrades need after the schema migration (phase MigratingData), run on the target
 * database of a BlueGreen run: Keto v0.6 to v0.7's {@code keto namespace migrate legacy}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DataMigrationStatus extends StepStatus {

    @JsonPropertyDescription("What runs: the product's command and why the upgrade needs it.")
    private String description;

    @JsonPropertyDescription("Attempts started so far; jobName is the latest one's. A failed attempt is re-run (Ory's guide: "
            + "until it succeeds) up to spec.migration.dataMigrationAttempts, unless it reported broken records.")
    private Integer attempts;

    @JsonPropertyDescription("Records the data migration could not move (Keto: relation tuples whose subject does not parse, "
            + "as object#relation@subject). They end the run, which switches back: fix or delete them on the old side, then "
            + "retry. Kept in the old database, untouched.")
    private List<String> brokenRecords = new ArrayList<>();

    @JsonPropertyDescription("True when the Job's output was cut and brokenRecords lists only some of them: its log has all.")
    private Boolean brokenRecordsTruncated;

    public String getDescription() { return description; }
    public void setDescription(String description) { this.description = description; }
    public Integer getAttempts() { return attempts; }
    public void setAttempts(Integer attempts) { this.attempts = attempts; }
    public List<String> getBrokenRecords() { return brokenRecords; }
    public void setBrokenRecords(List<String> brokenRecords) { this.brokenRecords = brokenRecords; }
    public Boolean getBrokenRecordsTruncated() { return brokenRecordsTruncated; }
    public void setBrokenRecordsTruncated(Boolean brokenRecordsTruncated) { this.brokenRecordsTruncated = brokenRecordsTruncated; }
}
