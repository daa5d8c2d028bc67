package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.ArrayList;
import java.util.List;

/**
 * How to upgrade, whichever Deployment: everything of a KratosUpgrade's spec but the Deployment it names. A
 * KratosFleetUpgrade's template carries these settings for every instance it upgrades.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.rehearsal) || !self.rehearsal || !has(self.backup) || self.backup.policy == 'Required'",
        message = "rehearsal: true needs a dump to rehearse on: set backup.policy to Required (or rehearsal: false)",
        fieldPath = ".rehearsal", reason = "FieldValueInvalid")
@ValidationRule(value = "!has(self.rollback) || !has(self.rollback.onFailure) || self.rollback.onFailure != 'ImageAndDatabase' "
        + "|| (has(self.backup) && self.backup.policy == 'Required' && (!has(self.backup.verify) || self.backup.verify))",
        message = "rollback.onFailure ImageAndDatabase restores the verified dump: it needs backup.policy Required and backup.verify true",
        fieldPath = ".rollback.onFailure", reason = "FieldValueInvalid")
@ValidationRule(value = "!has(self.mode) || self.mode != 'Gate' || ((!has(self.strategy) || self.strategy == 'Rolling') "
        + "&& (!has(self.path) || self.path == 'Direct') "
        + "&& (!has(self.rollback) || !has(self.rollback.onFailure) || self.rollback.onFailure != 'ImageAndDatabase'))",
        message = "mode Gate never writes the Deployment: it needs strategy Rolling (Recreate scales the Deployment), path "
                + "Direct (each hop of a stepped path is a rollout: commit one KratosUpgrade per release) and a rollback "
                + "other than ImageAndDatabase (restoring the database scales Kratos to zero)",
        fieldPath = ".mode", reason = "FieldValueInvalid")
@ValidationRule(value = "!has(self.strategy) || self.strategy != 'BlueGreen' || (has(self.blueGreen) && has(self.blueGreen.targetDatabase) "
        + "&& has(self.backup) && self.backup.policy == 'Required' && (!has(self.path) || self.path == 'Direct') "
        + "&& (!has(self.mode) || self.mode == 'Managed'))",
        message = "strategy BlueGreen needs blueGreen.targetDatabase (the new side's database), backup.policy Required (the "
                + "dump is what is copied), path Direct and mode Managed: blue/green creates a Deployment and moves Services, "
                + "objects a GitOps tool would own in Gate mode",
        fieldPath = ".strategy", reason = "FieldValueInvalid")
public class UpgradeSettings {

    /** DNS-1123 subdomain, as Kubernetes requires for Deployment names. */
    static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    /** Kratos release tags: vMAJOR.MINOR.PATCH with an optional pre-release suffix; numbers of at most 9 digits. */
    public static final String VERSION_PATTERN =
            "^v(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z.-]{1,64})?$";


    @Default("Kratos")
    @ValidationRule(value = "self == oldSelf", message = "product cannot change: create another KratosUpgrade for another product's Deployment")
    @JsonPropertyDescription("The Ory product the Deployment runs: Kratos (default), Hydra or Keto. It selects the "
            + "release knowledge base (migrate commands, migrations, breaking configuration changes), the default container "
            + "name and the tables that verify a backup; phases, Jobs, backups and strategies are the same for all three. "
            + "It cannot change.")
    private OryProduct product = OryProduct.Kratos;

    @Size(min = 1, max = 63)
    @Pattern(DNS_LABEL)
    @JsonPropertyDescription("Name of the product's container in the Deployment's pod template. Optional when the pod has "
            + "a single container or exactly one container named after the product ('kratos', 'hydra', 'keto').")
    private String containerName;

    @Required
    @Pattern(VERSION_PATTERN)
    @JsonPropertyDescription("Target release, for example v1.3.1 or v25.4.0 (Kratos), v2.3.0 (Hydra). It selects the "
            + "migrate command (Kratos: `migrate sql` before v25, `migrate sql up` from v25; Hydra: `migrate sql up` from "
            + "v2.3; Keto: `migrate up`) and, unless image is set, the image tag.")
    private String version;

    @Size(min = 1, max = 512)
    @Pattern(ImageReferences.PATTERN)
    @JsonPropertyDescription("Full image reference of the target release (for private registries or digests). "
            + "Default: the repository of the image the Deployment runs now, tagged with version.")
    private String image;

    @Default("Rolling")
    @JsonPropertyDescription("Rolling: migrate while the old release keeps serving, then roll the Deployment (no downtime "
            + "when the releases are adjacent). Recreate: scale to zero, back up, migrate, start the new release with the "
            + "original replica count (a consistent backup, with downtime). BlueGreen: a second Deployment on a migrated "
            + "copy of the database (blueGreen.targetDatabase); the old side keeps serving reads with its writes frozen "
            + "while the copy is made, migrated and started; then the Services move to the new side and the old one is "
            + "kept, frozen, as the way back for blueGreen.keepOldFor.")
    private Strategy strategy = Strategy.Rolling;

    @Default("Managed")
    @JsonPropertyDescription("Managed: the operator sets the Deployment's image (and replicas under Recreate). Gate: a "
            + "GitOps tool or a person owns the Deployment and the operator never writes it: it checks, backs up and "
            + "migrates the database for the target, then reports Ready (reason ReadyForRollout) and waits for the "
            + "Deployment to be rolled to the target release by its owner, verifies that rollout and ends Succeeded. A "
            + "rollout that comes before the migration finished is reported (RolledOutBeforeMigration) and the migration "
            + "runs at once; a rollout to another release fails the run (UnmigratedRelease). Needs strategy Rolling and "
            + "path Direct; there is no image rollback in Gate mode (revert the commit).")
    private Mode mode = Mode.Managed;

    @Default("false")
    @JsonPropertyDescription("Managed mode: true states that the GitOps tool applying this Deployment leaves its image "
            + "alone (Argo CD ignoreDifferences on the image with the RespectIgnoreDifferences=true sync option, or Flux's "
            + "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent), so the operator may set it. Without it, preflight refuses a "
            + "Deployment whose image field is managed by argocd-controller, kustomize-controller or helm-controller, or "
            + "that carries Argo CD's tracking annotation (ManagedByGitOps): the tool would put the old image back "
            + "over a migrated database. Git then no longer shows the running release; status.toVersion does.")
    private boolean imageExcludedFromGitOps;

    @Default("Direct")
    @JsonPropertyDescription("Direct: one migration and one rollout straight to the target. Stepped: one migration, "
            + "rollout and verification per release between the running one and the target (every release the "
            + "operator knows, or those listed in releaseImages), with one backup before the first; a failure in a hop "
            + "rolls back to the previous hop's release, whose migrations the database holds. Rolling upgrades keep "
            + "zero downtime only when no release is skipped: Stepped is how to cross several releases without an outage.")
    private UpgradePath path = UpgradePath.Direct;

    @Size(max = 64)
    @JsonPropertyDescription("Images of releases, for private registries and mirrors: a hop to a listed release uses "
            + "this image instead of the Deployment's repository tagged with the release. With path Stepped and a "
            + "non-empty list, the hops are exactly the listed releases between the running one and the target, plus "
            + "the target.")
    private List<ReleaseImage> releaseImages = new ArrayList<>();

    @Required
    @JsonPropertyDescription("Database backup taken before the migration. Required: either a persistentVolumeClaim "
            + "for the dump, or policy: Skip, stated explicitly.")
    private BackupSpec backup = new BackupSpec();

    @Default("{}")
    @JsonPropertyDescription("The migration Job.")
    private MigrationSpec migration = new MigrationSpec();

    @Default("{}")
    @JsonPropertyDescription("The rollout of the new release.")
    private RolloutSpec rollout = new RolloutSpec();

    @JsonPropertyDescription("true: before production is migrated, run the target release's own migration (every hop's, "
            + "on a stepped path) on a copy of the database restored from the dump, in a throw-away PostgreSQL server "
            + "inside the rehearsal Job's pod, with the Deployment's configuration; a migration that fails there ends the "
            + "run (RehearsalFailed) with production untouched, and the measured duration goes into the plan. Default: "
            + "the same as backup.verify. Needs backup.policy Required; PostgreSQL only.")
    private Boolean rehearsal;

    @JsonPropertyDescription("strategy BlueGreen: the target database, the new Deployment, and how long the old side is kept.")
    private BlueGreenSpec blueGreen;

    @Default("{}")
    @JsonPropertyDescription("What to do when the new release does not become ready.")
    private RollbackSpec rollback = new RollbackSpec();

    @Default("{}")
    @JsonPropertyDescription("Whether a person or a pipeline approves the plan before anything is touched.")
    private ApprovalSpec approval = new ApprovalSpec();

    @Default("false")
    @JsonPropertyDescription("true: run preflight, write status.plan, and end in phase Planned: no backup, no "
            + "migration, no rollout; the Deployment and the database are not changed (not even locked). Setting it "
            + "back to false starts the real run.")
    private boolean dryRun;

    @Size(max = 64)
    @JsonPropertyDescription("Ids of configuration warnings (status.plan.warnings[].rule) that were read and accepted: "
            + "they no longer show in the plan as warnings. Rules that block an upgrade cannot be acknowledged: fix "
            + "the configuration.")
    private List<@Pattern(DNS_LABEL) String> acknowledgedWarnings = new ArrayList<>();

    public OryProduct getProduct() { return product; }
    public void setProduct(OryProduct product) { this.product = product; }
    public String getContainerName() { return containerName; }
    public void setContainerName(String containerName) { this.containerName = containerName; }
    public String getVersion() { return version; }
    public void setVersion(String version) { this.version = version; }
    public String getImage() { return image; }
    public void setImage(String image) { this.image = image; }
    public Strategy getStrategy() { return strategy; }
    public void setStrategy(Strategy strategy) { this.strategy = strategy; }
    public BackupSpec getBackup() { return backup; }
    public void setBackup(BackupSpec backup) { this.backup = backup; }
    public MigrationSpec getMigration() { return migration; }
    public void setMigration(MigrationSpec migration) { this.migration = migration; }
    public RolloutSpec getRollout() { return rollout; }
    public void setRollout(RolloutSpec rollout) { this.rollout = rollout; }
    public Mode getMode() { return mode; }
    public void setMode(Mode mode) { this.mode = mode; }
    public boolean isImageExcludedFromGitOps() { return imageExcludedFromGitOps; }
    public void setImageExcludedFromGitOps(boolean imageExcludedFromGitOps) { this.imageExcludedFromGitOps = imageExcludedFromGitOps; }
    public UpgradePath getPath() { return path; }
    public void setPath(UpgradePath path) { this.path = path; }
    public List<ReleaseImage> getReleaseImages() { return releaseImages; }
    public void setReleaseImages(List<ReleaseImage> releaseImages) { this.releaseImages = releaseImages; }
    public ApprovalSpec getApproval() { return approval; }
    public void setApproval(ApprovalSpec approval) { this.approval = approval; }
    public boolean isDryRun() { return dryRun; }
    public void setDryRun(boolean dryRun) { this.dryRun = dryRun; }
    public List<String> getAcknowledgedWarnings() { return acknowledgedWarnings; }
    public void setAcknowledgedWarnings(List<String> acknowledgedWarnings) { this.acknowledgedWarnings = acknowledgedWarnings; }
    public Boolean getRehearsal() { return rehearsal; }
    public void setRehearsal(Boolean rehearsal) { this.rehearsal = rehearsal; }

    /** Whether the run rehearses its migration on a restored copy (the database kind is checked where it is known). */
    @JsonIgnore
    public boolean rehearses() {
        return backup.getPolicy() == BackupPolicy.Required && (rehearsal != null ? rehearsal : backup.verifies());
    }

    public BlueGreenSpec getBlueGreen() { return blueGreen; }
    public void setBlueGreen(BlueGreenSpec blueGreen) { this.blueGreen = blueGreen; }

    public RollbackSpec getRollback() { return rollback; }
    public void setRollback(RollbackSpec rollback) { this.rollback = rollback; }
}
