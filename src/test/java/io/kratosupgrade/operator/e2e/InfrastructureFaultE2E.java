package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kube.JobOutcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cluster and the database failing under a run, on the local cluster (hack/local-cluster.sh fault, run
 * as root): the API server restarted, PostgreSQL stopped during the backup and during the migration, the
 * kubelet restarted during the rollout, the whole node down and up, a backup volume that fills up, the
 * migration pod deleted by hand. Each ends in a documented state: completed, or failed with its own reason
 * and the old release serving, backups kept, and a retry that completes. Steps are held still
 * ({@link StepGates}) so each fault lands in the middle of the step it targets.
 * Tests tagged {@code chaos-full} take several minutes each and run with hack/chaos.sh, not in CI.
 */
class InfrastructureFaultE2E extends E2eTestBase {

    static final Path SCRIPT = Path.of("hack", "local-cluster.sh");

    @BeforeAll
    static void onTheLocalClusterOnly() {
        assumeTrue(Files.isExecutable(SCRIPT) && env.kubeconfig() != null
                        && env.kubeconfig().startsWith(E2eEnvironment.DEFAULT_ENV_FILE.replace("/env", "")),
                "infrastructure faults are injected into the local cluster only");
    }

    /** hack/local-cluster.sh with arguments; its output goes to the test log. */
    static void cluster(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        System.out.println("hack/local-cluster.sh " + String.join(" ", args) + " -> " + rc + "\n" + out.lines()
                .filter(l -> l.contains("[local-cluster.sh]")).reduce("", (a, b) -> a + "  " + b + "\n"));
        assertThat(rc).as("hack/local-cluster.sh " + String.join(" ", args)).isZero();
    }

    private Job job(String name) {
        return client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
    }

    /** Fails at once, with the status, if the run ends before the Job runs. */
    private void awaitJobRunning(String upgrade, String job) {
        awaitUpgrade(upgrade, ku -> endedEarly(ku, job) || job(job) != null && !JobOutcome.of(job(job), List.of()).finished()
                && !client.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems().isEmpty(), UPGRADE_TIMEOUT);
    }

    private static boolean endedEarly(KratosUpgrade ku, String job) {
        if (ku.getStatus() != null && ku.getStatus().getPhase() != null && ku.getStatus().getPhase().isTerminal()) {
            throw new AssertionError("the run ended " + ku.getStatus().getPhase() + " before " + job + " ran: "
                    + ku.getStatus().getFailureReason() + ": " + ku.getStatus().getMessage());
        }
        return false;
    }

