package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** What a BlueGreen run built, moved and measured. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BlueGreenStatus {

    @JsonPropertyDescription("The new Deployment (the new side).")
    private String newDeployment;

    @JsonPropertyDescription("Replicas of the old Deployment when the run started: the new side gets as many.")
    private Integer oldReplicas;

    @JsonPropertyDescription("pod-template-hash of the old Deployment's pods: the Services select it until the switch, "
            + "and again after a switch back.")
    private String oldPodTemplateHash;

    @JsonPropertyDescription("The Services that selected the old pods, with their selectors before the run.")
    private List<ServiceSelection> services = new ArrayList<>();

    @JsonPropertyDescription("Preflight's Job that checks the target database: reachable, empty, a server as new as the old one.")
    private StepStatus targetCheck;

    @JsonPropertyDescription("copy Dump: preflight's rehearsal of the copy, before the plan is written: the live old database "
            + "dumped and restored into the target in a transaction that is rolled back; how long each took. The plan's outage "
            + "names these times: the write freeze covers the real dump and restore.")
    private CopyRehearsalStatus copyRehearsal;

    @JsonPropertyDescription("The Job that checks the target database again and revokes the old database user's write privileges.")
    private StepStatus freeze;

    @JsonPropertyDescription("copy Dump: the Job that restores the dump into the target database and checks its row counts. "
            + "copy Replication: the Job that waits for the last changes to arrive, detaches the target (subscription, "
            + "replication slot and publication dropped), copies what replication does not carry and compares row counts.")
    private StepStatus copy;

    @JsonPropertyDescription("copy Replication: the Job that copies the schema into the target, publishes the old "
            + "database's tables and subscribes the target to them, and waits for the initial copy.")
    private StepStatus replication;

    @JsonPropertyDescription("copy Replication: the name of the publication (old database), replication slot (old server) "
            + "and subscription (target database) of this run.")
    private String subscription;

    @JsonPropertyDescription("copy Replication: seconds the initial copy of the tables took, while the old side served.")
    private Double initialSyncSeconds;

    @JsonPropertyDescription("copy Replication: milliseconds from the freeze to the target holding every change made before it.")
    private Long catchUpMillis;

    @JsonPropertyDescription("copy Replication: whether the subscription, the replication slot and the publication are gone.")
    private Boolean replicationDropped;

    @JsonPropertyDescription("The Job that gives the old database user its write privileges back and, after a failure "
            + "before the switch, empties the target database.")
    private StepStatus cleanup;

    @JsonPropertyDescription("When the old side lost its write privileges.")
    private String frozenAt;

    @JsonPropertyDescription("When the write freeze ended on the old side's traffic: the switch to the new side, or the "
            + "old side's write privileges restored after a failure or a switch back.")
    private String freezeEndedAt;

    @JsonPropertyDescription("How long writes were refused: from frozenAt to freezeEndedAt, in seconds.")
    private Double freezeSeconds;

    @JsonPropertyDescription("When the Services were moved to the new side.")
    private String switchedAt;

    @JsonPropertyDescription("Until when the old side is kept, write-frozen, as the way back.")
    private String keepOldUntil;

    @JsonPropertyDescription("When the Services were moved back to the old side (annotation kratos-upgrade.io/switch-back).")
    private String switchedBackAt;

    @JsonPropertyDescription("Whether the old database user's write privileges were given back.")
    private Boolean oldWritesRestored;

    @JsonPropertyDescription("Whether the target database was emptied after a failure before the switch.")
    private Boolean targetEmptied;

    public String getNewDeployment() { return newDeployment; }
    public void setNewDeployment(String newDeployment) { this.newDeployment = newDeployment; }
    public Integer getOldReplicas() { return oldReplicas; }
    public void setOldReplicas(Integer oldReplicas) { this.oldReplicas = oldReplicas; }
    public String getOldPodTemplateHash() { return oldPodTemplateHash; }
    public void setOldPodTemplateHash(String oldPodTemplateHash) { this.oldPodTemplateHash = oldPodTemplateHash; }
    public List<ServiceSelection> getServices() { return services; }
    public void setServices(List<ServiceSelection> services) { this.services = services; }
    public StepStatus getTargetCheck() { return targetCheck; }
    public void setTargetCheck(StepStatus targetCheck) { this.targetCheck = targetCheck; }
    public CopyRehearsalStatus getCopyRehearsal() { return copyRehearsal; }
    public void setCopyRehearsal(CopyRehearsalStatus copyRehearsal) { this.copyRehearsal = copyRehearsal; }
    public StepStatus getFreeze() { return freeze; }
    public void setFreeze(StepStatus freeze) { this.freeze = freeze; }
    public StepStatus getCopy() { return copy; }
    public void setCopy(StepStatus copy) { this.copy = copy; }
    public StepStatus getReplication() { return replication; }
    public void setReplication(StepStatus replication) { this.replication = replication; }
    public String getSubscription() { return subscription; }
    public void setSubscription(String subscription) { this.subscription = subscription; }
    public Double getInitialSyncSeconds() { return initialSyncSeconds; }
    public void setInitialSyncSeconds(Double initialSyncSeconds) { this.initialSyncSeconds = initialSyncSeconds; }
    public Long getCatchUpMillis() { return catchUpMillis; }
    public void setCatchUpMillis(Long catchUpMillis) { this.catchUpMillis = catchUpMillis; }
    public Boolean getReplicationDropped() { return replicationDropped; }
    public void setReplicationDropped(Boolean replicationDropped) { this.replicationDropped = replicationDropped; }
    public StepStatus getCleanup() { return cleanup; }
    public void setCleanup(StepStatus cleanup) { this.cleanup = cleanup; }
    public String getFrozenAt() { return frozenAt; }
    public void setFrozenAt(String frozenAt) { this.frozenAt = frozenAt; }
    public String getFreezeEndedAt() { return freezeEndedAt; }
    public void setFreezeEndedAt(String freezeEndedAt) { this.freezeEndedAt = freezeEndedAt; }
    public Double getFreezeSeconds() { return freezeSeconds; }
    public void setFreezeSeconds(Double freezeSeconds) { this.freezeSeconds = freezeSeconds; }
    public String getSwitchedAt() { return switchedAt; }
    public void setSwitchedAt(String switchedAt) { this.switchedAt = switchedAt; }
    public String getKeepOldUntil() { return keepOldUntil; }
    public void setKeepOldUntil(String keepOldUntil) { this.keepOldUntil = keepOldUntil; }
    public String getSwitchedBackAt() { return switchedBackAt; }
    public void setSwitchedBackAt(String switchedBackAt) { this.switchedBackAt = switchedBackAt; }
    public Boolean getOldWritesRestored() { return oldWritesRestored; }
    public void setOldWritesRestored(Boolean oldWritesRestored) { this.oldWritesRestored = oldWritesRestored; }
    public Boolean getTargetEmptied() { return targetEmptied; }
    public void setTargetEmptied(Boolean targetEmptied) { this.targetEmptied = targetEmptied; }
}
