package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackupStatus extends StepStatus {

    @JsonPropertyDescription("PersistentVolumeClaim holding the dump.")
    private String persistentVolumeClaim;

    @JsonPropertyDescription("Dump file name on the volume.")
    private String file;

    @JsonPropertyDescription("Database kind that was dumped: postgres or mysql.")
    private String database;

    @JsonPropertyDescription("Size of the dump in bytes, as reported by the backup Job.")
    private Long bytes;

    @JsonPropertyDescription("Seconds the dump tool (pg_dump or mysqldump) took, without the Job's start, the counts and "
            + "the checksum: with bytes, the dump's throughput, and a guide to the next backup's duration.")
    private Double dumpSeconds;

    @JsonPropertyDescription("SHA-256 of the dump, as reported by the backup Job.")
    private String sha256;

    @JsonPropertyDescription("Row counts of the product's core tables in the very snapshot the dump was taken from "
            + "(PostgreSQL: pg_dump --snapshot of a transaction that counted them): what a restore must give back.")
    private Map<String, Long> counts;

    @JsonPropertyDescription("The proof that the dump restores (phase VerifyingBackup), when spec.backup.verify is on.")
    private RestoreStatus verification;

    public RestoreStatus getVerification() { return verification; }
    public void setVerification(RestoreStatus verification) { this.verification = verification; }
    public Map<String, Long> getCounts() { return counts; }
    public void setCounts(Map<String, Long> counts) { this.counts = counts; }
    public String getPersistentVolumeClaim() { return persistentVolumeClaim; }
    public void setPersistentVolumeClaim(String persistentVolumeClaim) { this.persistentVolumeClaim = persistentVolumeClaim; }
    public String getFile() { return file; }
    public void setFile(String file) { this.file = file; }
    public String getDatabase() { return database; }
    public void setDatabase(String database) { this.database = database; }
    public Long getBytes() { return bytes; }
    public void setBytes(Long bytes) { this.bytes = bytes; }
    public Double getDumpSeconds() { return dumpSeconds; }
    public void setDumpSeconds(Double dumpSeconds) { this.dumpSeconds = dumpSeconds; }
    public String getSha256() { return sha256; }
    public void setSha256(String sha256) { this.sha256 = sha256; }
}
