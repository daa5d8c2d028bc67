package io.kratosupgrade.operator.config;

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

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }
}
