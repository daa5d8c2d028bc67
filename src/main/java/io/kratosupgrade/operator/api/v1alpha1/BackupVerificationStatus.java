package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The proof that a dump restores: checksum, restore into a throw-away server, row counts compared. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackupVerificationStatus extends StepStatus {

    @JsonPropertyDescription("Verified: the checksum matched, the dump restored and every core table holds the rows "
            + "counted in the dump's snapshot. Unverified: one of these failed (see mismatches and the BackupVerified condition).")
    private String result;

    @JsonPropertyDescription("Seconds pg_restore took to restore the dump into the throw-away server.")
    private Double restoreSeconds;

    @JsonPropertyDescription("Row counts of the core tables in the restored copy.")
    private Map<String, Long> restoredCounts;

    @JsonPropertyDescription("Tables whose restored row count differs from status.backup.counts, as table: dumped -> restored.")
    private List<String> mismatches = new ArrayList<>();

    public String getResult() { return result; }
    public void setResult(String result) { this.result = result; }
    public Double getRestoreSeconds() { return restoreSeconds; }
    public void setRestoreSeconds(Double restoreSeconds) { this.restoreSeconds = restoreSeconds; }
    public Map<String, Long> getRestoredCounts() { return restoredCounts; }
    public void setRestoredCounts(Map<String, Long> restoredCounts) { this.restoredCounts = restoredCounts; }
    public List<String> getMismatches() { return mismatches; }
    public void setMismatches(List<String> mismatches) { this.mismatches = mismatches; }
}
