package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** strategy BlueGreen: where the new side's database is, and what happens to the old side. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BlueGreenSpec {

    @JsonPropertyDescription("The DSN of the new side's database: an empty PostgreSQL database on the same server or "
            + "another, of the same or a newer major version (the operator never creates servers or databases). The "
            + "verified dump of the old database is restored into it, it is migrated, and the new Deployment uses it. "
            + "Required with strategy BlueGreen.")
    private SecretKeyReference targetDatabase;

    @Default("Dump")
    @JsonPropertyDescription("How the target database gets the old one's data. Dump (default): the old database is "
            + "frozen first, then dumped and restored into the target; the write freeze covers dump, restore, migration "
            + "and the new side's start. Replication: PostgreSQL logical replication (a publication on the old database, "
            + "a subscription on the target) copies the data while the old side still serves, and the freeze starts only "
            + "when the copy is in sync: it covers the last changes' arrival, the migration and the new side's start, "
            + "whatever the database's size. Needs wal_level=logical on the old server and the privileges in "
            + "blueGreen.replication; preflight checks them.")
    private BlueGreenCopy copy = BlueGreenCopy.Dump;

    @JsonPropertyDescription("copy Replication: the users that may replicate (see its fields).")
    private ReplicationSpec replication;

    @Size(min = 1, max = 253)
    @Pattern(UpgradeSettings.DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of the new Deployment. Default: the old Deployment's name and the target version, "
            + "for example kratos-v1-3-1. It must not exist yet. It is not owned by this KratosUpgrade (deleting the "
            + "KratosUpgrade leaves it serving); the next upgrade names it in spec.deploymentName.")
    private String newDeploymentName;

    @Default("1h")
    @Pattern(Durations.PATTERN)
    @ValidationRule(value = Durations.POSITIVE_RULE, message = Durations.POSITIVE_MESSAGE)
    @JsonPropertyDescription("How long the old side stays up, write-frozen, after traffic moved to the new side (Go "
            + "duration). Until then the annotation kratos-upgrade.io/switch-back moves traffic back at once (writes "
            + "made on the new side stay in the new database only); kratos-upgrade.io/finalize ends the wait early.")
    private String keepOldFor = "1h";

    @Default("ScaleToZero")
    @JsonPropertyDescription("What happens to the old Deployment at the end: ScaleToZero keeps it with zero replicas; "
            + "Delete deletes it. Its database is never changed (it is the restore point), unless restoreOldWrites.")
    private OldSideAction oldDeployment = OldSideAction.ScaleToZero;

    @Default("false")
    @JsonPropertyDescription("true: at the end, give the old database user its write privileges back (INSERT, UPDATE, "
            + "DELETE, TRUNCATE on the tables of its schema). Default false: the old database stays read-only, exactly "
            + "the state the new side started from.")
    private boolean restoreOldWrites;

    @Default("false")
    @JsonPropertyDescription("When the run fails before traffic moved, the target database is emptied (every table, "
            + "view, sequence, function and type of its schema dropped) so that a retry finds it empty. true keeps it as "
            + "the run left it, for inspection; empty it before retrying.")
    private boolean keepFailedTarget;

    @Default("false")
    @JsonPropertyDescription("true states that the GitOps tool applying the Services that select Kratos leaves their "
            + "selector alone (Argo CD ignoreDifferences on spec.selector with RespectIgnoreDifferences=true, or Flux's "
            + "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent). Without it, preflight refuses Services whose selector "
            + "argocd-controller, kustomize-controller or helm-controller applies, or that carry Argo CD's tracking annotation "
            + "(ManagedByGitOps): the tool would put the selector back, which matches both sides.")
    private boolean servicesExcludedFromGitOps;

    public BlueGreenCopy getCopy() { return copy; }
    public void setCopy(BlueGreenCopy copy) { this.copy = copy; }
    public ReplicationSpec getReplication() { return replication; }
    public void setReplication(ReplicationSpec replication) { this.replication = replication; }

    /** Whether the target is filled by logical replication. */
    public boolean replicates() { return copy == BlueGreenCopy.Replication; }
    public boolean isServicesExcludedFromGitOps() { return servicesExcludedFromGitOps; }
    public void setServicesExcludedFromGitOps(boolean servicesExcludedFromGitOps) { this.servicesExcludedFromGitOps = servicesExcludedFromGitOps; }
    public SecretKeyReference getTargetDatabase() { return targetDatabase; }
    public void setTargetDatabase(SecretKeyReference targetDatabase) { this.targetDatabase = targetDatabase; }
    public String getNewDeploymentName() { return newDeploymentName; }
    public void setNewDeploymentName(String newDeploymentName) { this.newDeploymentName = newDeploymentName; }
    public String getKeepOldFor() { return keepOldFor; }
    public void setKeepOldFor(String keepOldFor) { this.keepOldFor = keepOldFor; }
    public OldSideAction getOldDeployment() { return oldDeployment; }
    public void setOldDeployment(OldSideAction oldDeployment) { this.oldDeployment = oldDeployment; }
    public boolean isRestoreOldWrites() { return restoreOldWrites; }
    public void setRestoreOldWrites(boolean restoreOldWrites) { this.restoreOldWrites = restoreOldWrites; }
    public boolean isKeepFailedTarget() { return keepFailedTarget; }
    public void setKeepFailedTarget(boolean keepFailedTarget) { this.keepFailedTarget = keepFailedTarget; }
}
