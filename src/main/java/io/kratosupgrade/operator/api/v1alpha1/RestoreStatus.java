package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A restore of the dump and its proof: the checksum, the restore, the row counts compared with those of the dump's
 * snapshot. Used for the verification (into a throw-away server) and for a database rollback (into production).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RestoreStatus extends StepStatus {

    @JsonPropertyDescription("Verified (verification) or Restored (rollback): the checksum matched, the dump restored and "
            + "every core table holds the rows counted in the dump's snapshot. Unverified or Failed: one of these failed "
            + "(see mismatches and the step's condition). Refused: a rollback that would lose writes was not attempted.")
    private String result;

    @JsonPropertyDescription("Seconds pg_restore took to restore the dump.")
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
