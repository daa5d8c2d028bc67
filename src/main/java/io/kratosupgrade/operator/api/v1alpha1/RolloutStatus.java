package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RolloutStatus extends StepStatus {

    @JsonPropertyDescription("Replica count the Deployment had when the run started (Recreate restores it).")
    private Integer originalReplicas;

    @JsonPropertyDescription("RFC 3339 time a pod of the new release was first seen ready: from then on it may have "
            + "written to the migrated schema, and restoring the dump would lose that.")
    private String newReleaseReadyAt;

    public String getNewReleaseReadyAt() { return newReleaseReadyAt; }
    public void setNewReleaseReadyAt(String newReleaseReadyAt) { this.newReleaseReadyAt = newReleaseReadyAt; }

    @JsonPropertyDescription("Gate mode: RFC 3339 time the Deployment was seen rolled to the target release before the "
            + "migration had finished (its new pods cannot become ready until it has); from then on the run skips "
            + "approval, verification and rehearsal and migrates as soon as the backup is done.")
    private String rolledOutBeforeMigrationAt;

    public String getRolledOutBeforeMigrationAt() { return rolledOutBeforeMigrationAt; }
    public void setRolledOutBeforeMigrationAt(String rolledOutBeforeMigrationAt) { this.rolledOutBeforeMigrationAt = rolledOutBeforeMigrationAt; }

    @JsonPropertyDescription("RFC 3339 time the Deployment was scaled to zero (Recreate).")
    private String scaledDownAt;

    public Integer getOriginalReplicas() { return originalReplicas; }
    public void setOriginalReplicas(Integer originalReplicas) { this.originalReplicas = originalReplicas; }
    public String getScaledDownAt() { return scaledDownAt; }
    public void setScaledDownAt(String scaledDownAt) { this.scaledDownAt = scaledDownAt; }
}
