package io.kratosupgrade.operator.metrics;

import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.Conditions;
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
 * <li>{@code kratos_upgrade_runs_in_progress}: runs not yet in a terminal phase;</li>
 * <li>{@code kratos_upgrade_images_reverted}: KratosUpgrades whose Deployment was put back on an older release after
 *     their run succeeded (condition ImageReverted): an old binary on a migrated database, which the operator reports
 *     and never fights.</li>
 * </ul>
 */
public class UpgradeMetrics {

    private final MeterRegistry registry;
    private final Set<String> inProgress = ConcurrentHashMap.newKeySet();
    private final Set<String> imagesReverted = ConcurrentHashMap.newKeySet();

    public UpgradeMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gaugeCollectionSize("kratos.upgrade.runs.in.progress", io.micrometer.core.instrument.Tags.empty(), inProgress);
        registry.gaugeCollectionSize("kratos.upgrade.images.reverted", io.micrometer.core.instrument.Tags.empty(), imagesReverted);
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

    /** Tracks whether the object identified by {@code uid} has a run in progress, and whether its image was reverted. */
    public void track(String uid, KratosUpgradeStatus status) {
        Phase phase = status.getPhase();
        if (phase == null || phase.isTerminal()) {
            inProgress.remove(uid);
        } else {
            inProgress.add(uid);
        }
        if (Conditions.get(status, ConditionTypes.IMAGE_REVERTED).filter(c -> "True".equals(c.getStatus())).isPresent()) {
            imagesReverted.add(uid);
        } else {
            imagesReverted.remove(uid);
        }
    }

    public void forget(String uid) {
        inProgress.remove(uid);
        imagesReverted.remove(uid);
    }
}
