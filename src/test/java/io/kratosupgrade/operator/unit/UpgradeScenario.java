package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Drives the {@link PhaseMachine} the way the reconciler does: one KratosUpgrade whose status is carried
 * from decision to decision, a hand-maintained {@link Fixtures.World}, and a clock that moves one second
 * per decision (or further on request). Cluster side effects are applied by the tests themselves.
 */
final class UpgradeScenario {

    final PhaseMachine machine = new PhaseMachine(OperatorSettings.defaults());
    final KratosUpgrade ku;
    final Fixtures.World world = new Fixtures.World();
    Instant now = Fixtures.T0;
    Decision last;

    UpgradeScenario() {
        this(Fixtures.upgrade());
    }

    UpgradeScenario(KratosUpgrade ku) {
        this.ku = ku;
    }

    Decision decide() {
        now = now.plusSeconds(1);
        last = machine.decide(ku, world.observe(), now);
        return last;
    }

    /** The scenario's clock plus {@code later}, as status writes times. */
    String nowAsText(Duration later) {
        return io.kratosupgrade.operator.lifecycle.Times.format(now.plus(later));
    }

    void advance(Duration duration) {
        now = now.plus(duration);
    }

    KratosUpgradeStatus status() {
        return ku.getStatus();
    }

    Phase phase() {
        return ku.getStatus().getPhase();
    }

    /** Bumps metadata.generation, as the API server does on a spec change. */
    void bumpGeneration() {
        ku.getMetadata().setGeneration(ku.getMetadata().getGeneration() + 1);
    }

    <A extends Action> List<A> actions(Class<A> type) {
        return last.actions().stream().filter(type::isInstance).map(type::cast).toList();
    }

    // ------------------------------------------------------------ driving to a phase along the happy path

    /** New object -> Preflight (Pending passes in the same decision), from wherever the run is on that path. */
    UpgradeScenario toPreflight() {
        if (phase() == null || phase() == Phase.Pending) {
            decide();
        }
        assertThat(phase()).isEqualTo(Phase.Preflight);
        return this;
    }

    /** What the inspection Job of a database at v1.1.0 (the fixtures' running release) reports. */
    static final String INSPECTION_REPORT = "{\"schemaMigration\":true,\"applied\":282,\"newest\":\"20240119094628000000\","
            + "\"pendingForTarget\":33,\"missingForRunning\":0,\"unknownToRunning\":0,\"unknownToTarget\":0,"
            + "\"aheadExamples\":[],\"missingExamples\":[],\"networks\":1}";

