package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * The upgrade plan: what the run will do, written before it touches anything, so that a human or a pipeline
 * can review (and approve) it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlanStatus {

    @JsonPropertyDescription("Short hash of the plan's content: approve exactly this plan with "
            + "kubectl annotate ku NAME kratos-upgrade.io/approve=<hash>.")
    private String hash;

    @JsonPropertyDescription("Release the Deployment runs.")
    private String fromVersion;

    @JsonPropertyDescription("Target release.")
    private String toVersion;

    @JsonPropertyDescription("Whether the operator's knowledge base knows the target release; if not, the checks "
            + "that need it (configuration rules of newer releases, pending migrations) did not run.")
    private Boolean targetKnown;

    @JsonPropertyDescription("Known releases the upgrade crosses, after the running one, up to the target.")
    private List<String> releasesCrossed = new ArrayList<>();

    @JsonPropertyDescription("What the run will do, in order.")
    private List<String> steps = new ArrayList<>();

    @JsonPropertyDescription("Migrations the target release has that the running release does not, for this database "
            + "(from the knowledge base).")
    private Integer pendingMigrations;

    @JsonPropertyDescription("The expected outage for the chosen strategy, and why.")
    private String outage;

    @JsonPropertyDescription("What the migration rehearsal measured on a restored copy (added once it ran; not part of "
            + "the hash, which is that of the plan as reviewed).")
    private String rehearsal;

    @JsonPropertyDescription("What happens if the new release does not become ready.")
    private String rollback;

    @JsonPropertyDescription("Configuration changes of the releases crossed that change behaviour (rules of severity "
            + "Warn), not acknowledged in spec.acknowledgedWarnings.")
    private List<PlanWarning> warnings = new ArrayList<>();

    @JsonPropertyDescription("Rule ids of warnings that apply and were acknowledged in spec.acknowledgedWarnings.")
    private List<String> acknowledgedWarnings = new ArrayList<>();

    @JsonPropertyDescription("The configuration files the checks read, and where from.")
    private List<String> configSources = new ArrayList<>();

    @JsonPropertyDescription("What could not be checked, and why.")
    private List<String> notes = new ArrayList<>();

    public String getHash() { return hash; }
    public void setHash(String hash) { this.hash = hash; }
    public String getFromVersion() { return fromVersion; }
    public void setFromVersion(String fromVersion) { this.fromVersion = fromVersion; }
    public String getToVersion() { return toVersion; }
    public void setToVersion(String toVersion) { this.toVersion = toVersion; }
    public Boolean getTargetKnown() { return targetKnown; }
    public void setTargetKnown(Boolean targetKnown) { this.targetKnown = targetKnown; }
    public List<String> getReleasesCrossed() { return releasesCrossed; }
    public void setReleasesCrossed(List<String> releasesCrossed) { this.releasesCrossed = releasesCrossed; }
    public List<String> getSteps() { return steps; }
    public void setSteps(List<String> steps) { this.steps = steps; }
    public Integer getPendingMigrations() { return pendingMigrations; }
    public void setPendingMigrations(Integer pendingMigrations) { this.pendingMigrations = pendingMigrations; }
    public String getOutage() { return outage; }
    public void setOutage(String outage) { this.outage = outage; }
    public String getRehearsal() { return rehearsal; }
    public void setRehearsal(String rehearsal) { this.rehearsal = rehearsal; }
    public String getRollback() { return rollback; }
    public void setRollback(String rollback) { this.rollback = rollback; }
    public List<PlanWarning> getWarnings() { return warnings; }
    public void setWarnings(List<PlanWarning> warnings) { this.warnings = warnings; }
    public List<String> getAcknowledgedWarnings() { return acknowledgedWarnings; }
    public void setAcknowledgedWarnings(List<String> acknowledgedWarnings) { this.acknowledgedWarnings = acknowledgedWarnings; }
    public List<String> getConfigSources() { return configSources; }
    public void setConfigSources(List<String> configSources) { this.configSources = configSources; }
    public List<String> getNotes() { return notes; }
    public void setNotes(List<String> notes) { this.notes = notes; }
}
