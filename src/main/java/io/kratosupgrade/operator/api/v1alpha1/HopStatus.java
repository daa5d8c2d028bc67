package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One release the run moves the Deployment to: the target for a Direct run, each release on a Stepped path. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HopStatus {

    @JsonPropertyDescription("Release of this hop.")
    private String version;

    @JsonPropertyDescription("Image of this hop.")
    private String image;

    @JsonPropertyDescription("Migration Job of this hop.")
    private String migrationJob;

    @JsonPropertyDescription("RFC 3339 time the database was migrated to this release.")
    private String migratedAt;

    @JsonPropertyDescription("RFC 3339 time every ready pod was verified to run this release.")
    private String verifiedAt;

    public HopStatus() {
    }

    public HopStatus(String version, String image) {
        this.version = version;
        this.image = image;
    }

    public boolean verified() {
        return verifiedAt != null;
    }

    public String getVersion() { return version; }
    public void setVersion(String version) { this.version = version; }
    public String getImage() { return image; }
    public void setImage(String image) { this.image = image; }
    public String getMigrationJob() { return migrationJob; }
    public void setMigrationJob(String migrationJob) { this.migrationJob = migrationJob; }
    public String getMigratedAt() { return migratedAt; }
    public void setMigratedAt(String migratedAt) { this.migratedAt = migratedAt; }
    public String getVerifiedAt() { return verifiedAt; }
    public void setVerifiedAt(String verifiedAt) { this.verifiedAt = verifiedAt; }
}