    /**
     * One preflight decision as the run sees it: when that decision starts the read-only inspection Job, the
     * Job completes with {@code report} and preflight decides again: it records the result and goes on with it in
     * that same decision.
     */
    Decision decideInPreflight(String report) {
        decide();
        boolean inspecting = actions(Action.CreateJob.class).stream()
                .anyMatch(a -> a.job().getMetadata().getName().endsWith("-inspect"));
        if (!inspecting) return last;
        String job = status().getInspection().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "inspect", 0, "Completed", report));
        Decision decided = decide();
        assertThat(actions(Action.DeleteSecret.class)).as("the inspection's credentials go at once").hasSize(1);
        assertThat(status().getInspection().getFinishedAt()).isNotNull();
        return decided;
    }

    Decision decideInPreflight() {
        return decideInPreflight(INSPECTION_REPORT);
    }

    /** Preflight inspects the database, passes, takes the Deployment (the test plays the API server), and moves on. */
    UpgradeScenario passPreflight() {
        if (phase() != Phase.Preflight) toPreflight();
        decideInPreflight();
        assertThat(actions(Action.AcquireLock.class)).as(status().getMessage()).hasSize(1);
        world.lock = Fixtures.lockedBy(ku.getMetadata().getName());
        decide();
        return this;
    }

    /** Recreate: preflight passes, the Deployment is scaled to zero and every pod is gone: BackingUp. */
    UpgradeScenario scaledDownToBackingUp() {
        ku.getSpec().setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.Recreate);
        passPreflight();
        assertThat(phase()).isEqualTo(Phase.ScalingDown);
        decide();
        world.setReplicas(0);
        world.rolloutComplete();
        decide();
        assertThat(phase()).isEqualTo(Phase.BackingUp);
        return this;
    }

    UpgradeScenario toBackingUp() {
        passPreflight();
        assertThat(phase()).isEqualTo(Phase.BackingUp);
        return this;
    }

    /**
     * What the backup Job of the fixtures' database reports: size, checksum and the counts of its snapshot; its
     * inspection (a Rolling run with no approval has the backup Job inspect) is {@link #INSPECTION_REPORT}.
     */
    static final String BACKUP_REPORT = "{\"bytes\":52428,\"dumpMillis\":1250,\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
            + "\"counts\":{\"identities\":5,\"identity_credentials\":5,\"schema_migration\":282},\"inspection\":" + INSPECTION_REPORT + "}";
    /** What a verification that restored exactly those rows reports. */
    static final String VERIFICATION_REPORT = "{\"restoreMillis\":310,\"counts\":{\"identities\":5,\"identity_credentials\":5,"
            + "\"schema_migration\":282}}";
    /** What a rehearsal that applied 33 migrations reports. */
    static final String REHEARSAL_REPORT = "{\"before\":282,\"after\":315,\"restoreMillis\":298}";

    /** BackingUp creates its Job, which then completes: VerifyingBackup (the default for PostgreSQL). */
    UpgradeScenario toVerifyingBackup() {
        if (phase() != Phase.BackingUp) toBackingUp();
        decide();
        assertThat(actions(Action.CreateJob.class)).hasSize(1);
        String job = status().getBackup().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed", BACKUP_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.VerifyingBackup);
        return this;
    }

    /** The verification Job restores the rows the backup counted: Rehearsing. */
    UpgradeScenario toRehearsing() {
        return toRehearsing(VERIFICATION_REPORT);
    }

    /**
     * The Job VerifyingBackup creates restores the dump and reports {@code verificationReport}: with a rehearsal to
     * follow it is the rehearsal Job, still running (its restore container has ended); otherwise the verification
     * Job of its own, complete.
     */
    UpgradeScenario toRehearsing(String verificationReport) {
        if (phase() != Phase.VerifyingBackup) toVerifyingBackup();
        decide();
        assertThat(actions(Action.CreateJob.class)).hasSize(1);
        String job = status().getBackup().getVerification().getJobName();
        if (ku.getSpec().rehearses()) {
            world.putJob(Fixtures.job(job), Fixtures.rehearsalPodRestored(job, verificationReport));
        } else {
            world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "verify", 0, "Completed", verificationReport));
        }
        decide();
        return this;
    }

    /** The rehearsal Job (created by VerifyingBackup) migrates the copy: Migrating. */
    UpgradeScenario toMigrating() {
        if (phase() != Phase.Rehearsing) toRehearsing();
        assertThat(phase()).isEqualTo(Phase.Rehearsing);
        decide();
        assertThat(actions(Action.CreateJob.class)).as("the Job exists already").isEmpty();
        String job = status().getRehearsal().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.rehearsalPod(job, 0, REHEARSAL_REPORT, null));
        decide();
        assertThat(phase()).isEqualTo(Phase.Migrating);
        return this;
    }

    /** Migrating creates its Job, which then completes. */
    UpgradeScenario toRollingOut() {
        if (phase() != Phase.Migrating) toMigrating();
        decide();
        assertThat(actions(Action.CreateJob.class)).hasSize(1);
        String job = status().getMigration().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "migrate", 0, "Completed", null));
        decide();
        assertThat(phase()).isEqualTo(Phase.RollingOut);
        return this;
    }

    /**
     * Recreate up to a rollout of the new release that does not complete within the rollout timeout, with the
     * given rollback policy; {@code aNewPodWasReady}: whether one new pod was seen ready meanwhile.
     */
    UpgradeScenario recreateRolloutTimedOut(io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy rollback, boolean aNewPodWasReady) {
        ku.getSpec().getRollback().setOnFailure(rollback);
        scaledDownToBackingUp();
        toRollingOut();
        decide();
        world.setImage(Fixtures.NEW_IMAGE);
        world.setReplicas(2);
        world.rolloutInProgress();
        world.deployment.getStatus().setReadyReplicas(aNewPodWasReady ? 1 : 0);
        decide();
        advance(java.time.Duration.ofMinutes(10));
        decide();
        return this;
    }

    /** RollingOut patches the image (applied here) and the rollout completes. */
    UpgradeScenario toVerifying() {
        if (phase() != Phase.RollingOut) toRollingOut();
        decide();
        assertThat(actions(Action.PatchDeployment.class)).isNotEmpty();
        world.setImage(status().getToImage());
        world.rolloutComplete();
        decide();
        assertThat(phase()).isEqualTo(Phase.Verifying);
        return this;
    }

    /** Verification sees every pod ready on the target. */
    UpgradeScenario toSucceeded() {
        if (phase() != Phase.Verifying) toVerifying();
        world.deploymentPods.clear();
        world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", status().getToImage(), true));
        world.deploymentPods.add(Fixtures.kratosPod("kratos-new-2", status().getToImage(), true));
        decide();
        assertThat(phase()).isEqualTo(Phase.Succeeded);
        return this;
    }

    // ------------------------------------------------------------ BlueGreen

    static final String TARGET_DSN = "postgres://kratos2:Other+s3cr3t%40y@db.ory.svc:5432/kratos_green?sslmode=disable&max_conns=20";
    static final String NEW_SIDE = "kratos-v1-3-1";
    static final String OLD_HASH = "6d4cf56db6";
    static final String FREEZE_REPORT = "{\"frozenAtMillis\":" + (Fixtures.T0.toEpochMilli() + 9_500) + ",\"lockMillis\":12,"
            + "\"sourceMajor\":15,\"targetMajor\":15}";

    /**
     * strategy BlueGreen with a target database, two Services selecting Kratos's pods (and one that does not), the old
     * side's two ready pods of one ReplicaSet.
     */
    UpgradeScenario blueGreen() {
        ku.getSpec().setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.BlueGreen);
        io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec blueGreen = new io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec();
        blueGreen.setTargetDatabase(new io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference("kratos-green-db", "dsn"));
        ku.getSpec().setBlueGreen(blueGreen);
        world.targetDsn = Fixtures.dsnFound(TARGET_DSN);
        world.services.add(Fixtures.service("kratos-public", java.util.Map.of("app", "kratos")));
        world.services.add(Fixtures.service("kratos-admin", java.util.Map.of("app", "kratos")));
        world.services.add(Fixtures.service("postgres", java.util.Map.of("app", "postgres")));
        world.deploymentPods.add(Fixtures.kratosPod("kratos-6d4cf56db6-a", Fixtures.OLD_IMAGE, true, OLD_HASH));
        world.deploymentPods.add(Fixtures.kratosPod("kratos-6d4cf56db6-b", Fixtures.OLD_IMAGE, true, OLD_HASH));
        return this;
    }

    /** What the replication Job reports once every table's initial copy is done. */
    static final String REPLICATION_REPORT = "{\"initialSyncMillis\":1500,\"tables\":22}";
    /** What the cut-over Job reports when the replica holds what the frozen old database holds. */
    static final String CATCH_UP_REPORT = "{\"catchUpMillis\":420,\"copyMillis\":900,\"sourceCounts\":{\"identities\":7,"
            + "\"schema_migration\":282},\"counts\":{\"identities\":7,\"schema_migration\":282}}";

    /**
     * {@link #blueGreen()} with copy Replication (the backup not verified, so replication follows the dump): preflight
     * passes, the dump is taken while the old side serves, and the run is in Replicating.
     */
    UpgradeScenario blueGreenReplicatingToReplicating() {
        blueGreen();
        ku.getSpec().getBlueGreen().setCopy(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.Replication);
        ku.getSpec().getBackup().setVerify(false);
        passPreflight();
        assertThat(phase()).isEqualTo(Phase.Preflight);
        String check = status().getBlueGreen().getTargetCheck().getJobName();
        world.putJob(Fixtures.completeJob(check), Fixtures.terminatedPod(check, "check-target", 0, "Completed",
                "{\"sourceMajor\":15,\"targetMajor\":15,\"unpublished\":1}"));
        decide();
        assertThat(phase()).as("nothing frozen before the copy is in sync").isEqualTo(Phase.BackingUp);
        decide();
        String backup = status().getBackup().getJobName();
        world.putJob(Fixtures.completeJob(backup), Fixtures.terminatedPod(backup, "backup", 0, "Completed", BACKUP_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.Replicating);
        return this;
    }

    /** The replication Job completes (the replica is in sync), then the freeze: Copying, where the cut-over runs. */
    UpgradeScenario blueGreenReplicatingToCopying() {
        if (phase() != Phase.Replicating && phase() != Phase.Freezing) blueGreenReplicatingToReplicating();
        if (phase() == Phase.Replicating) {
            decide();
            String replicate = status().getBlueGreen().getReplication().getJobName();
            world.putJob(Fixtures.completeJob(replicate), Fixtures.terminatedPod(replicate, "replicate", 0, "Completed", REPLICATION_REPORT));
            decide();
            assertThat(phase()).isEqualTo(Phase.Freezing);
        }
        decide();
        String freeze = status().getBlueGreen().getFreeze().getJobName();
        world.putJob(Fixtures.completeJob(freeze), Fixtures.terminatedPod(freeze, "freeze", 0, "Completed", FREEZE_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.Copying);
        return this;
    }

    /** What the copy's rehearsal reports: a 12.4 MB dump in 3.2 s, restored (and rolled back) in 5.1 s. */
    static final String COPY_REHEARSAL_REPORT = "{\"dumpMillis\":3200,\"restoreMillis\":5100,\"bytes\":12400000,"
            + "\"counts\":{\"identities\":5,\"schema_migration\":282}}";

    /** {@link #blueGreen()}: preflight passes and the run is in Freezing. */
    UpgradeScenario blueGreenToFreezing() {
        blueGreen();
        blueGreenToCopyRehearsal();
        completeCopyRehearsal(COPY_REHEARSAL_REPORT);
        decide();
        assertThat(phase()).isEqualTo(Phase.Freezing);
        return this;
    }

    /**
     * {@link #blueGreen()} (copy Dump) through preflight's checks: the target check's Job completes, and the decision that
     * reads it creates the copy's rehearsal Job, left running.
     */
    UpgradeScenario blueGreenToCopyRehearsal() {
        passPreflight();
        assertThat(phase()).isEqualTo(Phase.Preflight);
        String check = status().getBlueGreen().getTargetCheck().getJobName();
        world.putJob(Fixtures.completeJob(check), Fixtures.terminatedPod(check, "check-target", 0, "Completed",
                "{\"sourceMajor\":15,\"targetMajor\":15}"));
        decide();
        assertThat(phase()).as("the copy is rehearsed before the plan is written").isEqualTo(Phase.Preflight);
        assertThat(actions(Action.CreateJob.class)).extracting(a -> a.job().getMetadata().getName())
                .containsExactly(status().getBlueGreen().getCopyRehearsal().getJobName());
        return this;
    }

    /** The copy's rehearsal Job completes, reporting {@code report}. */
    void completeCopyRehearsal(String report) {
        String job = status().getBlueGreen().getCopyRehearsal().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "rehearse-copy", 0, "Completed", report));
    }

    /** The freeze Job is created and completes: BackingUp. */
    UpgradeScenario blueGreenToBackingUp() {
        if (phase() != Phase.Freezing) blueGreenToFreezing();
        decide();
        String job = status().getBlueGreen().getFreeze().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "freeze", 0, "Completed", FREEZE_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.BackingUp);
        return this;
    }

    /** The dump, then its copy into the target (counts as dumped): Migrating. */
    UpgradeScenario blueGreenToMigrating() {
        if (phase() != Phase.BackingUp) blueGreenToBackingUp();
        decide();
        String backup = status().getBackup().getJobName();
        world.putJob(Fixtures.completeJob(backup), Fixtures.terminatedPod(backup, "backup", 0, "Completed", BACKUP_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.Copying);
        decide();
        String copy = status().getBlueGreen().getCopy().getJobName();
        world.putJob(Fixtures.completeJob(copy), Fixtures.terminatedPod(copy, "copy", 0, "Completed", VERIFICATION_REPORT));
        decide();
        assertThat(phase()).isEqualTo(Phase.Migrating);
        return this;
    }

    /** The target's migration completes: StartingNewSide. */
    UpgradeScenario blueGreenToStartingNewSide() {
        if (phase() != Phase.Migrating) blueGreenToMigrating();
        decide();
        String job = status().getMigration().getJobName();
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "migrate", 0, "Completed", null));
        decide();
        assertThat(phase()).isEqualTo(Phase.StartingNewSide);
        return this;
    }

    /** Applies the Service selectors the last decision set, as the API server would. */
    void applyServiceSelectors() {
        for (Action.SetServiceSelector set : actions(Action.SetServiceSelector.class)) {
            world.services.stream().filter(svc -> svc.getMetadata().getName().equals(set.service()))
                    .forEach(svc -> svc.getSpec().setSelector(new java.util.HashMap<>(set.selector())));
        }
    }

    /** The new Deployment is created (as the last decision asked) and all its pods become ready: Switching. */
    UpgradeScenario blueGreenToSwitching() {
        if (phase() != Phase.StartingNewSide) blueGreenToStartingNewSide();
        decide();
        applyServiceSelectors();
        io.fabric8.kubernetes.api.model.apps.Deployment created = actions(Action.CreateDeployment.class).get(0).deployment();
        created.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder().withObservedGeneration(1L).withReplicas(2)
                .withUpdatedReplicas(2).withReadyReplicas(2).withAvailableReplicas(2).build());
        created.getMetadata().setGeneration(1L);
        world.newSide = created;
        decide();
        assertThat(phase()).isEqualTo(Phase.Switching);
        return this;
    }

    /** The Services move to the new side: KeepingOld. */
    UpgradeScenario blueGreenToKeepingOld() {
        if (phase() != Phase.Switching) blueGreenToSwitching();
        decide();
        applyServiceSelectors();
        decide();
        assertThat(phase()).isEqualTo(Phase.KeepingOld);
        return this;
    }

    /** Completes the cleanup Job the last decision created (thaw, empty-target), reporting {@code report}. */
    void completeCleanup(String report) {
        String job = status().getBlueGreen().getCleanup().getJobName();
        assertThat(actions(Action.CreateJob.class)).extracting(a -> a.job().getMetadata().getName()).contains(job);
        world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "cleanup", 0, "Completed", report));
    }
}
