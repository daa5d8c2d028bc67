package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.status.Conditions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** VerifyingBackup and Rehearsing: what each decides on every outcome of its Job, under both strategies. */
class SafetyStepsTest {

    private final UpgradeScenario s = new UpgradeScenario();

    private String condition(String type) {
        return Conditions.get(s.status(), type).map(c -> c.getStatus() + "/" + c.getReason()).orElse("absent");
    }

    private Job createdJob() {
        assertThat(s.actions(Action.CreateJob.class)).hasSize(1);
        return s.actions(Action.CreateJob.class).get(0).job();
    }

    /** Where a failed safety step leaves the run: Rolling never touched the Deployment, Recreate gives its replicas back. */
    private static Phase afterFailure(Strategy strategy) {
        return strategy == Strategy.Recreate ? Phase.RollingBack : Phase.Failed;
    }

    private void start(Strategy strategy) {
        if (strategy == Strategy.Recreate) {
            s.scaledDownToBackingUp();
        }
        s.toVerifyingBackup();
    }

    @Nested
    class VerifyingBackup {

        @Test
        void withARehearsalToFollowTheRehearsalJobsFirstContainerIsTheVerificationSoTheDumpIsRestoredOnce() {
            s.toVerifyingBackup();
            s.decide();

            Job job = createdJob();
            assertThat(job.getMetadata().getName()).isEqualTo("kratos-upgrade-1-rehearse");
            assertThat(s.status().getBackup().getVerification().getJobName()).isEqualTo("kratos-upgrade-1-rehearse");
            Container restore = job.getSpec().getTemplate().getSpec().getInitContainers().get(0);
            assertThat(restore.getName()).isEqualTo("restore");
            assertThat(restore.getEnv()).extracting(EnvVar::getName).contains("COUNTS_SQL", "EXPECTED_SHA256");

            s.toRehearsing();
            assertThat(s.phase()).isEqualTo(Phase.Rehearsing);
            assertThat(s.last.actions()).as("the Job goes on with the migrations").noneMatch(a -> a instanceof Action.SuspendJob);
            s.decide();
            assertThat(s.actions(Action.CreateJob.class)).as("no second restore").isEmpty();
        }

        @Test
        void theJobRestoresTheDumpInItsOwnPodWithoutCredentialsOrAWayToProduction() {
            s.ku.getSpec().setRehearsal(false);
            s.toVerifyingBackup();
            s.decide();

            Job job = createdJob();
            PodSpec pod = job.getSpec().getTemplate().getSpec();
            assertThat(job.getMetadata().getName()).isEqualTo("kratos-upgrade-1-verify");
            assertThat(pod.getInitContainers()).as("no proxy sidecar of the Kratos pod").isEmpty();
            assertThat(pod.getAutomountServiceAccountToken()).isFalse();
            Container verify = pod.getContainers().get(0);
            assertThat(verify.getEnvFrom()).as("no credentials Secret").isNullOrEmpty();
            assertThat(verify.getEnv()).extracting(EnvVar::getName).doesNotContain("PGPASSWORD", "DSN");
            assertThat(verify.getEnv()).contains(new EnvVar("EXPECTED_SHA256", s.status().getBackup().getSha256(), null),
                    new EnvVar("BACKUP_FILE", s.status().getBackup().getFile(), null));
            assertThat(pod.getVolumes()).anySatisfy(v -> {
                assertThat(v.getPersistentVolumeClaim()).isNotNull();
                assertThat(v.getPersistentVolumeClaim().getReadOnly()).as("the dump cannot be changed").isTrue();
            });
            assertThat(verify.getVolumeMounts()).allSatisfy(m -> assertThat(m.getMountPath()).isIn("/backup", "/scratch"));
            assertThat(pod.getSecurityContext()).as("the backup Job's user, so it can read the dump")
                    .isEqualTo(Fixtures.deployment(Fixtures.OLD_IMAGE).getSpec().getTemplate().getSpec().getSecurityContext());
        }

        @Test
        void equalCountsVerifyTheBackupAndTheRunGoesOnToTheRehearsal() {
            s.toRehearsing();

            assertThat(s.phase()).isEqualTo(Phase.Rehearsing);
            var verification = s.status().getBackup().getVerification();
            assertThat(verification.getResult()).isEqualTo("Verified");
            assertThat(verification.getRestoreSeconds()).isEqualTo(0.31);
            assertThat(verification.getRestoredCounts()).isEqualTo(s.status().getBackup().getCounts());
            assertThat(verification.getMismatches()).isEmpty();
            assertThat(verification.getFinishedAt()).isNotNull();
            assertThat(condition(ConditionTypes.BACKUP_VERIFIED)).isEqualTo("True/BackupVerified");
        }

