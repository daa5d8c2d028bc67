package io.kratosupgrade.operator.apiserver;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.reconciler.KratosUpgradeReconciler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;

/**
 * The operator, running in this JVM against the test API server: the same reconciler Quarkus runs,
 * registered with a plain JOSDK {@link Operator} so a test can stop it ("kill") and start a new one.
 */
final class OperatorHarness implements AutoCloseable {

    static final String TOOLS_IMAGE = "test/db-tools:1";

    private final KubernetesClient client;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UpgradeMetrics metrics = new UpgradeMetrics(registry);
    private Operator operator;

    OperatorHarness(KubernetesClient client) {
        this.client = client;
    }

    OperatorHarness start() {
        OperatorSettings settings = new OperatorSettings(TOOLS_IMAGE, 10, Duration.ofSeconds(5), Duration.ofMillis(500));
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        operator.register(new KratosUpgradeReconciler(settings, metrics, Clock.systemUTC()));
        operator.start();
        return this;
    }

    void stop() {
        if (operator != null) {
            operator.stop();
            operator = null;
        }
    }

    SimpleMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        stop();
    }
}
