package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/**
 * BlueGreen copy Dump: preflight's rehearsal of the copy, which changes nothing: the live old database dumped (a read,
 * as a backup is) and restored into the target in one transaction that is rolled back. What it measured goes into the
 * plan's outage, which is what the write freeze will cover.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CopyRehearsalStatus extends StepStatus {

    @JsonPropertyDescription("Seconds pg_dump took to dump the live old database (no freeze: it only reads).")
    private Double dumpSeconds;

    @JsonPropertyDescription("Seconds the restore of that dump into the target database took, in one transaction that was "
            + "then rolled back (the target is left empty).")
    private Double restoreSeconds;

    @JsonPropertyDescription("Size of the dump in bytes (pg_dump's custom format, compressed).")
    private Long dumpBytes;

    @JsonPropertyDescription("Row counts of the core tables inside the restore's transaction, before its rollback.")
    private Map<String, Long> restoredCounts;

    public Double getDumpSeconds() { return dumpSeconds; }
    public void setDumpSeconds(Double dumpSeconds) { this.dumpSeconds = dumpSeconds; }
    public Double getRestoreSeconds() { return restoreSeconds; }
    public void setRestoreSeconds(Double restoreSeconds) { this.restoreSeconds = restoreSeconds; }
    public Long getDumpBytes() { return dumpBytes; }
    public void setDumpBytes(Long dumpBytes) { this.dumpBytes = dumpBytes; }
    public Map<String, Long> getRestoredCounts() { return restoredCounts; }
    public void setRestoredCounts(Map<String, Long> restoredCounts) { this.restoredCounts = restoredCounts; }
}
