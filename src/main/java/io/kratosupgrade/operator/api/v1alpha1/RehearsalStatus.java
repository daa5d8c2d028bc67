package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The migration run on a restored copy of the database before production sees it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RehearsalStatus extends StepStatus {

    @JsonPropertyDescription("Passed or Failed.")
    private String result;

    @JsonPropertyDescription("Migrations the rehearsal applied to the copy (rows added to schema_migration), all hops together.")
    private Long applied;

    @JsonPropertyDescription("Seconds the migration command(s) ran on the copy, from the start of the first to the end of "
            + "the last (the kubelet's container times, to the second): what the production migration should take on a "
            + "database of the same size.")
    private Long migrationSeconds;

    @JsonPropertyDescription("Seconds the restore of the dump into the throw-away server took.")
    private Double restoreSeconds;

    @JsonPropertyDescription("When the rehearsal failed: the end of the migration's log, with secrets redacted.")
    private String logTail;

    public String getResult() { return result; }
    public void setResult(String result) { this.result = result; }
    public Long getApplied() { return applied; }
    public void setApplied(Long applied) { this.applied = applied; }
    public Long getMigrationSeconds() { return migrationSeconds; }
    public void setMigrationSeconds(Long migrationSeconds) { this.migrationSeconds = migrationSeconds; }
    public Double getRestoreSeconds() { return restoreSeconds; }
    public void setRestoreSeconds(Double restoreSeconds) { this.restoreSeconds = restoreSeconds; }
    public String getLogTail() { return logTail; }
    public void setLogTail(String logTail) { this.logTail = logTail; }
}
