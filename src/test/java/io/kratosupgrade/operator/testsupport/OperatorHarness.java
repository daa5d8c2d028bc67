package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.kratosupgrade.operator.act.Actuator;
import io.kratosupgrade.operator.act.FleetActuator;
import io.kratosupgrade.operator.fleet.FleetMachine;
import io.kratosupgrade.operator.fleet.FleetObserver;
import io.kratosupgrade.operator.fleet.NamespaceLookup;
import io.kratosupgrade.operator.reconciler.KratosFleetUpgradeReconciler;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import io.kratosupgrade.operator.observe.ClusterObserver;
import io.kratosupgrade.operator.observe.MigrationSlots;
import io.kratosupgrade.operator.status.ProgressThrottle;
import io.kratosupgrade.operator.status.StatusWriter;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.reconciler.KratosUpgradeReconciler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;

/**
 * The operator, running in this JVM against a test cluster: the same reconciler Quarkus runs, registered
 * with a plain JOSDK {@link Operator} so a test can stop it ("kill") and start a new one. Keeps the
 * operator's log lines so a failing test can print them.
 */
public final class OperatorHarness implements AutoCloseable {

    /** The default of kratos-upgrade.progress-interval. */
    public static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final OperatorSettings settings;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UpgradeMetrics metrics = new UpgradeMetrics(registry);
    private final LogCapture log = new LogCapture(Level.INFO, false, "io.kratosupgrade", "io.javaoperatorsdk");
    private Operator operator;
    private Set<String> fleetAdminNamespaces = Set.of();

    public OperatorHarness(KubernetesClient client, OperatorSettings settings) {
        this.client = client;
        this.settings = settings;
    }

    /**
     * No bound on concurrent migrations: the API-server tier's fake Job controller never ends a Job whose test has
     * finished (nor enforces deadlines), so those Jobs would hold the slots of every later test class. FleetIT sets
     * a bound of its own, on namespaces of its own.
     */
    public static OperatorSettings settings(String toolsImage) {
        return settings(toolsImage, 0);
    }

    /** @param maxConcurrentMigrations the operator-wide bound on migrations at once */
    public static OperatorSettings settings(String toolsImage, int maxConcurrentMigrations) {
        return new OperatorSettings(toolsImage, 10, Duration.ofSeconds(5), Duration.ofMillis(500), 3, maxConcurrentMigrations);
    }

    /** Fleets in these namespaces may select Deployments of other namespaces; call before {@link #start}. */
    public OperatorHarness fleetAdminNamespaces(String... namespaces) {
        fleetAdminNamespaces = Set.of(namespaces);
        return this;
    }

    /** Starts the operator (KratosUpgrades and fleets), watching every namespace or only {@code namespaces}. */
    public OperatorHarness start(String... namespaces) {
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        // Shared by both reconcilers, with the production interval, as in Quarkus.
        var progress = new ProgressThrottle(PROGRESS_INTERVAL, Clock.systemUTC());
        var reconciler = reconciler(client, settings, progress, metrics, Clock.systemUTC());
        var fleets = fleetReconciler(client, fleetAdminNamespaces, progress, Clock.systemUTC());
        if (namespaces.length == 0) {
            operator.register(reconciler);
            operator.register(fleets);
        } else {
            operator.register(reconciler, o -> o.settingNamespaces(namespaces));
            operator.register(fleets, o -> o.settingNamespaces(namespaces));
        }
        operator.start();
        return this;
    }

    /** The reconciler wired as {@code config.OperatorBeans} wires it in Quarkus. */
    public static KratosUpgradeReconciler reconciler(KubernetesClient client, OperatorSettings settings, ProgressThrottle progress,
                                                     UpgradeMetrics metrics, Clock clock) {
        return new KratosUpgradeReconciler(new PhaseMachine(settings), new ClusterObserver(new MigrationSlots(settings.maxConcurrentMigrations(), clock)), new Actuator(client),
                new EventRecorder(client, clock), new StatusWriter(client, clock), progress, metrics, clock);
    }

    /** The fleet reconciler wired as {@code config.OperatorBeans} wires it in Quarkus. */
    public static KratosFleetUpgradeReconciler fleetReconciler(KubernetesClient client, Set<String> adminNamespaces,
                                                               ProgressThrottle progress, Clock clock) {
        return new KratosFleetUpgradeReconciler(new FleetMachine(), new FleetObserver(adminNamespaces),
                new NamespaceLookup(client, clock), new FleetActuator(client), new EventRecorder(client, clock),
                new StatusWriter(client, clock), progress, clock);
    }

    public boolean running() {
        return operator != null;
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
        return log.lines();
    }

    @Override
    public void close() {
        stop();
        log.close();
    }
}
