package io.kratosupgrade.operator.config;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.kratosupgrade.operator.act.Actuator;
import io.kratosupgrade.operator.act.FleetActuator;
import io.kratosupgrade.operator.fleet.FleetMachine;
import io.kratosupgrade.operator.fleet.FleetObserver;
import io.kratosupgrade.operator.fleet.NamespaceLookup;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.observe.ClusterObserver;
import io.kratosupgrade.operator.observe.MigrationSlots;
import io.kratosupgrade.operator.status.ProgressThrottle;
import io.kratosupgrade.operator.status.StatusWriter;
import io.micrometer.core.instrument.MeterRegistry;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/** Wires the plain classes the reconciler needs into Quarkus (testsupport.OperatorHarness wires the same ones by hand). */
public class OperatorBeans {

    @Produces
    @Singleton
    OperatorSettings settings(OperatorConfig config) {
        return config.toSettings();
    }

    @Produces
    @Singleton
    UpgradeMetrics metrics(MeterRegistry registry) {
        return new UpgradeMetrics(registry);
    }

    @Produces
    @Singleton
    PhaseMachine phaseMachine(OperatorSettings settings) {
        return new PhaseMachine(settings);
    }


    @Produces
    @Singleton
    ClusterObserver clusterObserver(OperatorSettings settings, Clock clock) {
        return new ClusterObserver(new MigrationSlots(settings.maxConcurrentMigrations(), clock));
    }

    @Produces
    @Singleton
    Actuator actuator(KubernetesClient client) {
        return new Actuator(client);
    }

    @Produces
    @Singleton
    FleetMachine fleetMachine() {
        return new FleetMachine();
    }

    @Produces
    @Singleton
    FleetObserver fleetObserver(OperatorConfig config) {
        return new FleetObserver(Set.copyOf(config.fleet().adminNamespaces().orElse(List.of())));
    }

    @Produces
    @Singleton
    NamespaceLookup namespaceLookup(KubernetesClient client, Clock clock) {
        return new NamespaceLookup(client, clock);
    }

    @Produces
    @Singleton
    FleetActuator fleetActuator(KubernetesClient client) {
        return new FleetActuator(client);
    }

    @Produces
    @Singleton
    EventRecorder eventRecorder(KubernetesClient client, Clock clock) {
        return new EventRecorder(client, clock);
    }

    /** The Events still queued are written at shutdown (best effort, as Events are). */
    void closeEventRecorder(@Disposes EventRecorder recorder) {
        recorder.close();
    }

    @Produces
    @Singleton
    StatusWriter statusWriter(KubernetesClient client, Clock clock) {
        return new StatusWriter(client, clock);
    }

    /** One for both reconcilers: it is keyed by uid. */
    @Produces
    @Singleton
    ProgressThrottle progressThrottle(OperatorConfig config, Clock clock) {
        return new ProgressThrottle(config.progressInterval(), clock);
    }

    /**
     * JOSDK's own metrics without per-resource tags: QOSDK's default tags every meter with the object's
     * name and namespace, which grows without bound with the number of KratosUpgrades.
     */
    @Produces
    @Singleton
    Metrics josdkMetrics(MeterRegistry registry) {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    private static final Logger LOG = Logger.getLogger(OperatorBeans.class);
    private static final AtomicBoolean SHUTTING_DOWN = new AtomicBoolean();

    /**
     * Leader election (active in the prod profile): with several replicas only the holder of this Lease
     * reconciles; the others wait to take over. The Lease lives in the operator's own namespace.
     *
     * <p>A replica that loses the Lease must stop at once (another one leads now). JOSDK 5.2's own
     * exit-on-stop-leading calls System.exit from inside the shutdown it is part of and deadlocks on every
     * SIGTERM (java-operator-sdk#3376), so the process is halted here, and only when it is not shutting down.
     * JOSDK fixed it in 5.3.5 and 5.4.0 (java-operator-sdk#3383); no QOSDK served to us brings a fixed JOSDK yet.
     */
    @Produces
    @Singleton
    LeaderElectionConfiguration leaderElection(OperatorConfig config) {
        LeaderCallbacks callbacks = new LeaderCallbacks(() -> LOG.info("leading: this replica reconciles"), () -> {
            if (!SHUTTING_DOWN.get()) {
                LOG.error("lost the leader election Lease while running: stopping so another replica leads");
                Runtime.getRuntime().halt(1);
            }
        }, leader -> LOG.infof("leader is %s", leader));
        return new LeaderElectionConfiguration(config.leaderElectionLease(), null, Duration.ofSeconds(15),
                Duration.ofSeconds(10), Duration.ofSeconds(2), null, callbacks, false);
    }

    /** Runs before the operator stops (QOSDK stops it on the same event), so losing the Lease is expected. */
    void onShutdown(@Observes @Priority(1) ShutdownEvent event) {
        SHUTTING_DOWN.set(true);
    }

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }
}
