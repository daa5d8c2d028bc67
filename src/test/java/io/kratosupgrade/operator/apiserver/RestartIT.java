package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.apiserver.FakeControllers.JobBehavior;
import io.kratosupgrade.operator.testsupport.Edits;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Killing the operator mid-run and starting a new one resumes the run from status alone. */
class RestartIT extends ApiServerTestBase {

    @Test
    void anOperatorRestartedMidMigrationCreatesNoSecondJob() {
        List<String> created = new CopyOnWriteArrayList<>();
        try (Watch ignored = client.batch().v1().jobs().inNamespace(namespace).watch(new Watcher<>() {
            public void eventReceived(Action action, Job job) {
                if (action == Action.ADDED) created.add(job.getMetadata().getName() + "@" + job.getMetadata().getUid());
            }
            public void onClose(WatcherException cause) { }
        })) {
            controllers.jobs("migrate", JobBehavior.HANG).start();
            installKratos();
            upgrade("restart", "v1.3.1", spec -> { });
            awaitPhase("restart", Phase.Migrating);
            awaitUpgrade("restart", ku -> !jobs().stream().filter(j -> j.getMetadata().getName().equals("restart-1-migrate")).toList().isEmpty());

            operator.stop();
            // While no operator runs, the migration finishes.
            controllers.completeJob("restart-1-migrate");
            operator.start();

            KratosUpgrade ku = awaitPhase("restart", Phase.Succeeded);
            assertThat(ku.getStatus().getRun()).isEqualTo(1);
            assertThat(deploymentImage()).isEqualTo("oryd/kratos:v1.3.1");
        }
        // A Rolling run without approval: its backup Job inspects the database, there is no inspection Job.
        assertThat(created).hasSize(3);
        assertThat(created).anyMatch(s -> s.startsWith("restart-1-backup@"))
                .anyMatch(s -> s.startsWith("restart-1-rehearse@"))
                .anyMatch(s -> s.startsWith("restart-1-migrate@"));
    }

    @Test
    void anOperatorRestartedWhileTheMigrationStillRunsWaitsForIt() {
        controllers.jobs("migrate", JobBehavior.HANG).start();
        installKratos();
        upgrade("restart-running", "v1.3.1", spec -> { });
        awaitUpgrade("restart-running", ku -> jobs().stream().anyMatch(j -> j.getMetadata().getName().equals("restart-running-1-migrate")));

        operator.stop();
        // While no operator runs, the Job's pod loses its node: only a running operator can report it.
        controllers.unschedulable("restart-running-1-migrate");
        operator.start();
        // The new operator has looked at the running Job (it reports the new pod state) and created nothing.
        awaitUpgrade("restart-running", ku -> ku.getStatus().getMessage() != null
                && ku.getStatus().getMessage().contains("Insufficient memory"));
        assertThat(jobs()).hasSize(3);
        assertThat(get("restart-running").getStatus().getPhase()).isEqualTo(Phase.Migrating);

        controllers.completeJob("restart-running-1-migrate");
        awaitPhase("restart-running", Phase.Succeeded);
        assertThat(jobs()).hasSize(3);
    }

    /**
     * BlueGreen, with the operator stopped in every step and started again after the step's outcome happened while
     * none ran: each Job and the new Deployment are created once, and the run still ends as an undisturbed one does.
     * Copy Replication has its own steps: the replication before the freeze, the cut-over after it.
     */
    @ParameterizedTest
    @EnumSource(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.class)
    void aBlueGreenRunRestartedInEveryStepCreatesEachObjectOnceAndFinishes(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy copy) {
        List<String> steps = copy == io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.Dump
                ? List.of("check-target", "rehearse-copy", "freeze", "backup", "copy", "migrate")
                : List.of("check-target", "backup", "replicate", "freeze", "catch-up", "migrate");
        List<String> created = new CopyOnWriteArrayList<>();
        try (Watch jobs = client.batch().v1().jobs().inNamespace(namespace).watch(recording(created));
             Watch deployments = client.apps().deployments().inNamespace(namespace).watch(recording(created))) {
            for (String step : steps) controllers.jobs(step, JobBehavior.HANG);
            controllers.neverReady("oryd/kratos:v1.3.1").start();
            installKratos();
            client.secrets().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
                    .withName("kratos-green-db").endMetadata().withStringData(java.util.Map.of("dsn", BlueGreenIT.TARGET_DSN)).build()).create();
            client.services().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata()
                    .withName("kratos-public").endMetadata().withNewSpec().withSelector(java.util.Map.of("app", "kratos")).addNewPort()
                    .withPort(80).endPort().endSpec().build()).create();
            upgrade("bg", "v1.3.1", spec -> {
                spec.setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.BlueGreen);
                spec.setBlueGreen(new io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec());
                spec.getBlueGreen().setTargetDatabase(new io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference("kratos-green-db", "dsn"));
                spec.getBlueGreen().setCopy(copy);
                spec.getBackup().setVerify(false);
            });
            for (String step : steps) {
                String job = "bg-1-" + step;
                awaitUpgrade("bg", ku -> jobs().stream().anyMatch(j -> j.getMetadata().getName().equals(job)));
                operator.stop();
                controllers.completeJob(job);
                operator.start();
            }
            awaitUpgrade("bg", ku -> client.apps().deployments().inNamespace(namespace).withName(BlueGreenIT.NEW_SIDE).get() != null);
            operator.stop();
            controllers.becomeReady("oryd/kratos:v1.3.1");
            operator.start();
            awaitPhase("bg", Phase.KeepingOld);
            operator.stop();
            Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName("bg")
                    .edit(ku -> { ku.getMetadata().getAnnotations().put(KratosUpgrade.FINALIZE_ANNOTATION, "1"); return ku; }));
            operator.start();
            KratosUpgrade done = awaitPhase("bg", Phase.Succeeded);
            assertThat(done.getStatus().getRun()).isEqualTo(1);
        }
        List<String> expected = new java.util.ArrayList<>(List.of("Deployment kratos", "Job bg-1-inspect", "Deployment " + BlueGreenIT.NEW_SIDE));
        steps.forEach(step -> expected.add("Job bg-1-" + step));
        assertThat(created).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(client.services().inNamespace(namespace).withName("kratos-public").get().getSpec().getSelector())
                .isEqualTo(java.util.Map.of("app", "kratos"));
        assertThat(deployment().getSpec().getReplicas()).isZero();
    }

    /** "Kind name" of every object added. */
    private static <T extends HasMetadata> Watcher<T> recording(List<String> created) {
        return new Watcher<>() {
            public void eventReceived(Action action, T o) {
                if (action == Action.ADDED) created.add(o.getKind() + " " + o.getMetadata().getName());
            }
            public void onClose(WatcherException cause) { }
        };
    }
}