    private KratosUpgrade retry(String name) {
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name),
                ku -> {
                    var annotations = new java.util.HashMap<String, String>();
                    if (ku.getMetadata().getAnnotations() != null) annotations.putAll(ku.getMetadata().getAnnotations());
                    annotations.put(KratosUpgrade.RETRY_ANNOTATION, "1");
                    ku.getMetadata().setAnnotations(annotations);
                    return ku;
                });
        return awaitUpgrade(name, ku -> ku.getStatus().getRun() == 2 && ku.getStatus().getPhase().isTerminal(), UPGRADE_TIMEOUT);
    }

    private void report(String fault, KratosUpgrade ku, Instant start) {
        System.out.printf("FAULT %s: %s%s after %ds: %s%n", fault, ku.getStatus().getPhase(),
                ku.getStatus().getFailureReason() == null ? "" : " (" + ku.getStatus().getFailureReason() + ")",
                Duration.between(start, Instant.now()).toSeconds(), ku.getStatus().getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
    void theApiServerRestartedMidMigrationAndTheRunCompletes(Strategy strategy) throws Exception {
        kratos.install("v1.0.0");
        StepGates gates = new StepGates(postgres, kratos.database);
        Instant start = Instant.now();
        try (AutoCloseable migration = gates.holdMigration()) {
            upgrade("api", "v1.3.1", spec -> withoutSafetySteps(spec).setStrategy(strategy));
            awaitJobRunning("api", "api-1-migrate");
            cluster("fault", "kill", "kube-apiserver");
            cluster("up", "--no-smoke");
        }
        KratosUpgrade ku = awaitOutcome("api", Phase.Succeeded);
        report("kube-apiserver SIGKILL mid-migration (" + strategy + ")", ku, start);
        // Rolling: the backup Job inspects the database; Recreate inspects with a Job of its own before the scale-down.
        List<String> expected = new ArrayList<>(List.of("api-1-backup", "api-1-migrate"));
        if (strategy == Strategy.Recreate) expected.add("api-1-inspect");
        assertThat(client.batch().v1().jobs().inNamespace(namespace).list().getItems()).map(j -> j.getMetadata().getName())
                .filteredOn(n -> n.startsWith("api-")).containsExactlyInAnyOrderElementsOf(expected);
        assertEveryPodAnswers("v1.3.1");
    }

    /** Slow: the migration process keeps retrying its lost connection for about 5 minutes before it exits. */
    @Test
    @Tag("chaos-full")
    void postgresStoppedDuringTheMigrationFailsItTheOldReleaseServesAgainAndARetryCompletes() throws Exception {
        kratos.install("v1.0.0");
        StepGates gates = new StepGates(postgres, kratos.database);
        Instant start = Instant.now();
        try (AutoCloseable migration = gates.holdMigration()) {
            upgrade("pg-migrate", "v1.3.1", spec -> { });
            awaitJobRunning("pg-migrate", "pg-migrate-1-migrate");
            cluster("fault", "stop", "postgres");
        }
        KratosUpgrade failed = awaitOutcome("pg-migrate", Phase.Failed);
        report("PostgreSQL stopped mid-migration", failed, start);
        assertThat(failed.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        cluster("up", "--no-smoke");
        assertEveryPodAnswers("v1.0.0");

        KratosUpgrade retried = retry("pg-migrate");
        assertThat(retried.getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
        assertEveryPodAnswers("v1.3.1");
    }

    @Test
    void aBackupVolumeThatFillsUpFailsTheBackupAndNothingIsMigrated() throws Exception {
        cluster("fault", "small-volume", namespace, "64k");
        kratos.install("v1.0.0");
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("small-backups").endMetadata()
                .withNewSpec().withStorageClassName(env.storageClass() + "-small").withAccessModes("ReadWriteOnce")
                    .withSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("kuo.local/pv-dir", namespace)).build())
                    .withNewResources().withRequests(Map.of("storage", new Quantity("1Ki"))).endResources()
                .endSpec().build()).create();
        Instant start = Instant.now();

        upgrade("full", "v1.3.1", spec -> spec.getBackup().setPersistentVolumeClaim("small-backups"));
        KratosUpgrade ku = awaitOutcome("full", Phase.Failed);

        report("backup volume full (64k)", ku, start);
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupFailed");
        assertThat(kratos.jobLogs("full-1-backup")).contains("No space left on device");
        assertThat(job("full-1-migrate")).as("nothing migrated").isNull();
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
    }

    /** Rolling: Failed, the Deployment never touched. Recreate: RolledBack, the old release scaled back up. */
    @ParameterizedTest
    @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
    void theMigrationPodDeletedByHandFailsTheStepTheOldReleaseServesAndARetryCompletes(Strategy strategy) throws Exception {
        kratos.install("v1.0.0");
        StepGates gates = new StepGates(postgres, kratos.database);
        Instant start = Instant.now();
        try (AutoCloseable migration = gates.holdMigration()) {
            upgrade("deleted-pod", "v1.3.1", spec -> withoutSafetySteps(spec).setStrategy(strategy));
            awaitJobRunning("deleted-pod", "deleted-pod-1-migrate");
            client.pods().inNamespace(namespace).withLabel("job-name", "deleted-pod-1-migrate").delete();
            KratosUpgrade failed = awaitOutcome("deleted-pod", strategy == Strategy.Recreate ? Phase.RolledBack : Phase.Failed);
            report("migration pod deleted by hand (" + strategy + ")", failed, start);
            assertThat(failed.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
            assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        }
        assertEveryPodAnswers("v1.0.0");

        KratosUpgrade retried = retry("deleted-pod");
        assertThat(retried.getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertEveryPodAnswers("v1.3.1");
    }

    /**
     * Rolling: Failed, the Deployment never touched. Recreate: the old release is scaled back up, and is ready (the
     * run RolledBack) once PostgreSQL is back.
     */
    @ParameterizedTest
    @EnumSource(value = Strategy.class, names = {"Rolling", "Recreate"})
    void postgresStoppedDuringTheBackupFailsItAndARetryCompletes(Strategy strategy) throws Exception {
        kratos.install("v1.0.0");
        StepGates gates = new StepGates(postgres, kratos.database);
        Instant start = Instant.now();
        try (AutoCloseable backup = gates.holdBackup()) {
            upgrade("pg-backup", "v1.3.1", spec -> withoutSafetySteps(spec).setStrategy(strategy));
            awaitJobRunning("pg-backup", "pg-backup-1-backup");
            cluster("fault", "stop", "postgres");
        }
        awaitUpgrade("pg-backup", ku -> "BackupFailed".equals(ku.getStatus().getFailureReason()), UPGRADE_TIMEOUT);
        assertThat(job("pg-backup-1-migrate")).as("nothing migrated").isNull();
        cluster("up", "--no-smoke");
        KratosUpgrade failed = awaitOutcome("pg-backup", strategy == Strategy.Recreate ? Phase.RolledBack : Phase.Failed);
        report("PostgreSQL stopped mid-backup (" + strategy + ")", failed, start);
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");

        assertThat(retry("pg-backup").getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertEveryPodAnswers("v1.3.1");
    }

    @Test
    void theKubeletRestartedDuringTheRolloutAndTheRunCompletes() throws Exception {
        kratos.readinessDelaySeconds = 12;
        kratos.install("v1.0.0");
        Instant start = Instant.now();
        upgrade("kubelet", "v1.3.1", InfrastructureFaultE2E::withoutSafetySteps);
        awaitUpgrade("kubelet", ku -> ku.getStatus() != null && ku.getStatus().getPhase() == Phase.RollingOut
                && kratos.deploymentImage().equals(env.kratosImage("v1.3.1")), UPGRADE_TIMEOUT);
        cluster("fault", "kill", "kubelet");
        cluster("up", "--no-smoke");

        KratosUpgrade ku = awaitOutcome("kubelet", Phase.Succeeded);
        report("kubelet SIGKILL mid-rollout", ku, start);
        assertEveryPodAnswers("v1.3.1");
    }

    @Test
    @Tag("chaos-full")
    void theWholeNodeDownAndUpMidMigration() throws Exception {
        kratos.install("v1.0.0");
        StepGates gates = new StepGates(postgres, kratos.database);
        Instant start = Instant.now();
        try (AutoCloseable migration = gates.holdMigration()) {
            upgrade("node", "v1.3.1", spec -> { });
            awaitJobRunning("node", "node-1-migrate");
            cluster("down");
        }
        cluster("up", "--no-smoke");

        KratosUpgrade ku = awaitUpgrade("node", u -> u.getStatus().getPhase().isTerminal(), UPGRADE_TIMEOUT);
        report("node down and up mid-migration", ku, start);
        // The node's pods are gone, the migration pod with them: the step fails, the old release comes back.
        assertThat(ku.getStatus().getPhase()).isEqualTo(Phase.Failed);
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("MigrationFailed");
        assertEveryPodAnswers("v1.0.0");
        assertThat(retry("node").getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertEveryPodAnswers("v1.3.1");
    }

    /**
     * These scenarios break the cluster during the backup, the migration or the rollout; the verification and the
     * rehearsal (SafetyStepsE2E, OperatorKillE2E) would only add about 13 s to each run here.
     */
    private static io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec withoutSafetySteps(
            io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec spec) {
        spec.getBackup().setVerify(false);
        return spec;
    }
}
