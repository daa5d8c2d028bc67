package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** strategy BlueGreen through the phase machine: every step, the way back, and what preflight refuses. */
class BlueGreenTest {

    private final UpgradeScenario s = new UpgradeScenario();

    @Test
    void preflightRecordsTheNewSideAndTheServicesThatSelectKratosThenTheFreezeJobChecksTheTargetFirst() {
        s.blueGreenToFreezing();
        BlueGreenStatus blueGreen = s.status().getBlueGreen();
        assertThat(blueGreen.getNewDeployment()).isEqualTo(UpgradeScenario.NEW_SIDE);
        assertThat(blueGreen.getOldReplicas()).isEqualTo(2);
        assertThat(blueGreen.getServices()).extracting(svc -> svc.getName()).containsExactly("kratos-public", "kratos-admin");
        assertThat(s.status().getPlan().getSteps()).anySatisfy(step -> assertThat(step).contains("freeze writes", "empty"));
        assertThat(s.status().getPlan().getRollback()).contains("switch-back", "lost to the old side");

        s.decide();
        Job freeze = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(freeze.getMetadata().getName()).isEqualTo("kratos-upgrade-1-freeze");
        Secret credentials = s.actions(Action.CreateSecret.class).get(0).secret();
        // Both databases, the target's under TARGET_; Kratos-only DSN parameters never reach libpq.
        assertThat(credentials.getStringData()).containsEntry("PGDATABASE", "kratos").containsEntry("TARGET_PGDATABASE", "kratos_green")
                .containsEntry("TARGET_PGUSER", "kratos2").doesNotContainKey("TARGET_max_conns");
        assertThat(s.status().toString() + s.status().getMessage()).doesNotContain("Other+s3cr3t", Fixtures.PASSWORD);
    }

