package io.kratosupgrade.operator.metrics;

import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's own metrics. Tags are bounded sets (phase, result, outcome, reason), never object names, so
 * cardinality does not grow with the number of KratosUpgrades, with one exception noted below:
 * <ul>
 * <li>{@code kratos_upgrade_runs_total{result}}: runs ended, by Succeeded, Failed, RolledBack, Superseded (all four
 *     exported from 0, so {@code increase()} sees a first failure);</li>
 * <li>{@code kratos_upgrade_run_duration_seconds{result}}: how long runs took (histogram);</li>
 * <li>{@code kratos_upgrade_phase_duration_seconds{phase,outcome}}: time spent in each phase, outcome
 *     completed or failed (histogram, buckets {@link #DURATION_BUCKETS}, for {@code histogram_quantile});</li>
 * <li>{@code kratos_upgrade_runs_in_progress}: runs not yet in a terminal phase;</li>
 * <li>{@code kratos_upgrade_runs_in_phase{phase}}: the same, by phase (one gauge per non-terminal phase);</li>
 * <li>{@code kratos_upgrade_phase_started_timestamp_seconds{kratosupgrade_namespace,kratosupgrade,phase}}: when each
 *     run in progress entered its phase. The exception: it names the object, because the alerts on a stuck run or a
 *     long-waiting approval must say which one. A series exists only while its run is in progress, so their number is
 *     the number of runs in progress, not of objects or runs ever seen;</li>
 * <li>{@code kratos_upgrade_last_backup_size_bytes}, {@code kratos_upgrade_last_backup_finished_timestamp_seconds}: the
 *     newest finished backup among the KratosUpgrades' current statuses (NaN when there is none);</li>
 * <li>{@code kratos_upgrade_reconcile_errors_total{reason}}: failed reconciles, by the reason the ReconcileError
 *     condition shows (all reasons exported from 0);</li>
 * <li>{@code kratos_upgrade_images_reverted}: KratosUpgrades whose Deployment was put back on an older release after
 *     their run succeeded (condition ImageReverted): an old binary on a migrated database, which the operator reports
 *     and never fights.</li>
 * </ul>
 */
public class UpgradeMetrics {

    /** How a run ends ({@link Decision.Transition#runResult()}). */
    public static final List<String> RESULTS = List.of("Succeeded", "Failed", "RolledBack", "Superseded");

    /** The reasons {@code KratosUpgradeReconciler.errorReason} gives. */
    public static final List<String> ERROR_REASONS = List.of("Unauthorized", "Forbidden", "NotFound", "Conflict", "Invalid",
            "TooManyRequests", "ApiServerError", "ApiServerUnreachable", "ApiError", "InternalError");

    /** Histogram buckets for phases and runs: a pod start takes seconds, a large dump or migration up to hours. */
    public static final Duration[] DURATION_BUCKETS = Arrays.stream(new long[] {1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800,
            3600, 7200, 14400}).mapToObj(Duration::ofSeconds).toArray(Duration[]::new);

    private record Tracked(String namespace, String name, Phase phase, Instant phaseStartedAt) {
    }

    private record Backup(long bytes, Instant finishedAt) {
    }

    private final MeterRegistry registry;
    private final Map<String, Tracked> inProgress = new ConcurrentHashMap<>();
    private final Set<String> imagesReverted = ConcurrentHashMap.newKeySet();
    private final Map<String, Backup> backups = new ConcurrentHashMap<>();
    private final MultiGauge phaseStarted;

    public UpgradeMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("kratos.upgrade.runs.in.progress", inProgress, Map::size)
                .description("Upgrade runs not yet in a terminal phase").register(registry);
        for (Phase phase : Phase.values()) {
            if (!phase.isTerminal()) {
                Gauge.builder("kratos.upgrade.runs.in.phase", inProgress,
                                m -> m.values().stream().filter(t -> t.phase() == phase).count())
                        .description("Upgrade runs in progress, by phase").tag("phase", phase.name()).register(registry);
            }
        }
        phaseStarted = MultiGauge.builder("kratos.upgrade.phase.started.timestamp").baseUnit("seconds")
                .description("When each run in progress entered its current phase (Unix time)").register(registry);
        Gauge.builder("kratos.upgrade.images.reverted", imagesReverted, Set::size)
                .description("KratosUpgrades whose Deployment runs an older release than their succeeded run migrated for")
                .register(registry);
        Gauge.builder("kratos.upgrade.last.backup.size", backups, m -> newestBackup(m).map(b -> (double) b.bytes()).orElse(Double.NaN))
                .baseUnit("bytes").description("Size of the newest finished backup").register(registry);
        Gauge.builder("kratos.upgrade.last.backup.finished.timestamp", backups,
                        m -> newestBackup(m).map(b -> b.finishedAt().toEpochMilli() / 1000.0).orElse(Double.NaN))
                .baseUnit("seconds").description("When the newest finished backup finished (Unix time)").register(registry);
        RESULTS.forEach(this::runsCounter);
        ERROR_REASONS.forEach(this::reconcileErrorsCounter);
    }

    public void record(Decision.Transition t) {
        Timer.builder("kratos.upgrade.phase.duration")
                .description("Time spent in an upgrade phase")
                .tag("phase", t.from().name())
                .tag("outcome", t.failed() ? "failed" : "completed")
                .serviceLevelObjectives(DURATION_BUCKETS)
                .register(registry).record(t.inPhase());
        if (t.runResult() != null) {
            runsCounter(t.runResult()).increment();
            Timer.builder("kratos.upgrade.run.duration").description("Duration of upgrade runs, by result")
                    .tag("result", t.runResult())
                    .serviceLevelObjectives(DURATION_BUCKETS)
                    .register(registry).record(t.runSeconds());
        }
    }

    /** A reconcile failed with this reason (see {@link #ERROR_REASONS}). */
    public void reconcileError(String reason) {
        reconcileErrorsCounter(reason).increment();
    }

    /**
     * Tracks whether the object identified by {@code uid} has a run in progress (and in which phase since when),
     * whether its image was reverted, and its run's finished backup.
     */
    public void track(String uid, String namespace, String name, KratosUpgradeStatus status) {
        Phase phase = status.getPhase();
        if (phase == null || phase.isTerminal()) {
            inProgress.remove(uid);
        } else {
            inProgress.put(uid, new Tracked(namespace, name, phase, instant(status.getPhaseStartedAt()).orElse(null)));
        }
        if (Conditions.get(status, ConditionTypes.IMAGE_REVERTED).filter(c -> "True".equals(c.getStatus())).isPresent()) {
            imagesReverted.add(uid);
        } else {
            imagesReverted.remove(uid);
        }
        BackupStatus backup = status.getBackup();
        Optional<Instant> backupFinished = backup == null || backup.getBytes() == null ? Optional.empty()
                : instant(backup.getFinishedAt());
        if (backupFinished.isPresent()) {
            backups.put(uid, new Backup(backup.getBytes(), backupFinished.get()));
        } else {
            backups.remove(uid);
        }
        refreshPhaseStarted();
    }

    public void forget(String uid) {
        inProgress.remove(uid);
        imagesReverted.remove(uid);
        backups.remove(uid);
        refreshPhaseStarted();
    }

    private synchronized void refreshPhaseStarted() {
        phaseStarted.register(inProgress.values().stream().filter(t -> t.phaseStartedAt() != null)
                .map(t -> MultiGauge.Row.of(Tags.of("kratosupgrade_namespace", String.valueOf(t.namespace()),
                                "kratosupgrade", String.valueOf(t.name()), "phase", t.phase().name()),
                        t.phaseStartedAt().toEpochMilli() / 1000.0))
                .toList(), true);
    }

    private Counter runsCounter(String result) {
        return Counter.builder("kratos.upgrade.runs").description("Upgrade runs ended, by result")
                .tag("result", result).register(registry);
    }

    private Counter reconcileErrorsCounter(String reason) {
        return Counter.builder("kratos.upgrade.reconcile.errors").description("Failed reconciles, by reason")
                .tag("reason", reason).register(registry);
    }

    private static Optional<Backup> newestBackup(Map<String, Backup> backups) {
        return backups.values().stream().max(Comparator.comparing(Backup::finishedAt));
    }

    private static Optional<Instant> instant(String timestamp) {
        if (timestamp == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(timestamp));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
