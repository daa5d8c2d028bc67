package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.testsupport.OperatorHarness;
import org.junit.jupiter.api.Test;

/** The operator's own metrics, from an operator (and meter registry) that saw exactly one run. */
@ApiServerTestBase.OwnOperator
class MetricsIT extends ApiServerTestBase {

    @Test
    void oneSucceededRunIsCountedOnceWithItsPhases() {
        // Watching this test's namespace only: runs left in other namespaces by earlier classes are not counted.
        operator = new OperatorHarness(client, OperatorHarness.settings(TOOLS_IMAGE)).start(namespace);
        controllers.start();
        installKratos();
        upgrade("metered", "v1.3.1", spec -> { });
        awaitPhase("metered", Phase.Succeeded);

        var registry = operator.registry();
        // Metrics are recorded after the status write the wait above sees.
        await().atMost(WAIT).until(() -> registry.get("kratos.upgrade.runs").tag("result", "Succeeded").counter().count() == 1
                && registry.get("kratos.upgrade.runs.in.progress").gauge().value() == 0);
        assertThat(registry.get("kratos.upgrade.runs").tag("result", "Succeeded").counter().count()).isEqualTo(1.0);
        assertThat(registry.get("kratos.upgrade.runs").tag("result", "Failed").counter().count()).isZero();
        assertThat(registry.get("kratos.upgrade.run.duration").tag("result", "Succeeded").timer().count()).isEqualTo(1);
        for (String phase : new String[] {"Pending", "Preflight", "BackingUp", "Migrating", "RollingOut", "Verifying"}) {
            assertThat(registry.get("kratos.upgrade.phase.duration").tag("phase", phase).tag("outcome", "completed").timer().count())
                    .as(phase).isEqualTo(1);
        }
        assertThat(registry.get("kratos.upgrade.runs.in.progress").gauge().value()).isZero();
        assertThat(registry.find("kratos.upgrade.phase.started.timestamp").gauges()).as("no run in progress is named").isEmpty();
        assertThat(registry.get("kratos.upgrade.last.backup.size").gauge().value()).as("the fake backup Job's size").isEqualTo(4096.0);
    }
}
