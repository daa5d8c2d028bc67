package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.RunRecord;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The phase machine end to end over its handlers, with hand-built observations and a fixed clock. */
class PhaseMachineTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final UpgradeScenario s = new UpgradeScenario();

    private Condition condition(String type) {
        return Conditions.get(s.status(), type).orElseThrow(() -> new AssertionError("no condition " + type));
    }

    private String secretName() {
        return Names.backupCredentialsSecret(s.ku, s.status().getRun());
    }

    @Nested
    class Start {

        @Test
        void aFreshObjectStartsRunOneAndPassesPendingInTheSameDecision() {
            s.ku.getMetadata().setGeneration(3L);

            Decision d = s.decide();

            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.phase()).isEqualTo(Phase.Preflight);
            assertThat(d.transitions()).singleElement().satisfies(t -> {
                assertThat(t.from()).isEqualTo(Phase.Pending);
                assertThat(t.to()).isEqualTo(Phase.Preflight);
                assertThat(t.runResult()).isNull();
            });
            assertThat(s.status().getObservedGeneration()).isEqualTo(3L);
            assertThat(s.status().getRunGeneration()).isEqualTo(3L);
            assertThat(s.status().getToVersion()).isEqualTo("v1.3.1");
            assertThat(s.status().getStartedAt()).isEqualTo(Times.format(s.now));
            assertThat(d.requeueAfter()).isZero();
            // Preflight's checks run in the next pass, with what that phase observes.
            assertThat(d.actions()).isEmpty();
            assertThat(d.events()).extracting(Decision.Event::reason).containsExactly("RunAccepted");
            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.RECONCILING).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getStatus()).isEqualTo("Unknown");
        }
    }

    @Nested
    class BackingUp {

        @Test
        void createsTheCredentialsSecretAndTheJobWithoutLeakingThePassword() throws Exception {
            s.toBackingUp();

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.BackingUp);
            assertThat(d.actions()).hasSize(2);
            Action.CreateSecret createSecret = (Action.CreateSecret) d.actions().get(0);
            Action.CreateJob createJob = (Action.CreateJob) d.actions().get(1);
            assertThat(createSecret.secret().getMetadata().getName()).isEqualTo(secretName());
            assertThat(createSecret.secret().getStringData())
                    .containsEntry("PGPASSWORD", Fixtures.PASSWORD)
                    .containsEntry("PGHOST", "db.ory.svc")
                    .containsEntry("PGSSLMODE", "disable")
                    .doesNotContainKeys("max_conns", "max_idle_conns");
            Job job = createJob.job();
            assertThat(job.getMetadata().getName()).isEqualTo(s.status().getBackup().getJobName());
            Container dump = job.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertThat(dump.getEnvFrom().get(0).getSecretRef().getName()).isEqualTo(secretName());
            assertThat(dump.getImage()).isEqualTo("kratos-upgrade-db-tools:latest");

            String everythingShown = JSON.writeValueAsString(s.status()) + d.events() + s.status().getMessage()
                    + createSecret + createSecret.describe() + JSON.writeValueAsString(job);
            assertThat(everythingShown).doesNotContain("Hunter2", "s3cr3t");
        }

        @Test
        void completedJobMovesToVerifyingBackupAndDeletesTheSecret() {
            s.toVerifyingBackup();

            assertThat(s.last.actions()).containsExactly(new Action.DeleteSecret("kratos-upgrade-1-backup-db"));
            assertThat(s.status().getBackup().getBytes()).isEqualTo(52428L);
            assertThat(s.status().getBackup().getDumpSeconds()).isEqualTo(1.25);
            assertThat(s.status().getBackup().getSha256()).startsWith("9f86d0");
            assertThat(s.status().getBackup().getFinishedAt()).isNotNull();
            assertThat(condition(ConditionTypes.BACKED_UP).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.BACKED_UP).getReason()).isEqualTo("BackupComplete");
            assertThat(condition(ConditionTypes.BACKUP_VERIFIED).getStatus()).isEqualTo("Unknown");
            assertThat(s.status().getBackup().getCounts()).containsEntry("identities", 5L);
            assertThat(s.status().getBackup().getVerification().getJobName()).as("the rehearsal Job verifies").isEqualTo("kratos-upgrade-1-rehearse");
        }

        @Test
        void failedJobUnderRollingFailsTheRunAndLeavesTheDeploymentAlone() {
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"),
                    Fixtures.terminatedPod(job, "backup", 1, "Error", null));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("BackupFailed");
            assertThat(s.status().getMessage()).contains("nothing was migrated", "exited 1");
            assertThat(d.actions()).contains(new Action.DeleteSecret(secretName()), new Action.ReleaseLock("kratos"));
            assertThat(d.actions()).noneMatch(a -> a instanceof Action.SuspendJob || a instanceof Action.PatchDeployment);
            assertThat(condition(ConditionTypes.BACKED_UP).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("True");
        }

        @Test
        void failedJobUnderRecreateRollsBackTheScaleDown() {
            s.ku.getSpec().setStrategy(Strategy.Recreate);
            s.passPreflight();
            assertThat(s.phase()).isEqualTo(Phase.ScalingDown);
            s.decide();
            assertThat(s.last.actions()).singleElement()
                    .isEqualTo(new Action.PatchDeployment("kratos", DeploymentPatches.setReplicas(0), "replicas 0"));
            s.world.setReplicas(0);
            s.world.rolloutComplete();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.BackingUp);
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "DeadlineExceeded"));

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getFailureReason()).isEqualTo("BackupFailed");
            assertThat(s.last.actions()).contains(new Action.DeleteSecret(secretName()));

            s.decide();
            assertThat(s.last.actions()).singleElement()
                    .isEqualTo(new Action.PatchDeployment("kratos", DeploymentPatches.setReplicas(2), "replicas 2"));
            s.world.setReplicas(2);
            s.world.rolloutComplete();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.RolledBack);
            assertThat(s.status().getHistory().get(0).getResult()).isEqualTo("RolledBack");
            assertThat(s.status().getHistory().get(0).getReason()).isEqualTo("BackupFailed");
        }

        @Test
        void podThatCannotPullItsImageFailsAtOnceAndSuspendsTheJob() {
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.job(job), Fixtures.waitingPod(job, "backup", "ErrImagePull"));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("BackupFailed");
            assertThat(s.status().getMessage()).contains("ErrImagePull");
            assertThat(d.actions()).contains(new Action.SuspendJob(job), new Action.DeleteSecret(secretName()));
        }

        @Test
        void aJobWhosePodTheApiServerRefusesFailsAtOnceWithTheRefusal() {
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.job(job));
            s.world.podCreationFailures.put(job, "Error creating: pods \"" + job + "-x\" is forbidden: violates PodSecurity "
                    + "\"restricted:latest\": seccompProfile");

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getMessage()).contains("cannot be created", "violates PodSecurity");
            assertThat(d.actions()).contains(new Action.SuspendJob(job), new Action.DeleteSecret(secretName()));
        }

        @Test
        void runningJobWaitsUntilItsDeadline() {
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.job(job), Fixtures.waitingPod(job, "backup", "ContainerCreating"));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.BackingUp);
            assertThat(d.actions()).isEmpty();
            // 30m Job timeout + 30s grace, counted from the step's start (two decisions = 2s ago).
            assertThat(d.requeueAfter()).isEqualTo(Duration.ofMinutes(30).plusSeconds(30).minusSeconds(2));
        }
    }

    @Nested
    class Migrating {

        @Test
        void jobIsBuiltFromTheDeploymentTemplateWithTheTargetImage() {
            s.toMigrating();

            Decision d = s.decide();

            Job job = ((Action.CreateJob) d.actions().get(0)).job();
            PodSpec pod = job.getSpec().getTemplate().getSpec();
            Container migrate = pod.getContainers().get(0);
            assertThat(job.getMetadata().getName()).isEqualTo("kratos-upgrade-1-migrate");
            assertThat(migrate.getImage()).isEqualTo(Fixtures.NEW_IMAGE);
            assertThat(migrate.getArgs()).containsExactly("migrate", "sql", "-e", "--yes", "--config", Fixtures.CONFIG_ARG);
            assertThat(migrate.getEnv()).isEqualTo(Fixtures.kratosContainer(Fixtures.OLD_IMAGE).getEnv());
            assertThat(pod.getServiceAccountName()).isEqualTo("kratos");
            assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
            assertThat(s.phase()).isEqualTo(Phase.Migrating);
        }

        @Test
        void aRunWaitsInMigratingForAMigrationSlotWithoutTheStepsClockRunning() {
            s.toMigrating();
            s.world.migrationSlot = false;
            s.advance(Duration.ofMinutes(20));

            Decision waiting = s.decide();

            assertThat(waiting.actions()).as("no migration Job while the operator runs its maximum").isEmpty();
            assertThat(s.phase()).isEqualTo(Phase.Migrating);
            assertThat(s.status().getMessage()).contains("waiting for a migration slot", "kratos-upgrade.max-concurrent-migrations");
            assertThat(waiting.requeueAfter()).isEqualTo(Duration.ofSeconds(10));

            s.world.migrationSlot = true;
            Decision started = s.decide();
            assertThat(started.actions()).singleElement().isInstanceOf(Action.CreateJob.class);
            assertThat(s.status().getMigration().getStartedAt()).as("the step starts with its Job, not with the wait")
                    .isEqualTo(io.kratosupgrade.operator.lifecycle.Times.format(s.now));
        }

        @Test
        void failedMigrationFailsTheRun() {
            s.toMigrating();
            s.decide();
            String job = s.status().getMigration().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "migrate", 1, "Error", null));

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("MigrationFailed");
            assertThat(s.status().getMessage()).contains("still runs " + Fixtures.OLD_IMAGE);
            assertThat(s.status().getDatabaseVersion()).isNull();
            assertThat(condition(ConditionTypes.MIGRATED).getStatus()).isEqualTo("False");
        }

        @Test
        void migrationPastItsDeadlineTimesOutAndIsSuspended() {
            s.toMigrating();
            s.decide();
            String job = s.status().getMigration().getJobName();
            s.world.putJob(Fixtures.job(job));
            s.advance(Duration.ofMinutes(16));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("MigrationTimeout");
            assertThat(d.actions()).contains(new Action.SuspendJob(job));
        }

        @Test
        void completedMigrationRecordsTheDatabaseVersionAndRollsOut() {
            s.toRollingOut();

            assertThat(s.status().getDatabaseVersion()).isEqualTo("v1.3.1");
            assertThat(condition(ConditionTypes.MIGRATED).getStatus()).isEqualTo("True");
            assertThat(s.status().getRollout().getStartedAt()).isEqualTo(Times.format(s.now));
        }
    }

    @Nested
    class RollingOut {

        @Test
        void patchesTheImageThenWaitsForTheRollout() {
            s.toRollingOut();

            Decision d = s.decide();
            assertThat(d.actions()).containsExactly(new Action.PatchDeployment("kratos",
                    DeploymentPatches.setImage(0, "kratos", Fixtures.NEW_IMAGE), "image " + Fixtures.NEW_IMAGE));
            assertThat(s.phase()).isEqualTo(Phase.RollingOut);

            s.world.setImage(Fixtures.NEW_IMAGE);
            d = s.decide();
            assertThat(d.actions()).isEmpty();
            assertThat(s.phase()).isEqualTo(Phase.RollingOut);

            s.world.rolloutInProgress();
            d = s.decide();
            assertThat(s.phase()).isEqualTo(Phase.RollingOut);
            assertThat(s.status().getMessage()).contains("1 of 2 new replicas");

            s.world.rolloutComplete();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.Verifying);
            assertThat(condition(ConditionTypes.ROLLED_OUT).getStatus()).isEqualTo("True");
        }

        private void rolloutStuckPastTimeout() {
            s.toRollingOut();
            s.decide();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.world.rolloutInProgress();
            s.advance(Duration.ofMinutes(10));
            s.decide();
        }

        @Test
        void timeoutWithRollbackImageRollsBack() {
            rolloutStuckPastTimeout();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getFailureReason()).isEqualTo("RolloutTimeout");
            assertThat(condition(ConditionTypes.ROLLED_OUT).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.ROLLED_BACK).getStatus()).isEqualTo("Unknown");
        }

        @Test
        void timeoutWithRollbackNoneFails() {
            s.ku.getSpec().getRollback().setOnFailure(RollbackPolicy.None);

            rolloutStuckPastTimeout();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("RolloutTimeout");
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("True");
            assertThat(s.last.actions()).contains(new Action.ReleaseLock("kratos"));
            assertThat(s.last.actions()).noneMatch(a -> a instanceof Action.PatchDeployment);
        }

        @Test
        void progressDeadlineExceededFailsBeforeTheTimeout() {
            s.toRollingOut();
            s.decide();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.world.rolloutInProgress();
            s.world.deployment.getStatus().getConditions().add(new DeploymentConditionBuilder().withType("Progressing")
                    .withStatus("False").withReason("ProgressDeadlineExceeded").withMessage("timed out").build());

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getFailureReason()).isEqualTo("RolloutFailed");
        }
    }

    @Nested
    class RollingBack {

        private void rollBackAfterTimeout() {
            s.toRollingOut();
            s.decide();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.world.rolloutInProgress();
            s.advance(Duration.ofMinutes(10));
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
        }

        @Test
        void restoresThePreviousImageAndEndsRolledBack() {
            rollBackAfterTimeout();

            Decision d = s.decide();
            assertThat(d.actions()).containsExactly(new Action.PatchDeployment("kratos",
                    DeploymentPatches.setImage(0, "kratos", Fixtures.OLD_IMAGE), "image " + Fixtures.OLD_IMAGE));

            s.world.setImage(Fixtures.OLD_IMAGE);
            s.world.rolloutComplete();
            d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RolledBack);
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.STALLED).getReason()).isEqualTo("RolloutTimeout");
            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.ROLLED_BACK).getStatus()).isEqualTo("True");
            RunRecord record = s.status().getHistory().get(0);
            assertThat(record.getResult()).isEqualTo("RolledBack");
            assertThat(record.getReason()).isEqualTo("RolloutTimeout");
            assertThat(d.actions()).contains(new Action.ReleaseLock("kratos"));
            assertThat(d.events()).anySatisfy(e -> assertThat(e.warning()).isTrue());
        }
        @Test
        void rolledBackMessageKeepsTheCause() {
            rollBackAfterTimeout();
            s.decide();
            s.world.setImage(Fixtures.OLD_IMAGE);
            s.world.rolloutComplete();
            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RolledBack);
            assertThat(s.status().getMessage()).contains("did not complete within 10m");
        }
    }

    @Nested
    class Verifying {

        @Test
        void readyPodOnTheOldImageKeepsVerifying() {
            s.toVerifying();
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-old-1", Fixtures.OLD_IMAGE, true));
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", Fixtures.NEW_IMAGE, true));
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-2", Fixtures.NEW_IMAGE, true));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Verifying);
            assertThat(s.status().getMessage()).contains("kratos-old-1 (" + Fixtures.OLD_IMAGE + ")");
            assertThat(d.requeueAfter()).isEqualTo(Duration.ofSeconds(2));
        }

        @Test
        void tooFewReadyPodsKeepsVerifying() {
            s.toVerifying();
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", Fixtures.NEW_IMAGE, true));
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-2", Fixtures.NEW_IMAGE, false));
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-old-1", Fixtures.OLD_IMAGE, false));

            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Verifying);
            assertThat(s.status().getMessage()).contains("1 of 2 pods are ready");
            // Readiness moves the Deployment's status, whose informer wakes the run: no polling, a safety net only.
            assertThat(d.requeueAfter()).isEqualTo(Duration.ofMinutes(1));
        }

        @Test
        void allReadyOnTheTargetSucceeds() {
            s.toSucceeded();

            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.RECONCILING).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.VERIFIED).getStatus()).isEqualTo("True");
            assertThat(s.status().getHistory()).singleElement().satisfies(r -> {
                assertThat(r.getRun()).isEqualTo(1);
                assertThat(r.getResult()).isEqualTo("Succeeded");
                assertThat(r.getFromVersion()).isEqualTo("v1.1.0");
                assertThat(r.getToVersion()).isEqualTo("v1.3.1");
                assertThat(r.getBackupFile()).isEqualTo(s.status().getBackup().getFile());
                assertThat(r.getDurationSeconds()).isPositive();
            });
            assertThat(s.status().getFinishedAt()).isEqualTo(Times.format(s.now));
            assertThat(s.last.actions()).contains(new Action.ReleaseLock("kratos"));
            assertThat(s.last.transitions()).singleElement().satisfies(t -> assertThat(t.runResult()).isEqualTo("Succeeded"));
        }

        @Test
        void podsNeverReadyFailVerificationAfterTheRolloutTimeout() {
            s.toVerifying();
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", Fixtures.NEW_IMAGE, false));
            s.advance(Duration.ofMinutes(10));

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getFailureReason()).isEqualTo("VerificationFailed");
        }
    }

    @Nested
    class NewRuns {

        @Test
        void generationBumpWithTheSameTargetDoesNotRepeatASucceededRun() {
            s.toSucceeded();
            s.ku.getSpec().getRollout().setTimeout("20m");
            s.bumpGeneration();

            Decision d = s.decide();

            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.phase()).isEqualTo(Phase.Succeeded);
            assertThat(s.status().getObservedGeneration()).isEqualTo(2L);
            assertThat(condition(ConditionTypes.READY).getObservedGeneration()).isEqualTo(2L);
            assertThat(s.status().getHistory()).hasSize(1);
            assertThat(d.actions()).isEmpty();
            assertThat(d.events()).isEmpty();

            s.decide();
            assertThat(s.status().getRun()).isEqualTo(1);
        }

        @Test
        void newVersionStartsRunTwo() {
            s.toSucceeded();
            s.ku.getSpec().setVersion("v1.4.0");
            s.bumpGeneration();

            s.decide();

            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.phase()).isEqualTo(Phase.Preflight);
            assertThat(s.status().getToVersion()).isEqualTo("v1.4.0");
            assertThat(s.status().getFromVersion()).isNull();
            assertThat(s.status().getBackup()).isNull();
            assertThat(s.status().getDatabaseVersion()).isEqualTo("v1.3.1");
            assertThat(s.status().getHistory()).hasSize(1);
            assertThat(s.status().getConditions()).extracting(Condition::getType)
                    .doesNotContain(ConditionTypes.BACKED_UP, ConditionTypes.MIGRATED, ConditionTypes.VERIFIED);
            assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getStatus()).isEqualTo("Unknown");
            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("False");
        }

        private void annotateRetry(KratosUpgrade ku, String token) {
            Map<String, String> annotations = new HashMap<>();
            annotations.put(KratosUpgrade.RETRY_ANNOTATION, token);
            ku.getMetadata().setAnnotations(annotations);
        }

        @Test
        void retryAnnotationRestartsAFailedRunOncePerToken() {
            s.world.backupVolumeExists = false;
            s.toPreflight();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.Failed);

            s.decide();
            assertThat(s.status().getRun()).isEqualTo(1);

            annotateRetry(s.ku, "1");
            Decision d = s.decide();
            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.phase()).isEqualTo(Phase.Preflight);
            assertThat(s.status().getRetryToken()).isEqualTo("1");
            assertThat(s.status().getFailureReason()).isNull();
            assertThat(d.events()).anySatisfy(e -> assertThat(e.message()).contains("retry"));

            s.decide();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.Failed);
            s.decide();
            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getHistory()).extracting(RunRecord::getRun).containsExactly(2, 1);

            annotateRetry(s.ku, "2");
            s.decide();
            assertThat(s.status().getRun()).isEqualTo(3);
        }

        @Test
        void retryAnnotationDoesNotRepeatASucceededRun() {
            s.toSucceeded();
            annotateRetry(s.ku, "again");

            s.decide();

            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.phase()).isEqualTo(Phase.Succeeded);
        }

        @Test
        void specChangeDuringBackupUnderRollingSupersedesTheRunWhenTheBackupEnds() {
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            String file = s.status().getBackup().getFile();
            s.world.putJob(Fixtures.job(job));
            s.ku.getSpec().setVersion("v1.4.0");
            s.bumpGeneration();

            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.BackingUp);
            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.status().getMessage()).contains("the spec changed");

            s.world.putJob(Fixtures.completeJob(job));
            Decision d = s.decide();

            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.phase()).isEqualTo(Phase.Pending);
            assertThat(s.status().getToVersion()).isEqualTo("v1.4.0");
            assertThat(s.status().getRunGeneration()).isEqualTo(2L);
            RunRecord superseded = s.status().getHistory().get(0);
            assertThat(superseded.getRun()).isEqualTo(1);
            assertThat(superseded.getResult()).isEqualTo("Superseded");
            assertThat(superseded.getToVersion()).isEqualTo("v1.3.1");
            assertThat(superseded.getBackupFile()).isEqualTo(file);
            assertThat(d.actions()).contains(new Action.DeleteSecret("kratos-upgrade-1-backup-db"));
            assertThat(d.transitions()).singleElement().satisfies(t -> assertThat(t.runResult()).isEqualTo("Superseded"));
            assertThat(s.status().getMessage()).contains("run 2 accepted");
        }

        @Test
        void specChangeInPreflightSupersedesAtOnce() {
            s.toPreflight();
            s.ku.getSpec().setVersion("v1.4.0");
            s.bumpGeneration();

            s.decide();

            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.phase()).isEqualTo(Phase.Pending);
            assertThat(s.status().getHistory().get(0).getResult()).isEqualTo("Superseded");
        }

        @Test
        void specChangeAfterTheImageChangedFinishesTheRunFirst() {
            s.toRollingOut();
            s.decide();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.ku.getSpec().setVersion("v1.4.0");
            s.bumpGeneration();
            s.world.rolloutComplete();

            s.decide();

            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.phase()).isEqualTo(Phase.Verifying);
            s.toSucceeded();
            s.decide();
            assertThat(s.status().getRun()).isEqualTo(2);
            assertThat(s.status().getToVersion()).isEqualTo("v1.4.0");
        }
        @Test
        void strategyEditAfterScaleDownDoesNotAbandonTheScaledDownDeployment() {
            s.scaledDownToBackingUp();
            s.decide();
            s.ku.getSpec().setStrategy(Strategy.Rolling);
            s.bumpGeneration();
            s.world.putJob(Fixtures.completeJob(s.status().getBackup().getJobName()));

            s.decide();

            assertThat(s.status().getRun()).isEqualTo(1);
            assertThat(s.phase()).as("run 1 goes on with its backup's verification").isEqualTo(Phase.VerifyingBackup);
        }
        @Test
        void backupPolicyEditWhileScalingDownDoesNotCrash() {
            s.ku.getSpec().setStrategy(Strategy.Recreate);
            s.ku.getSpec().getBackup().setPolicy(BackupPolicy.Skip);
            s.passPreflight();
            assertThat(s.phase()).isEqualTo(Phase.ScalingDown);
            s.decide();
            s.world.setReplicas(0);
            s.world.rolloutComplete();
            s.ku.getSpec().getBackup().setPolicy(BackupPolicy.Required);
            s.bumpGeneration();

            assertThatCode(s::decide).doesNotThrowAnyException();
        }
    }

    @Nested
    class ConditionBookkeeping {

        @Test
        void everyConditionCarriesTheRunGeneration() {
            s.ku.getMetadata().setGeneration(7L);

            s.toMigrating();

            assertThat(s.status().getConditions()).isNotEmpty()
                    .allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(7L));
            assertThat(s.status().getConditions()).extracting(Condition::getType).contains(
                    ConditionTypes.READY, ConditionTypes.RECONCILING, ConditionTypes.STALLED,
                    ConditionTypes.PREFLIGHT_PASSED, ConditionTypes.BACKED_UP, ConditionTypes.MIGRATED);
        }

        @Test
        void readyKeepsItsTransitionTimeWhileItsStatusDoesNotChange() {
            s.decide();
            String firstFalse = condition(ConditionTypes.READY).getLastTransitionTime();
            assertThat(firstFalse).isEqualTo(Times.format(s.now));

            s.toVerifying();
            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.READY).getLastTransitionTime()).isEqualTo(firstFalse);
            assertThat(condition(ConditionTypes.READY).getMessage()).isEqualTo(s.status().getMessage());

            s.toSucceeded();
            assertThat(condition(ConditionTypes.READY).getLastTransitionTime()).isEqualTo(Times.format(s.now)).isNotEqualTo(firstFalse);
        }

        @Test
        void stepConditionTransitionTimeMovesWhenItsStatusChanges() {
            s.toPreflight();
            String unknownSince = condition(ConditionTypes.PREFLIGHT_PASSED).getLastTransitionTime();
            s.decideInPreflight();
            assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getLastTransitionTime()).isEqualTo(unknownSince);
            s.world.lock = Fixtures.lockedBy(Fixtures.NAME);
            s.decide();

            assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.PREFLIGHT_PASSED).getLastTransitionTime()).isEqualTo(Times.format(s.now));
        }
    }
}
