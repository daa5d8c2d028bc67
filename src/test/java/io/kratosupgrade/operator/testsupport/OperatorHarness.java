package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.kratosupgrade.operator.act.Actuator;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import io.kratosupgrade.operator.observe.ClusterObserver;
import io.kratosupgrade.operator.status.StatusWriter;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.reconciler.KratosUpgradeReconciler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The operator, running in this JVM against a test cluster: the same reconciler Quarkus runs, registered
 * with a plain JOSDK {@link Operator} so a test can stop it ("kill") and start a new one. Keeps the
 * operator's log lines so a failing test can print them.
 */
public final class OperatorHarness implements AutoCloseable {

    private final KubernetesClient client;
    private final OperatorSettings settings;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UpgradeMetrics metrics = new UpgradeMetrics(registry);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.INFO.intValue()) {
                String message = r.getParameters() == null ? r.getMessage()
                        : String.format(r.getMessage().replace("{0}", "%s"), r.getParameters());
                log.add(java.time.Instant.ofEpochMilli(r.getMillis()) + " " + r.getLevel() + " " + r.getLoggerName() + ": " + message
                        + (r.getThrown() == null ? "" : " " + r.getThrown()));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Operator operator;

    public OperatorHarness(KubernetesClient client, OperatorSettings settings) {
        this.client = client;
        this.settings = settings;
        Logger.getLogger("io.kratosupgrade").addHandler(capture);
        Logger.getLogger("io.javaoperatorsdk").addHandler(capture);
    }

    public static OperatorSettings settings(String toolsImage) {
        return new OperatorSettings(toolsImage, 10, Duration.ofSeconds(5), Duration.ofMillis(500), 3);
    }

    public OperatorHarness start() {
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        operator.register(reconciler(client, settings, metrics, Clock.systemUTC()));
        operator.start();
        return this;
    }

    /** The reconciler wired as {@code config.OperatorBeans} wires it in Quarkus. */
    public static KratosUpgradeReconciler reconciler(KubernetesClient client, OperatorSettings settings, UpgradeMetrics metrics,
                                                     Clock clock) {
        return new KratosUpgradeReconciler(new PhaseMachine(settings), new ClusterObserver(), new Actuator(client),
                new EventRecorder(client, clock), new StatusWriter(client, clock), metrics, clock);
    }

    public void stop() {
        if (operator != null) {
            operator.stop();
            operator = null;
        }
    }

    public SimpleMeterRegistry registry() {
        return registry;
    }

    /** The operator's log lines so far (INFO and above). */
    public List<String> log() {
        return List.copyOf(log);
    }

    @Override
    public void close() {
        stop();
        Logger.getLogger("io.kratosupgrade").removeHandler(capture);
        Logger.getLogger("io.javaoperatorsdk").removeHandler(capture);
    }
}
