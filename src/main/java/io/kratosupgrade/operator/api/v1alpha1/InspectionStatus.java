package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** What the read-only look at the database before the run found (PostgreSQL). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InspectionStatus extends StepStatus {

    @JsonPropertyDescription("Rows in schema_migration: the migrations applied.")
    private Integer appliedMigrations;

    @JsonPropertyDescription("The newest migration version applied.")
    private String newestMigration;

    @JsonPropertyDescription("Migrations of the target release the database has not applied: what the run will apply.")
    private Integer pendingForTarget;

    @JsonPropertyDescription("Migrations of the running release the database has not applied (the running pods may "
            + "answer 503 'migrations have not yet been fully applied').")
    private Integer missingForRunning;

    @JsonPropertyDescription("Applied migrations the running release does not have (the database is ahead of it).")
    private Integer unknownToRunning;

    @JsonPropertyDescription("Applied migrations the target release does not have (a newer release migrated the database).")
    private Integer unknownToTarget;

    @JsonPropertyDescription("A few of the versions counted above, for the messages.")
    private List<String> examples = new ArrayList<>();

    @JsonPropertyDescription("Rows in the networks table; Kratos expects one.")
    private Integer networks;

    @JsonPropertyDescription("Records the data migration this upgrade needs will not be able to move (Keto v0.6 -> v0.7: "
            + "relation tuples whose subject does not parse). Preflight refuses the run while there are any.")
    private Integer unmovableRecords;

    @JsonPropertyDescription("Up to five of them, as object#relation@subject.")
    private List<String> unmovableExamples;

    public Integer getUnmovableRecords() { return unmovableRecords; }
    public void setUnmovableRecords(Integer unmovableRecords) { this.unmovableRecords = unmovableRecords; }
    public List<String> getUnmovableExamples() { return unmovableExamples; }
    public void setUnmovableExamples(List<String> unmovableExamples) { this.unmovableExamples = unmovableExamples; }

    public Integer getAppliedMigrations() { return appliedMigrations; }
    public void setAppliedMigrations(Integer appliedMigrations) { this.appliedMigrations = appliedMigrations; }
    public String getNewestMigration() { return newestMigration; }
    public void setNewestMigration(String newestMigration) { this.newestMigration = newestMigration; }
    public Integer getPendingForTarget() { return pendingForTarget; }
    public void setPendingForTarget(Integer pendingForTarget) { this.pendingForTarget = pendingForTarget; }
    public Integer getMissingForRunning() { return missingForRunning; }
    public void setMissingForRunning(Integer missingForRunning) { this.missingForRunning = missingForRunning; }
    public Integer getUnknownToRunning() { return unknownToRunning; }
    public void setUnknownToRunning(Integer unknownToRunning) { this.unknownToRunning = unknownToRunning; }
    public Integer getUnknownToTarget() { return unknownToTarget; }
    public void setUnknownToTarget(Integer unknownToTarget) { this.unknownToTarget = unknownToTarget; }
    public List<String> getExamples() { return examples; }
    public void setExamples(List<String> examples) { this.examples = examples; }
    public Integer getNetworks() { return networks; }
    public void setNetworks(Integer networks) { this.networks = networks; }
}