    @Test
    void aFullRunFreezesCopiesMigratesTheTargetStartsTheNewSideSwitchesAndReleasesTheOldSide() {
        s.blueGreenToBackingUp();
        BlueGreenStatus blueGreen = s.status().getBlueGreen();
        assertThat(blueGreen.getFrozenAt()).as("from the Job's report").isEqualTo("2025-03-01T10:00:09.500Z");
        assertThat(Conditions.get(s.status(), ConditionTypes.WRITES_FROZEN).orElseThrow().getStatus()).isEqualTo("True");

        s.blueGreenToMigrating();
        assertThat(s.status().getBackup().getVerification().getResult()).as("the copy verified the dump").isEqualTo("Verified");
        assertThat(s.status().getBackup().getVerification().getJobName()).isEqualTo("kratos-upgrade-1-copy");

        s.decide();
        Container migrate = s.actions(Action.CreateJob.class).get(0).job().getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(migrate.getImage()).isEqualTo(Fixtures.NEW_IMAGE);
        assertThat(dsn(migrate.getEnv())).as("the migration runs on the target database").isEqualTo("kratos-green-db/dsn");

        s.world.deployment.getMetadata().setLabels(new HashMap<>(Map.of("app.kubernetes.io/name", "kratos",
                "kustomize.toolkit.fluxcd.io/name", "ory", "kustomize.toolkit.fluxcd.io/namespace", "flux-system")));
        s.blueGreenToStartingNewSide();
        s.decide();
        assertThat(blueGreen(s).getOldPodTemplateHash()).isEqualTo(UpgradeScenario.OLD_HASH);
        // The Services are pinned to the old pods before the new Deployment exists: its ready pods get no traffic.
        assertThat(s.last.actions()).hasSize(3);
        assertThat(s.last.actions().get(0)).isInstanceOf(Action.SetServiceSelector.class);
        assertThat(s.last.actions().get(2)).isInstanceOf(Action.CreateDeployment.class);
        assertThat(s.actions(Action.SetServiceSelector.class)).allSatisfy(set ->
                assertThat(set.selector()).containsExactlyInAnyOrderEntriesOf(Map.of("app", "kratos", "pod-template-hash", UpgradeScenario.OLD_HASH)));
        Deployment newSide = s.actions(Action.CreateDeployment.class).get(0).deployment();
        assertThat(newSide.getMetadata().getName()).isEqualTo(UpgradeScenario.NEW_SIDE);
        assertThat(newSide.getMetadata().getOwnerReferences()).as("outlives the KratosUpgrade").isNullOrEmpty();
        assertThat(newSide.getMetadata().getLabels()).as("no GitOps tool's inventory marks").isEqualTo(Map.of("app.kubernetes.io/name", "kratos"));
        assertThat(newSide.getSpec().getSelector().getMatchLabels()).containsEntry(ServiceSelectors.COLOUR, UpgradeScenario.NEW_SIDE);
        assertThat(newSide.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("app", "kratos")
                .containsEntry(ServiceSelectors.COLOUR, UpgradeScenario.NEW_SIDE);
        Container kratos = newSide.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(kratos.getImage()).isEqualTo(Fixtures.NEW_IMAGE);
        assertThat(dsn(kratos.getEnv())).isEqualTo("kratos-green-db/dsn");
        assertThat(kratos.getEnv().stream().filter(e -> e.getName().equals("DSN"))).as("one DSN entry").hasSize(1);
        assertThat(s.world.deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .as("the old Deployment is never changed").isEqualTo(Fixtures.OLD_IMAGE);

        s.blueGreenToSwitching();
        s.decide();
        assertThat(s.actions(Action.SetServiceSelector.class)).hasSize(2).allSatisfy(set -> assertThat(set.selector())
                .containsExactlyInAnyOrderEntriesOf(Map.of("app", "kratos", ServiceSelectors.COLOUR, UpgradeScenario.NEW_SIDE)));
        s.applyServiceSelectors();
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.KeepingOld);
        assertThat(blueGreen(s).getSwitchedAt()).as("when the patches were asked for, not when they were seen")
                .isEqualTo(io.kratosupgrade.operator.lifecycle.Times.formatMillis(s.now.minusSeconds(1)));
        assertThat(blueGreen(s).getFreezeSeconds()).as("frozen at 10:00:09.5, switched one decision later").isPositive();
        assertThat(blueGreen(s).getKeepOldUntil()).isEqualTo(s.nowAsText(Duration.ofHours(1)));

        Duration left = s.decide().requeueAfter();
        assertThat(s.phase()).isEqualTo(Phase.KeepingOld);
        assertThat(left).isEqualTo(Duration.ofHours(1).minusSeconds(1));
        s.advance(Duration.ofHours(1));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Finalizing);
        assertThat(Conditions.get(s.status(), ConditionTypes.OLD_SIDE_KEPT).orElseThrow().getReason()).isEqualTo("KeepOldForPassed");

        s.decide();
        assertThat(s.actions(Action.PatchDeployment.class)).singleElement().satisfies(p -> assertThat(p.jsonPatch()).contains("\"value\":0"));
        s.world.setReplicas(0);
        s.decide();
        assertThat(s.phase()).as("the old pods still run").isEqualTo(Phase.Finalizing);
        s.world.deploymentPods.clear();
        s.decide();
        assertThat(s.actions(Action.SetServiceSelector.class)).as("their own selectors back").hasSize(2)
                .allSatisfy(set -> assertThat(set.selector()).isEqualTo(Map.of("app", "kratos")));
        s.applyServiceSelectors();
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Succeeded);
        assertThat(s.status().getMessage()).contains("kratos-v1-3-1 serves on the target database", "scaled to zero", "spec.deploymentName");
        assertThat(s.actions(Action.ReleaseLock.class)).hasSize(1);
        // Each step's credentials Secret again, in case an operator killed as the step ended left it.
        assertThat(s.actions(Action.DeleteSecret.class)).extracting(Action.DeleteSecret::name).contains("kratos-upgrade-1-inspect-db",
                "kratos-upgrade-1-check-target-db", "kratos-upgrade-1-rehearse-copy-db", "kratos-upgrade-1-freeze-db", "kratos-upgrade-1-backup-db", "kratos-upgrade-1-copy-db");

