package io.kratosupgrade.operator.config;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Wires the plain classes the reconciler needs into Quarkus. */
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

    /**
     * JOSDK's own metrics without per-resource tags: QOSDK's default tags every meter with the object's
     * name and namespace, which grows without bound with the number of KratosUpgrades.
     */
    @Produces
    @Singleton
    Metrics josdkMetrics(MeterRegistry registry) {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    /**
     * Leader election (active in the prod profile): with several replicas only the holder of this Lease
     * reconciles; the others wait to take over. The Lease lives in the operator's own namespace.
     */
    @Produces
    @Singleton
    LeaderElectionConfiguration leaderElection(OperatorConfig config) {
        return new LeaderElectionConfiguration(config.leaderElectionLease());
    }

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }
}
