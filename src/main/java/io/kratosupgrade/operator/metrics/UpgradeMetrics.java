package io.kratosupgrade.operator.metrics;

import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's own metrics. Tags are bounded sets (phase, result, outcome), never object names, so
 * cardinality does not grow with the number of KratosUpgrades:
 * <ul>
 * <li>{@code kratos_upgrade_runs_total{result}}: runs ended, by Succeeded, Failed, RolledBack, Superseded;</li>
 * <li>{@code kratos_upgrade_run_duration_seconds{result}}: how long runs took;</li>
 * <li>{@code kratos_upgrade_phase_duration_seconds{phase,outcome}}: time spent in each phase, outcome
 *     completed or failed;</li>
 * <li>{@code kratos_upgrade_runs_in_progress}: runs not yet in a terminal phase.</li>
 * </ul>
 */
public class UpgradeMetrics {

    private final MeterRegistry registry;
    private final Set<String> inProgress = ConcurrentHashMap.newKeySet();

    public UpgradeMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gaugeCollectionSize("kratos.upgrade.runs.in.progress", io.micrometer.core.instrument.Tags.empty(), inProgress);
    }

    public void record(Decision.Transition t) {
        Timer.builder("kratos.upgrade.phase.duration")
                .description("Time spent in an upgrade phase")
                .tag("phase", t.from().name())
                .tag("outcome", t.failed() ? "failed" : "completed")
                .register(registry).record(t.inPhase());
        if (t.runResult() != null) {
            Counter.builder("kratos.upgrade.runs").description("Upgrade runs ended, by result")
                    .tag("result", t.runResult()).register(registry).increment();
            Timer.builder("kratos.upgrade.run.duration").description("Duration of upgrade runs, by result")
                    .tag("result", t.runResult()).register(registry).record(t.runSeconds());
        }
    }

    /** Tracks whether the object identified by {@code uid} has a run in progress. */
    public void track(String uid, Phase phase) {
        if (phase == null || phase.isTerminal()) {
            inProgress.remove(uid);
        } else {
            inProgress.add(uid);
        }
    }

    public void forget(String uid) {
        inProgress.remove(uid);
    }
}