        // The old Deployment keeps the old release, on the old database that was never migrated: no image was put back.
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.Succeeded);
        assertThat(Conditions.get(s.status(), ConditionTypes.IMAGE_REVERTED)).as("ImageReverted").isEmpty();
        assertThat(s.last.events()).noneSatisfy(e -> assertThat(e.reason()).isEqualTo("ImageReverted"));
    }

    @Test
    void theSwitchBackAnnotationNamingTheRunMovesTrafficBackAfterTheOldSideCanWriteAgainAndKeepsTheTarget() {
        s.blueGreenToKeepingOld();
        annotate(KratosUpgrade.SWITCH_BACK_ANNOTATION, "0");
        s.decide();
        assertThat(s.phase()).as("an annotation naming another run decides nothing").isEqualTo(Phase.KeepingOld);

        annotate(KratosUpgrade.SWITCH_BACK_ANNOTATION, "1");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        s.decide();
        // First the old database accepts writes again, and only then does traffic return.
        assertThat(s.actions(Action.SetServiceSelector.class)).isEmpty();
        Job thaw = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(thaw.getMetadata().getName()).isEqualTo("kratos-upgrade-1-thaw");
        assertThat(env(thaw, "THAW")).isEqualTo("true");
        assertThat(env(thaw, "EMPTY_TARGET")).isEqualTo("false");
        s.completeCleanup("{\"thawed\":true,\"thawedAtMillis\":1,\"emptied\":false}");
        s.decide();
        assertThat(s.actions(Action.SetServiceSelector.class)).hasSize(2).allSatisfy(set -> assertThat(set.selector())
                .containsEntry("pod-template-hash", UpgradeScenario.OLD_HASH));
        assertThat(blueGreen(s).getSwitchedBackAt()).isNotNull();
        s.applyServiceSelectors();
        s.decide();
        assertThat(s.actions(Action.DeleteDeployment.class)).singleElement().satisfies(d -> assertThat(d.name()).isEqualTo(UpgradeScenario.NEW_SIDE));
        s.world.newSide = null;
        s.decide();
        s.applyServiceSelectors();
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.RolledBack);
        assertThat(s.status().getFailureReason()).isNull();
        assertThat(blueGreen(s).getTargetEmptied()).as("the target served: it keeps what was written there").isNull();
        assertThat(blueGreen(s).getFreezeSeconds()).as("the freeze ended at the switch, not at the thaw").isLessThan(60);
        assertThat(s.status().getMessage()).contains("switched back on request", "keeps what was written on the new side");
    }

    @Test
    void aNewSideThatNeverBecomesReadyEndsTheRunWithTheOldSideWritableAndTheTargetEmptied() {
        s.blueGreenToStartingNewSide();
        s.decide();
        s.applyServiceSelectors();
        Deployment created = s.actions(Action.CreateDeployment.class).get(0).deployment();
        created.getMetadata().setGeneration(1L);
        created.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder().withObservedGeneration(1L).withReplicas(2)
                .withUpdatedReplicas(2).withReadyReplicas(0).withAvailableReplicas(0).build());
        s.world.newSide = created;
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.StartingNewSide);
        s.advance(Duration.ofMinutes(11));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("NewSideNotReady");

        s.decide();
        s.completeCleanup("{\"thawed\":true,\"thawedAtMillis\":" + (Fixtures.T0.toEpochMilli() + 700_000) + ",\"emptied\":false}");
        s.decide();
        assertThat(blueGreen(s).getOldWritesRestored()).isTrue();
        assertThat(blueGreen(s).getFreezeSeconds()).as("frozen until the thaw").isEqualTo(690.5);
        assertThat(s.actions(Action.SetServiceSelector.class)).as("already pinned to the old pods").isEmpty();
        assertThat(s.actions(Action.DeleteDeployment.class)).hasSize(1);
        s.world.newSide = null;
        s.world.newSidePods.add(Fixtures.kratosPod("kratos-v1-3-1-x", Fixtures.NEW_IMAGE, false));
        s.decide();
        assertThat(s.status().getMessage()).contains("waiting for the new side's pods to stop");
        s.world.newSidePods.clear();
        s.decide();
        assertThat(s.actions(Action.SetServiceSelector.class)).hasSize(2).allSatisfy(set -> assertThat(set.selector()).isEqualTo(Map.of("app", "kratos")));
        s.applyServiceSelectors();
        s.decide();
        Job empty = s.actions(Action.CreateJob.class).get(0).job();
        assertThat(env(empty, "EMPTY_TARGET")).isEqualTo("true");
        assertThat(env(empty, "THAW")).isEqualTo("false");
        s.completeCleanup("{\"thawed\":false,\"thawedAtMillis\":1,\"emptied\":true}");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.RolledBack);
        assertThat(s.status().getFailureReason()).isEqualTo("NewSideNotReady");
        assertThat(blueGreen(s).getTargetEmptied()).isTrue();
        assertThat(s.status().getMessage()).contains("the target database was emptied for a retry");
    }

    @Test
    void aNewPodInACrashLoopEndsTheWaitAtOnceWhileWritesAreFrozen() {
        s.blueGreenToStartingNewSide();
        s.decide();
        s.applyServiceSelectors();
        Deployment created = s.actions(Action.CreateDeployment.class).get(0).deployment();
        created.getMetadata().setGeneration(1L);
        s.world.newSide = created;
        s.world.newSidePods.add(Fixtures.waitingPod("kratos-v1-3-1-abc", "kratos", "CrashLoopBackOff"));
        s.decide();
        assertThat(s.phase()).as("long before rollout.timeout").isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("NewSideNotReady");
        assertThat(s.status().getFailureMessage()).contains("CrashLoopBackOff");
    }

    @Test
    void aFreezeStillRunningAtItsDeadlineIsStoppedAndWaitedForBeforeTheThaw() {
        s.blueGreenToFreezing();
        s.decide();
        String job = s.status().getBlueGreen().getFreeze().getJobName();
        s.world.putJob(Fixtures.job(job), Fixtures.kratosPod(job + "-p", "postgres:15", true));
        s.advance(Duration.ofMinutes(10));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("FreezeFailed");

        s.decide();
        assertThat(s.actions(Action.SuspendJob.class)).singleElement().satisfies(a -> assertThat(a.name()).isEqualTo(job));
        assertThat(s.actions(Action.CreateJob.class)).as("no thaw while the freeze may still commit").isEmpty();
        s.world.jobs.get(job).getSpec().setSuspend(true);
        s.decide();
        assertThat(s.actions(Action.CreateJob.class)).isEmpty();
        s.world.pods.put(job, List.of());
        s.decide();
        assertThat(s.actions(Action.CreateJob.class)).extracting(a -> a.job().getMetadata().getName()).containsExactly("kratos-upgrade-1-thaw");
    }

    @Test
    void preflightChecksTheTargetDatabaseWithAJobAndATargetInUseEndsTheRunBeforeAnythingIsFrozen() {
        UpgradeScenario refused = new UpgradeScenario().blueGreen();
        refused.toPreflight();
        refused.decideInPreflight();
        Job check = refused.actions(Action.CreateJob.class).get(0).job();
        assertThat(check.getMetadata().getName()).isEqualTo("kratos-upgrade-1-check-target");
        assertThat(String.join(" ", check.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand()))
                .contains("TARGET_NOT_EMPTY").doesNotContain("revoke");
        refused.world.putJob(Fixtures.failedJob(check.getMetadata().getName(), "BackoffLimitExceeded"), Fixtures.terminatedPod(
                check.getMetadata().getName(), "check-target", 1, "Error", "TARGET_NOT_EMPTY: the target database's schema holds 12 tables"));
        refused.decide();
        assertThat(refused.phase()).isEqualTo(Phase.Failed);
        assertThat(refused.status().getFailureReason()).isEqualTo("TargetDatabaseNotEmpty");
        assertThat(refused.status().getFailureMessage()).contains("holds 12 tables", "Nothing was changed");
    }

    @Test
    void aFreezeTheDatabaseRefusesFailsWithItsReason() {
        s.blueGreenToFreezing();
        s.decide();
        String job = s.status().getBlueGreen().getFreeze().getJobName();
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "freeze", 1, "Error",
                "TARGET_NOT_EMPTY: the target database's schema holds 3 tables, views or sequences; blue/green needs an empty one"));
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("TargetDatabaseNotEmpty");
        assertThat(s.status().getFailureMessage()).contains("holds 3 tables");
    }

    @Test
    void deletingTheObjectBeforeTheSwitchSwitchesBackFirstAndAfterItReleasesTheOldSide() {
        s.blueGreenToBackingUp();
        assertThat(io.kratosupgrade.operator.lifecycle.Deletion.finishesRunFirst(s.ku)).as("the old database is frozen").isTrue();
        s.ku.getMetadata().setDeletionTimestamp("2025-03-01T10:05:00Z");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("Deleted");

        UpgradeScenario kept = new UpgradeScenario().blueGreenToKeepingOld();
        kept.ku.getMetadata().setDeletionTimestamp("2025-03-01T10:05:00Z");
        kept.decide();
        assertThat(kept.phase()).as("the new side keeps serving").isEqualTo(Phase.Finalizing);
        assertThat(kept.status().getFailureReason()).isNull();

        UpgradeScenario notYet = new UpgradeScenario().blueGreenToFreezing();
        notYet.status().setPhase(Phase.Preflight);
        assertThat(io.kratosupgrade.operator.lifecycle.Deletion.finishesRunFirst(notYet.ku)).as("nothing touched yet").isFalse();
    }

    @Test
    void preflightRefusesWhatBlueGreenCannotDoAndTouchesNothing() {
        assertRefused(w -> w.services.removeIf(svc -> svc.getMetadata().getName().startsWith("kratos")), "NoServiceSelectsKratos");
        assertRefused(w -> w.targetDsn = Fixtures.dsnFound(Fixtures.POSTGRES_DSN), "TargetIsSource");
        assertRefused(w -> w.targetDsn = Fixtures.dsnSecretMissing(), "TargetDatabaseNotFound");
        assertRefused(w -> w.newSide = Fixtures.deployment(Fixtures.NEW_IMAGE), "NewDeploymentExists");
        assertRefused(w -> w.dsn = Fixtures.dsnFound("mysql://kratos:pw@tcp(db:3306)/kratos"), "UnsupportedDatabase");
        assertRefused(w -> w.rolloutInProgress(), "RolloutInProgress");
        assertRefused(w -> w.services.get(0).getMetadata().setAnnotations(Map.of("argocd.argoproj.io/tracking-id", "ory:/Service:ory/kratos-public")),
                "ManagedByGitOps");
    }

    private void assertRefused(java.util.function.Consumer<Fixtures.World> breakIt, String reason) {
        UpgradeScenario refused = new UpgradeScenario().blueGreen();
        breakIt.accept(refused.world);
        refused.toPreflight();
        refused.decideInPreflight();
        assertThat(refused.phase()).as(reason).isEqualTo(Phase.Failed);
        assertThat(refused.status().getFailureReason()).isEqualTo(reason);
        assertThat(refused.last.actions()).as(reason + ": nothing touched").allSatisfy(a ->
                assertThat(a).isInstanceOfAny(Action.ReleaseLock.class, Action.DeleteSecret.class, Action.CreateSecret.class, Action.CreateJob.class));
        assertThat(refused.actions(Action.CreateJob.class)).as(reason + ": no Job but the inspection")
                .allSatisfy(a -> assertThat(a.job().getMetadata().getName()).endsWith("-inspect"));
    }

    private void annotate(String key, String value) {
        if (s.ku.getMetadata().getAnnotations() == null) s.ku.getMetadata().setAnnotations(new HashMap<>());
        s.ku.getMetadata().getAnnotations().put(key, value);
    }

    private static BlueGreenStatus blueGreen(UpgradeScenario s) {
        return s.status().getBlueGreen();
    }

    /** "secret/key" of the DSN env entry. */
    private static String dsn(List<EnvVar> env) {
        EnvVar dsn = env.stream().filter(e -> e.getName().equals("DSN")).reduce((a, b) -> b).orElseThrow();
        return dsn.getValueFrom().getSecretKeyRef().getName() + "/" + dsn.getValueFrom().getSecretKeyRef().getKey();
    }

    private static String env(Job job, String name) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals(name))
                .findFirst().orElseThrow().getValue();
    }
}
