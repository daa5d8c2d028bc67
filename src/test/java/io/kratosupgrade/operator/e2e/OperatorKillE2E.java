package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.e2e.ChaosMonkey.KillPoint;
import io.kratosupgrade.operator.testsupport.OperatorProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator killed with SIGKILL at every phase boundary and in the middle of every step, for Rolling and
 * Recreate: the run still completes, exactly one Job of each kind ever exists, and the result is the one an
 * undisturbed run gives (the target serving, the schema at the target, identities intact, a restorable dump).
 * The operator is the packaged application in a process of its own, restarted after each kill.
 */
class OperatorKillE2E extends E2eTestBase {

    OperatorProcess process;
    /** Steps held still ({@link StepGates}) so each kill lands in the middle of the step it targets. */
    private AutoCloseable backupGate;
    private AutoCloseable migrationGate;
    /** New pods held unready ({@link ReadinessHold}) so the rollout is still half-way when its kill lands. */
    private AutoCloseable rolloutGate;
    /** Created as the rollout is let go, so that Verifying lasts until its kill has landed. */
    private AutoCloseable verificationGate = () -> { };

    /** This class runs the operator as a separate process; the in-JVM one stays stopped. */
    @BeforeAll
    static void stopInJvmOperator() {
        operator.stop();
    }

    @BeforeEach
    void startOperatorProcess() {
        process = new OperatorProcess(env.kubeconfig(), Map.of("kratos-upgrade.backup.image", env.toolsImage()));
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
        return () -> {
            try {
                gate.get().close();
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
        List<String> killed = new ArrayList<>();
        kills.forEach(k -> killed.add(k.point() + " (stored phase " + k.phaseAtKill() + ", Jobs running " + k.jobsRunning() + ", restart "
                + k.restartMillis() + " ms)"));
        System.out.printf("%s under SIGKILL: %d kills: %s; missed: %s; Jobs created: %s%n", strategy, kills.size(),
                String.join(", ", killed), missed, jobs);

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
    }
}
