package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.apiserver.FakeControllers.JobBehavior;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

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
}
