package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.e2e.ChaosMonkey.KillPoint;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.testsupport.OperatorProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator killed with SIGKILL at every phase boundary and in the middle of every step, for Rolling,
 * Recreate and BlueGreen: the run still completes, exactly one Job of each kind ever exists, and the result is the
 * one an undisturbed run gives (the target serving, the schema at the target, identities intact, a restorable dump;
 * BlueGreen: the new side serving on the copy, the old database still frozen). The operator is the packaged
 * application in a process of its own, restarted after each kill.
 */
class OperatorKillE2E extends E2eTestBase {

    OperatorProcess process;
    /** Steps held still ({@link StepGates}) so each kill lands in the middle of the step it targets. */
    private AutoCloseable backupGate = () -> { };
    private AutoCloseable migrationGate = () -> { };
    /** BlueGreen: the Jobs that use the target database held at their connection to it ({@link StepGates#holdConnections}). */
    private AutoCloseable targetGate = () -> { };
    /** New pods held unready ({@link ReadinessHold}) so the rollout is still half-way when its kill lands. */
    private AutoCloseable rolloutGate = () -> { };
    /** Created as the rollout is let go, so that Verifying lasts until its kill has landed. */
    private AutoCloseable verificationGate = () -> { };

    /** This class runs the operator as a separate process; the in-JVM one stays stopped. */
    @BeforeAll
    static void stopInJvmOperator() {
        operator.stop();
    }

    /**
     * The process watches the test's namespace only (a namespaced install): on a cluster shared with another checkout's
     * e2e run, KratosUpgrades written by another version of the operator (fields this one does not know) would stop its
     * informer, and so its start, in the middle of a run.
     */
    @BeforeEach
    void startOperatorProcess() {
        process = new OperatorProcess(env.kubeconfig(), Map.of("kratos-upgrade.backup.image", env.toolsImage(),
                "quarkus.operator-sdk.controllers.kratosupgrade.namespaces", namespace,
                "quarkus.operator-sdk.controllers.kratosfleetupgrade.namespaces", namespace));
        process.start();
    }

    @AfterEach
    void stopOperatorProcess() {
        process.close();
    }

    @Override
    List<String> operatorLog() {
        return process.log();
    }

    private Runnable release(java.util.function.Supplier<AutoCloseable> gate) {
        return part(() -> gate.get().close());
    }

    /** The test's part of a kill point, which may throw. */
    @FunctionalInterface
    interface Part {
        void run() throws Exception;
    }

