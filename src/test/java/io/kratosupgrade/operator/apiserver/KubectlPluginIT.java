package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.testsupport.Kubeconfigs;
import io.kratosupgrade.operator.testsupport.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl kratos-upgrade} (plugin/kubectl-kratos_upgrade) run as a user runs it: the real kubectl against the
 * real API server, with the operator reconciling. kubectl: {@code -Dkubectl.binary}, else the one hack/k8s-binaries.sh
 * built.
 */
class KubectlPluginIT extends ApiServerTestBase {

    static final Path PLUGIN = Path.of("plugin/kubectl-kratos_upgrade");
    static String kubectl;
    static Path kubeconfig;

    @BeforeAll
    static void tools() throws Exception {
        kubectl = Processes.builtTool("kubectl.binary", List.of("sh", "-c", "echo \"$(hack/k8s-binaries.sh --print-bin-dir)/kubectl\""),
                Duration.ofMinutes(30));
        kubeconfig = Kubeconfigs.write(client.getConfiguration(), Files.createTempFile("plugin-it", ".kubeconfig"));
    }

    @Test
    void statusShowsThePlanApproveApprovesItHistoryListsTheRunAndRetryStartsANewOne() {
        controllers.jobs("migrate", FakeControllers.JobBehavior.FAIL).start();
        installKratos();
        upgrade("approved", "v1.3.1", spec -> spec.getApproval().setRequired(true));
        KratosUpgrade waiting = awaitPhase("approved", Phase.AwaitingApproval);
        String hash = waiting.getStatus().getPlan().getHash();

        Processes.Result status = plugin("status", "approved");
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.stdout()).contains("KratosUpgrade " + namespace + "/approved: run 1, AwaitingApproval", "v1.1.0 -> v1.3.1",
                "Plan " + hash + ":", "migrate the database with oryd/kratos:v1.3.1", "Approved", "Way back:");

        Processes.Result retryTooEarly = plugin("retry", "approved");
        assertThat(retryTooEarly.exitCode()).isNotZero();
        assertThat(retryTooEarly.stderr()).contains("only a Failed, RolledBack or Planned run can be retried");

        Processes.Result approve = plugin("approve", "approved");
        assertThat(approve.exitCode()).as(approve.toString()).isZero();
        assertThat(approve.stdout()).contains("approved plan " + hash);
        assertThat(get("approved").getMetadata().getAnnotations()).containsEntry(KratosUpgrade.APPROVE_ANNOTATION, hash);
        // The fake migration fails: the run ends Failed, the Deployment untouched.
        awaitPhase("approved", Phase.Failed);

        Processes.Result history = plugin("history", "approved");
        assertThat(history.exitCode()).isZero();
        assertThat(history.stdout().lines().toList()).hasSize(2);
        assertThat(history.stdout()).contains("RESULT", "Failed", "MigrationFailed", "v1.1.0", "v1.3.1");

        Processes.Result logs = plugin("logs", "approved", "--step", "migrate");
        assertThat(logs.exitCode()).isZero();
        assertThat(logs.stderr()).contains("Job approved-1-migrate:");

        Processes.Result retry = plugin("retry", "approved");
        assertThat(retry.exitCode()).as(retry.toString()).isZero();
        awaitUpgrade("approved", ku -> ku.getStatus().getRun() == 2);

        Processes.Result finalize = plugin("finalize", "approved");
        assertThat(finalize.exitCode()).isNotZero();
        assertThat(finalize.stderr()).contains("applies while a BlueGreen run keeps the old side");
        Processes.Result missing = plugin("status", "no-such-upgrade");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("not found");
    }

    private Processes.Result plugin(String... args) {
        List<String> command = new ArrayList<>(List.of("bash", PLUGIN.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("-n", namespace, "--kubeconfig", kubeconfig.toString()));
        return Processes.run(command, Map.of("KUBECTL", kubectl), Duration.ofSeconds(30));
    }
}
