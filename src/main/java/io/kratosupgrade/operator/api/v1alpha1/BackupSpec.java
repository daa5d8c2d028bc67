package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.policy == 'Skip' || has(self.persistentVolumeClaim)",
        message = "backup.persistentVolumeClaim is required unless backup.policy is Skip",
        fieldPath = ".persistentVolumeClaim", reason = "FieldValueRequired")
public class BackupSpec {

    @Default("Required")
    @JsonPropertyDescription("Required: a database dump must succeed before the migration runs. Skip: no backup "
            + "(must be set explicitly; use it for databases the operator cannot dump, such as CockroachDB).")
    private BackupPolicy policy = BackupPolicy.Required;

    @Size(min = 1, max = 253)
    @Pattern(KratosUpgradeSpec.DNS_SUBDOMAIN)
    @JsonPropertyDescription("PersistentVolumeClaim, in this namespace, that receives the dump files. Files are "
            + "never overwritten or deleted by the operator.")
    private String persistentVolumeClaim;

    @Size(min = 1, max = 512)
    @Pattern(ImageReferences.PATTERN)
    @JsonPropertyDescription("Image with pg_dump and mysqldump. Default: the operator's configured tools image "
            + "(kratos-upgrade.backup.image).")
    private String image;

    @Default("true")
    @JsonPropertyDescription("true (default): after the dump, prove it restores: the verification Job checks its SHA-256, "
            + "restores it into a throw-away PostgreSQL server inside its own pod (nothing of production is touched, no "
            + "privilege is needed) and compares the row counts of the core tables with those counted in the dump's own "
            + "snapshot; a mismatch or a failed restore fails the run (BackupUnverified) before any migration. false: "
            + "trust the dump. Ignored when policy is Skip; PostgreSQL only (a MySQL dump is not verified, the plan says so).")
    private Boolean verify = true;

    @Default("30m")
    @Pattern(Durations.PATTERN)
    @ValidationRule(value = Durations.POSITIVE_RULE, message = Durations.POSITIVE_MESSAGE)
    @JsonPropertyDescription("How long the backup Job may run (Go duration, e.g. 30m).")
    private String timeout = "30m";

    public BackupPolicy getPolicy() { return policy; }
    public void setPolicy(BackupPolicy policy) { this.policy = policy; }
    public String getPersistentVolumeClaim() { return persistentVolumeClaim; }
    public void setPersistentVolumeClaim(String persistentVolumeClaim) { this.persistentVolumeClaim = persistentVolumeClaim; }
    public String getImage() { return image; }
    public void setImage(String image) { this.image = image; }
    public Boolean getVerify() { return verify; }
    public void setVerify(Boolean verify) { this.verify = verify; }

    /** Whether the run takes a dump and proves it restores (the database kind is checked where it is known). */
    @JsonIgnore
    public boolean verifies() {
        return policy == BackupPolicy.Required && !Boolean.FALSE.equals(verify);
    }

    public String getTimeout() { return timeout; }
    public void setTimeout(String timeout) { this.timeout = timeout; }
}