        @ParameterizedTest
        @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
        void aRowCountThatDiffersFailsTheRunBeforeAnyMigration(Strategy strategy) {
            start(strategy);
            s.toRehearsing("{\"restoreMillis\":300,\"counts\":{\"identities\":4,\"identity_credentials\":5,\"schema_migration\":282}}");

            assertThat(s.phase()).isEqualTo(afterFailure(strategy));
            assertThat(s.status().getFailureReason()).isEqualTo("BackupUnverified");
            assertThat(s.status().getBackup().getVerification().getMismatches()).containsExactly("identities: 5 -> 4");
            assertThat(s.status().getBackup().getVerification().getResult()).isEqualTo("Unverified");
            assertThat(s.status().getFailureMessage()).contains("identities: 5 -> 4", "nothing was migrated");
            assertThat(s.status().getMigration()).isNull();
            assertThat(condition(ConditionTypes.BACKUP_VERIFIED)).isEqualTo("False/BackupUnverified");
            assertThat(s.last.actions()).as("the rehearsal Job does not go on to migrate")
                    .contains(new Action.SuspendJob("kratos-upgrade-1-rehearse"));
        }

        @ParameterizedTest
        @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
        void aDumpThatDoesNotRestoreFailsTheRunWithTheRedactedEndOfTheLog(Strategy strategy) {
            start(strategy);
            s.decide();
            String job = s.status().getBackup().getVerification().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "verify", 1, "Error",
                    "pg_restore: error: COPY failed for table \"identity_verifiable_addresses\": ERROR:  relation "
                            + "\"email_domains\" does not exist\n(connecting to postgres://kratos:hunter2@db:5432/kratos)"));

            s.decide();