    private static Runnable part(Part part) {
        return () -> {
            try {
                part.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** Holds Verifying with a {@link StrayPod}, then lets the rollout finish. */
    private Runnable holdVerificationAndReleaseRollout() {
        return () -> {
            verificationGate = new StrayPod(client, namespace, Map.of("app", KratosInstallation.NAME), "kratos", env.busyboxImage());
            release(() -> rolloutGate).run();
        };
    }

    private KillPoint enteringVerifying() {
        return new KillPoint("entering " + Phase.Verifying, w -> w.phase() == Phase.Verifying, release(() -> verificationGate));
    }

    @Test
    void rollingSurvivesAKillAtEveryBoundaryAndInEveryStep() throws Exception {
        List<KillPoint> plan = new ArrayList<>(List.of(KillPoint.entering(Phase.Preflight)));
        plan.addAll(jobStepsAndRolloutStart());
        plan.add(new KillPoint("rollout half-way", w -> w.phase() == Phase.RollingOut && halfWay(w), holdVerificationAndReleaseRollout()));
        plan.add(enteringVerifying());
        runUnderKills("rolling", Strategy.Rolling, plan);
    }

    @Test
    void recreateSurvivesAKillAtEveryBoundaryAndInEveryStep() throws Exception {
        List<KillPoint> plan = new ArrayList<>(List.of(
                KillPoint.entering(Phase.Preflight),
                KillPoint.entering(Phase.ScalingDown),
                new KillPoint("pods draining", w -> w.phase() == Phase.ScalingDown
                        && w.kratosPods().stream().anyMatch(p -> p.getMetadata().getDeletionTimestamp() != null))));
        plan.addAll(jobStepsAndRolloutStart());
        plan.add(new KillPoint("pods starting", w -> w.phase() == Phase.RollingOut && halfWay(w), holdVerificationAndReleaseRollout()));
        plan.add(enteringVerifying());
        runUnderKills("recreate", Strategy.Recreate, plan);
    }

    /**
     * Both strategies: entering each Job step, in the middle of the backup and migration Jobs (held still), entering
     * RollingOut. The rehearsal Job's kill is the one entering Rehearsing: that Job verified the backup and is then
     * migrating the copy, which takes 1 to 2 s, less than an operator's restart (about 5 s), and nothing outside its
     * pod can hold it still; a second kill "while it runs" would land only when the restart happened to be quick.
     */
    private List<KillPoint> jobStepsAndRolloutStart() {
        return List.of(
                KillPoint.entering(Phase.BackingUp),
                new KillPoint("backup Job running", w -> w.phase() == Phase.BackingUp && w.jobRunning("backup"), release(() -> backupGate)),
                KillPoint.entering(Phase.VerifyingBackup),
                KillPoint.entering(Phase.Rehearsing),
                KillPoint.entering(Phase.Migrating),
                new KillPoint("migration Job running", w -> w.phase() == Phase.Migrating && w.jobRunning("migrate"),
                        release(() -> migrationGate)),
                KillPoint.entering(Phase.RollingOut));
    }

    /** The Deployment rolls: not every wanted replica is updated and available yet. */
    private static boolean halfWay(ChaosMonkey.World w) {
        var status = w.deployment() == null ? null : w.deployment().getStatus();
        if (status == null || status.getObservedGeneration() == null
                || status.getObservedGeneration() < w.deployment().getMetadata().getGeneration()) return false;
        int wanted = w.deployment().getSpec().getReplicas() == null ? 1 : w.deployment().getSpec().getReplicas();
        int available = status.getAvailableReplicas() == null ? 0 : status.getAvailableReplicas();
        int updated = status.getUpdatedReplicas() == null ? 0 : status.getUpdatedReplicas();
        return wanted > 0 && (updated < wanted || available < wanted);
    }

    private void runUnderKills(String name, Strategy strategy, List<KillPoint> plan) throws Exception {
        kratos.drainSeconds = 5;
        kratos.readinessGated = true;
        ReadinessHold readiness = new ReadinessHold(client, namespace);
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(5);
        StepGates gates = new StepGates(postgres, kratos.database);
        backupGate = gates.holdBackup();
        migrationGate = gates.holdMigration();
        rolloutGate = readiness.hold();
        KratosUpgrade ku;
        List<ChaosMonkey.Kill> kills;
        List<String> missed;
        Map<String, Integer> jobs;
        try (ChaosMonkey monkey = new ChaosMonkey(client, namespace, name, KratosInstallation.NAME, process, plan).start()) {
            upgrade(name, "v1.3.1", spec -> spec.setStrategy(strategy));
            ku = awaitOutcome(name, Phase.Succeeded);
            kills = monkey.kills();
            missed = monkey.missed();
            jobs = monkey.jobsCreated();
        } finally {
            backupGate.close();
            migrationGate.close();
            rolloutGate.close();
            verificationGate.close();
            readiness.close();
        }
        report(strategy, kills, missed, jobs);

        assertThat(missed).as("kill points whose window passed unseen").isEmpty();
        // Rolling: the backup Job inspects the database; Recreate inspects with a Job of its own before the scale-down.
        Map<String, Integer> expected = new java.util.HashMap<>(Map.of(name + "-1-backup", 1, name + "-1-rehearse", 1, name + "-1-migrate", 1));
        if (strategy == Strategy.Recreate) expected.put(name + "-1-inspect", 1);
        assertThat(jobs).as("exactly one Job of each kind ever existed").isEqualTo(expected);
        assertThat(client.pods().inNamespace(namespace).withLabel("job-name", name + "-1-migrate").list().getItems())
                .as("the migration ran in one pod").hasSize(1);
        assertThat(ku.getStatus().getRun()).isEqualTo(1);
        assertThat(ku.getStatus().getHistory()).singleElement().satisfies(r -> assertThat(r.getResult()).isEqualTo("Succeeded"));
        // The same result as an undisturbed run.
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
        assertEveryPodAnswers("v1.3.1");
        String restored = restoreDump(ku.getStatus().getBackup().getFile());
        assertThat(postgres.identities(restored)).isEqualTo(emails.size());
        assertThat(postgres.identities(kratos.database)).isEqualTo(emails.size());
        assertNoCredentialsLeft();
    }

    /** The database credentials the run's Jobs had are all gone, however many steps' ends a kill interrupted. */
    private void assertNoCredentialsLeft() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.secrets().inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.OPERATOR).list().getItems()).as("credentials Secrets left")
                .extracting(secret -> secret.getMetadata().getName()).isEmpty());
    }

    /**
     * BlueGreen (copy Dump): "kill the operator at any point and it finishes". Kills in preflight's target check, entering
     * each phase of its own from the freeze to Finalizing, in the middle of each Job step, while the new side starts and
     * while the old side's pods stop. The Jobs that use the target database (target check, copy rehearsal, freeze, copy) are held at their
     * connection to it; each is let go while no operator runs, so that the next operator finds it finished (the case a
     * kill during a short Job leaves), and the next Job is held before any operator can create it. The backup and the
     * migration are held as for the other strategies (the migration in the target, once the copy made its tables),
     * the new pods unready, the old pods draining for long enough to be caught stopping after a restart.
     */
    @Test
    void blueGreenSurvivesAKillAtEveryBoundaryAndInEveryStep() throws Exception {
        String name = "blue-green";
        // Finalizing waits for the old pods to stop: they drain long enough to be caught stopping after the restart that
        // follows the kill entering it.
        kratos.drainSeconds = 15;
        kratos.readinessGated = true;
        ReadinessHold readiness = new ReadinessHold(client, namespace);
        kratos.install("v1.0.0");
        String target = kratos.createTargetDatabase();
        List<String> emails = kratos.seedIdentities(5);
        Map<String, String> originalSelector = kratos.serviceSelector();
        // The backup's gate is a table of the test's own in the old database: the freeze locks every table, so it is
        // taken only once the freeze is done (it would wait for it, and give up after 30 s).
        StepGates gates = new StepGates(postgres, kratos.database);
        targetGate = StepGates.holdConnections(postgres, target);
        rolloutGate = readiness.hold();
        Part holdTarget = () -> targetGate = StepGates.holdConnections(postgres, target);
        List<KillPoint> plan = List.of(
                new KillPoint("target check Job running", w -> w.phase() == Phase.Preflight && w.jobRunning("check-target"),
                        part(() -> { finishHeldTargetJob(name + "-1-check-target"); holdTarget.run(); }), null),
                new KillPoint("copy rehearsal Job running", w -> w.phase() == Phase.Preflight && w.jobRunning("rehearse-copy"),
                        part(() -> { finishHeldTargetJob(name + "-1-rehearse-copy"); holdTarget.run(); }), null),
                KillPoint.entering(Phase.Freezing),
                new KillPoint("freeze Job running", w -> w.phase() == Phase.Freezing && w.jobRunning("freeze"),
                        part(() -> { finishHeldTargetJob(name + "-1-freeze"); backupGate = gates.holdBackup(); holdTarget.run(); }), null),
                // No kill entering BackingUp and Migrating: their handlers are the other strategies', whose tests kill there.
                new KillPoint("backup Job running", w -> w.phase() == Phase.BackingUp && w.jobRunning("backup"), release(() -> backupGate)),
                KillPoint.entering(Phase.Copying),
                new KillPoint("copy Job running", w -> w.phase() == Phase.Copying && w.jobRunning("copy"),
                        part(() -> { finishHeldTargetJob(name + "-1-copy"); migrationGate = StepGates.holdMigration(postgres, target); }), null),
                new KillPoint("migration Job running", w -> w.phase() == Phase.Migrating && w.jobRunning("migrate"), release(() -> migrationGate)),
                KillPoint.entering(Phase.StartingNewSide),
                new KillPoint("new side starting", w -> w.phase() == Phase.StartingNewSide && w.kratosPods().stream().anyMatch(OperatorKillE2E::newSide),
                        release(() -> rolloutGate)),
                KillPoint.entering(Phase.Switching),
                // The old side kept; the user releases it (after the restart, so the kill lands in KeepingOld itself).
                new KillPoint("entering " + Phase.KeepingOld, w -> w.phase() == Phase.KeepingOld,
                        () -> annotate(name, KratosUpgrade.FINALIZE_ANNOTATION, "1")),
                KillPoint.entering(Phase.Finalizing),
                new KillPoint("old pods stopping", w -> w.phase() == Phase.Finalizing && w.kratosPods().stream()
                        .anyMatch(p -> !newSide(p) && p.getMetadata().getDeletionTimestamp() != null)));
        KratosUpgrade ku;
        List<ChaosMonkey.Kill> kills;
        List<String> missed;
        Map<String, Integer> jobs;
        try (ChaosMonkey monkey = new ChaosMonkey(client, namespace, name, KratosInstallation.NAME, process, plan).start()) {
            upgrade(name, "v1.3.1", BlueGreenE2E::blueGreen);
            ku = awaitOutcome(name, Phase.Succeeded);
            kills = monkey.kills();
            missed = monkey.missed();
            jobs = monkey.jobsCreated();
        } finally {
            targetGate.close();
            backupGate.close();
            migrationGate.close();
            rolloutGate.close();
            readiness.close();
        }
        report(Strategy.BlueGreen, kills, missed, jobs);

        assertThat(missed).as("kill points whose window passed unseen").isEmpty();
        assertThat(jobs).as("exactly one Job of each kind ever existed").isEqualTo(Map.of(name + "-1-inspect", 1, name + "-1-check-target", 1,
                name + "-1-rehearse-copy", 1, name + "-1-freeze", 1, name + "-1-backup", 1, name + "-1-copy", 1, name + "-1-migrate", 1));
        assertThat(ku.getStatus().getRun()).isEqualTo(1);
        assertThat(ku.getStatus().getHistory()).singleElement().satisfies(r -> assertThat(r.getResult()).isEqualTo("Succeeded"));
        assertThat(ku.getStatus().getBackup().getVerification().getJobName()).as("the copy verified the dump").endsWith("-copy");
        // The new side serves on the migrated copy; the Service has its own selector back, which only the new pods match.
        assertEveryPodAnswers("v1.3.1");
        java.util.Set<String> newPods = kratos.podNames(BlueGreenE2E.COLOUR, BlueGreenE2E.NEW_SIDE);
        assertThat(newPods).hasSize(2);
        assertThat(kratos.serviceSelector()).isEqualTo(originalSelector);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(kratos.serviceEndpointPods()).isEqualTo(newPods));
        assertThat(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getReplicas()).isZero();
        assertThat(postgres.newestMigration(target)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
        // The identities written before the freeze, on the new side.
        assertThat(postgres.column(target, "SELECT traits->>'email' FROM identities")).containsExactlyInAnyOrderElementsOf(emails);
        var listed = kratos.get(kratos.servingPods().get(0), 4434, "/admin/identities?per_page=100");
        assertThat(listed.statusCode()).isEqualTo(200);
        emails.forEach(email -> assertThat(listed.body()).contains(email));
        // The old database as it was at the freeze, still refusing its user's writes (restoreOldWrites is off).
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(ku.getStatus().getBlueGreen().getOldWritesRestored()).isNotEqualTo(Boolean.TRUE);
        assertThat(postgres.single(kratos.database, "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                + "AND c.relkind IN ('r', 'p') AND (has_table_privilege('" + kratos.database + "', c.oid, 'INSERT') "
                + "OR has_table_privilege('" + kratos.database + "', c.oid, 'UPDATE') OR has_table_privilege('" + kratos.database
                + "', c.oid, 'DELETE'))")).as("tables of the old database its user may write").isEqualTo("0");
        assertNoCredentialsLeft();
        // The old Deployment on its old release is no image put back (the run's own reconciles after Succeeded have run by now).
        assertThat(get(name).getStatus().getConditions()).noneMatch(c -> ConditionTypes.IMAGE_REVERTED.equals(c.getType()));
    }

    /** A pod of BlueGreen's new side: it has the old pods' labels and the colour. */
    private static boolean newSide(io.fabric8.kubernetes.api.model.Pod pod) {
        return BlueGreenE2E.NEW_SIDE.equals(pod.getMetadata().getLabels().get(BlueGreenE2E.COLOUR));
    }

    /**
     * While no operator runs: lets the Job held at its connection to the target database go, and waits until it
     * succeeded (no operator can start the next step meanwhile).
     */
    private void finishHeldTargetJob(String job) throws Exception {
        targetGate.close();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            var j = client.batch().v1().jobs().inNamespace(namespace).withName(job).get();
            JobOutcome outcome = JobOutcome.of(j, List.of());
            if (outcome.state() == JobOutcome.State.FAILED) throw new AssertionError("Job " + job + " failed: " + outcome.message());
            return outcome.state() == JobOutcome.State.SUCCEEDED;
        });
    }

    private static void report(Strategy strategy, List<ChaosMonkey.Kill> kills, List<String> missed, Map<String, Integer> jobs) {
        List<String> killed = new ArrayList<>();
        kills.forEach(k -> killed.add(k.point() + " (stored phase " + k.phaseAtKill() + ", Jobs running " + k.jobsRunning() + ", restart "
                + k.restartMillis() + " ms)"));
        System.out.printf("%s under SIGKILL: %d kills: %s; missed: %s; Jobs created: %s%n", strategy, kills.size(),
                String.join(", ", killed), missed, jobs);
    }
}