            assertThat(s.phase()).isEqualTo(afterFailure(strategy));
            assertThat(s.status().getFailureReason()).isEqualTo("BackupUnverified");
            assertThat(s.status().getFailureMessage()).contains("did not restore", "relation \"email_domains\" does not exist",
                    "kratos:REDACTED@db").doesNotContain("hunter2");
            assertThat(s.status().getMigration()).isNull();
        }

        @Test
        void aBackupThatReportedNoCountsCannotBeVerified() {
            assertThat(io.kratosupgrade.operator.lifecycle.handlers.VerifyingBackupHandler.mismatches(null, Map.of("identities", 1L)))
                    .containsExactly("the backup Job reported no row counts to compare with");
            assertThat(io.kratosupgrade.operator.lifecycle.handlers.VerifyingBackupHandler.mismatches(
                    Map.of("identities", 1L, "sessions", 0L), Map.of("identities", 1L)))
                    .containsExactly("sessions: 0 -> missing");
        }

        @Test
        void verifyFalseSkipsStraightToTheMigration() {
            s.ku.getSpec().getBackup().setVerify(false);
            s.toBackingUp();
            s.decide();
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed", UpgradeScenario.BACKUP_REPORT));

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Migrating);
            assertThat(s.status().getBackup().getVerification()).isNull();
            assertThat(s.status().getPlan().getSteps()).noneMatch(step -> step.contains("verify the dump") || step.contains("rehearse"));
        }
    }

    @Nested
    class Rehearsing {

        @Test
        void theJobMigratesACopyWithTheDeploymentsConfigurationAndNeverProductionsDsn() {
            s.toVerifyingBackup();
            s.decide();

            Job job = createdJob();
            PodSpec pod = job.getSpec().getTemplate().getSpec();
            assertThat(pod.getInitContainers()).extracting(Container::getName).containsExactly("restore", "database", "migrate-1");
            assertThat(pod.getInitContainers().get(1).getRestartPolicy()).as("native sidecar").isEqualTo("Always");
            assertThat(pod.getInitContainers().get(1).getStartupProbe()).isNotNull();
            Container migrate = pod.getInitContainers().get(2);
            assertThat(migrate.getImage()).isEqualTo(Fixtures.NEW_IMAGE);
            assertThat(migrate.getArgs()).containsExactly("migrate", "sql", "-e", "--yes", "--config", Fixtures.CONFIG_ARG);
            assertThat(migrate.getEnv()).filteredOn(e -> e.getName().equals("DSN")).singleElement()
                    .satisfies(e -> {
                        assertThat(e.getValue()).isEqualTo("postgres://kratos@127.0.0.1:5432/kratos?sslmode=disable");
                        assertThat(e.getValueFrom()).isNull();
                    });
            assertThat(migrate.getVolumeMounts()).as("the Deployment's config files")
                    .containsAll(Fixtures.kratosContainer(Fixtures.OLD_IMAGE).getVolumeMounts());
            assertThat(migrate.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
            assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("report");
            assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        }

        @Test
        void aPassedRehearsalRecordsWhatItAppliedAndHowLongItTookAndGoesOnToTheMigration() {
            s.toMigrating();

            var rehearsal = s.status().getRehearsal();
            assertThat(rehearsal.getResult()).isEqualTo("Passed");
            assertThat(rehearsal.getApplied()).isEqualTo(33L);
            assertThat(rehearsal.getMigrationSeconds()).isEqualTo(7L);
            assertThat(rehearsal.getRestoreSeconds()).isEqualTo(0.298);
            assertThat(condition(ConditionTypes.REHEARSED)).isEqualTo("True/RehearsalPassed");
            assertThat(s.status().getPlan().getRehearsal()).contains("33 migration(s) applied in 7 s");
            assertThat(s.status().getPlan().getOutage()).as("Rolling: no outage to measure").doesNotContain("measured");
        }

        @Test
        void underRecreateTheMeasuredDurationGoesIntoThePlansOutage() {
            s.scaledDownToBackingUp();
            String hash = s.status().getPlan().getHash();
            s.toMigrating();

            assertThat(s.status().getPlan().getOutage()).startsWith("measured: Kratos has been down since "
                    + s.status().getRollout().getScaledDownAt()).contains("the migration took 7 s in rehearsal", "Planned: Kratos is down");
            assertThat(s.status().getPlan().getHash()).as("the hash stays that of the reviewed plan").isEqualTo(hash);
        }

        @ParameterizedTest
        @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
        void aMigrationThatFailsOnTheCopyEndsTheRunWithItsLogTailAndProductionUntouched(Strategy strategy) {
            start(strategy);
            s.toRehearsing();
            s.decide();
            String job = s.status().getRehearsal().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.rehearsalPod(job, 1, null,
                    "level=info msg=\"Applying migration\"\nERROR: relation \"sessions_nid_created_at_id_idx\" already exists (SQLSTATE 42P07)"));

            s.decide();

            assertThat(s.phase()).isEqualTo(afterFailure(strategy));
            assertThat(s.status().getFailureReason()).isEqualTo("RehearsalFailed");
            assertThat(s.status().getFailureMessage()).contains("the migration (v1.3.1, " + Fixtures.NEW_IMAGE + ") failed on a restored copy",
                    "sessions_nid_created_at_id_idx\" already exists", "production was not touched");
            assertThat(s.status().getRehearsal().getLogTail()).contains("already exists");
            assertThat(s.status().getRehearsal().getResult()).isEqualTo("Failed");
            assertThat(s.status().getMigration()).as("no migration Job").isNull();
            assertThat(condition(ConditionTypes.REHEARSED)).isEqualTo("False/RehearsalFailed");
        }

        @Test
        void rehearsalFalseKeepsTheVerificationAndSkipsTheRehearsal() {
            s.ku.getSpec().setRehearsal(false);
            s.toRehearsing();

            assertThat(s.phase()).isEqualTo(Phase.Migrating);
            assertThat(s.status().getRehearsal()).isNull();
        }
    }

    @Nested
    class RestoringDatabase {

        private void recreateRolloutStuck(boolean aNewPodWasReady) {
            s.recreateRolloutTimedOut(RollbackPolicy.ImageAndDatabase, aNewPodWasReady);
        }

        @Test
        void recreateWithoutAReadyNewPodScalesToZeroThenRestoresInOneJobThenRollsBackToTheReleaseItFound() {
            recreateRolloutStuck(false);
            assertThat(s.phase()).isEqualTo(Phase.RestoringDatabase);
            assertThat(s.status().getFailureReason()).isEqualTo("RolloutTimeout");

            s.decide();
            assertThat(s.last.actions()).singleElement().isEqualTo(new Action.PatchDeployment("kratos",
                    io.kratosupgrade.operator.resources.DeploymentPatches.setReplicas(0), "replicas 0"));
            s.world.setReplicas(0);
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", Fixtures.NEW_IMAGE, false));
            s.decide();
            assertThat(s.actions(Action.CreateJob.class)).as("not while a pod of the Deployment exists").isEmpty();
            s.world.deploymentPods.clear();
            s.decide();

            Job job = createdJob();
            Container restore = job.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertThat(job.getMetadata().getName()).isEqualTo("kratos-upgrade-1-restore");
            assertThat(restore.getEnvFrom()).singleElement().satisfies(e -> assertThat(e.getSecretRef().getName())
                    .isEqualTo("kratos-upgrade-1-restore-db"));
            assertThat(restore.getEnv()).as("Kubernetes turns $$ into $ and expands $(NAME) in env values")
                    .allSatisfy(e -> assertThat(e.getValue()).doesNotContain("$$").doesNotContainPattern("\\$\\([A-Za-z_]"));
            assertThat(restore.getEnv()).contains(new EnvVar("EXPECTED_COUNTS",
                    "{\"identities\":5,\"identity_credentials\":5,\"schema_migration\":282}", null));
            assertThat(s.actions(Action.CreateSecret.class)).singleElement().satisfies(c ->
                    assertThat(c.secret().getStringData()).containsEntry("PGPASSWORD", Fixtures.PASSWORD));

            s.world.putJob(Fixtures.completeJob(job.getMetadata().getName()), Fixtures.terminatedPod(job.getMetadata().getName(),
                    "restore", 0, "Completed", UpgradeScenario.VERIFICATION_REPORT));
            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getDatabaseRestore().getResult()).isEqualTo("Restored");
            assertThat(condition(ConditionTypes.DATABASE_RESTORED)).isEqualTo("True/DatabaseRestored");
            assertThat(s.last.actions()).contains(new Action.DeleteSecret("kratos-upgrade-1-restore-db"));
            s.decide();
            assertThat(s.last.actions()).anySatisfy(a -> assertThat(a.toString()).contains(Fixtures.OLD_IMAGE));
        }

        @Test
        void aNewPodThatWasReadyMayHaveWrittenSoTheRestoreIsRefusedAndOnlyTheImageGoesBack() {
            recreateRolloutStuck(true);
            assertThat(s.status().getRollout().getNewReleaseReadyAt()).isNotNull();

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getDatabaseRestore().getResult()).isEqualTo("Refused");
            assertThat(s.status().getFailureReason()).isEqualTo("DatabaseRestoreRefused");
            assertThat(s.status().getFailureMessage()).contains("would lose writes", "was ready", "allowDataLoss", "did not complete");
            assertThat(s.last.actions()).noneMatch(a -> a instanceof Action.CreateJob);
            assertThat(condition(ConditionTypes.DATABASE_RESTORED)).isEqualTo("False/DatabaseRestoreRefused");
        }

        @Test
        void allowDataLossRestoresAnyway() {
            s.ku.getSpec().getRollback().setAllowDataLoss(true);
            recreateRolloutStuck(true);

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RestoringDatabase);
            assertThat(s.last.actions()).singleElement().isInstanceOf(Action.PatchDeployment.class);
        }

        @Test
        void aFailedRestoreLeavesTheDatabaseMigratedAndStillRollsTheImageBack() {
            recreateRolloutStuck(false);
            s.world.setReplicas(0);
            s.decide();
            String job = s.status().getDatabaseRestore().getJobName();
            s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "restore", 1, "Error",
                    "ERROR:  table identities holds 4 rows after the restore, the dump's snapshot had 5"));

            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.RollingBack);
            assertThat(s.status().getDatabaseRestore().getResult()).isEqualTo("Failed");
            assertThat(s.status().getFailureReason()).isEqualTo("DatabaseRestoreFailed");
            assertThat(s.status().getFailureMessage()).contains("holds 4 rows", "transaction was rolled back", "still migrated");
            assertThat(s.last.actions()).contains(new Action.DeleteSecret("kratos-upgrade-1-restore-db"));
        }

        @Test
        void theRollingPlanSaysTheRestoreWillBeRefused() {
            s.ku.getSpec().getRollback().setOnFailure(RollbackPolicy.ImageAndDatabase);
            s.passPreflight();
            assertThat(s.status().getPlan().getRollback()).contains("Not lossless here", "refuse to restore", "allowDataLoss");
        }
    }

    @Test
    void aMysqlDumpIsNeitherVerifiedNorRehearsedAndThePlanSaysSo() {
        s.world.dsn = Fixtures.dsnFound("mysql://kratos:" + Fixtures.PASSWORD + "@tcp(mysql:3306)/kratos");
        s.toBackingUp();
        s.decide();
        String job = s.status().getBackup().getJobName();
        s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed", "{\"bytes\":10,\"sha256\":\"ab\"}"));

        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.Migrating);
        assertThat(s.status().getPlan().getNotes()).anyMatch(n -> n.contains("verification and rehearsal need PostgreSQL"));
        assertThat(List.of(s.status().getPlan().getSteps())).isNotEmpty();
    }
}
