package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The gauges follow each object's status: in progress while not terminal, reverted while ImageReverted is True. */
class UpgradeMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UpgradeMetrics metrics = new UpgradeMetrics(registry);

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    @Test
    void anImagePutBackCountsUntilTheDeploymentRunsTheMigratedReleaseAgainOrTheObjectGoes() {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(Phase.Succeeded);
        metrics.track("a", "ns", "a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "True", "ImageReverted", "back to v1.0.0", 1, "2026-01-01T00:00:00Z");
        metrics.track("a", "ns", "a", status);
        metrics.track("a", "ns", "a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).as("one object, counted once").isEqualTo(1.0);

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "False", "ImageCurrent", "v1.3.1 again", 1, "2026-01-01T00:01:00Z");
        metrics.track("a", "ns", "a", status);
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();

        Conditions.set(status, ConditionTypes.IMAGE_REVERTED, "True", "ImageReverted", "back again", 1, "2026-01-01T00:02:00Z");
        metrics.track("a", "ns", "a", status);
        metrics.forget("a");
        assertThat(gauge("kratos.upgrade.images.reverted")).isZero();
    }

    @Test
    void runsInProgressAreTheNonTerminalOnes() {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(Phase.AwaitingRollout);
        metrics.track("a", "ns", "a", status);
        assertThat(gauge("kratos.upgrade.runs.in.progress")).isEqualTo(1.0);
        status.setPhase(Phase.Succeeded);
        metrics.track("a", "ns", "a", status);
        assertThat(gauge("kratos.upgrade.runs.in.progress")).isZero();
    }

    @Test
    void eachRunInProgressCountsInItsPhaseAndNamesItselfOnlyWhileInProgress() {
        KratosUpgradeStatus a = new KratosUpgradeStatus();
        a.setPhase(Phase.AwaitingApproval);
        a.setPhaseStartedAt("2026-01-01T00:00:10Z");
        KratosUpgradeStatus b = new KratosUpgradeStatus();
        b.setPhase(Phase.Migrating);
        b.setPhaseStartedAt("2026-01-01T00:01:00Z");
        metrics.track("a", "ns1", "first", a);
        metrics.track("b", "ns2", "second", b);
        assertThat(registry.get("kratos.upgrade.runs.in.phase").tag("phase", "AwaitingApproval").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("kratos.upgrade.runs.in.phase").tag("phase", "Migrating").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("kratos.upgrade.runs.in.phase").tag("phase", "BackingUp").gauge().value()).isZero();
        assertThat(registry.find("kratos.upgrade.runs.in.phase").tag("phase", "Succeeded").gauge()).as("terminal: no gauge").isNull();
        assertThat(registry.get("kratos.upgrade.phase.started.timestamp").tag("kratosupgrade_namespace", "ns1")
                .tag("kratosupgrade", "first").tag("phase", "AwaitingApproval").gauge().value())
                .isEqualTo(1767225610.0);

        b.setPhase(Phase.Succeeded);
        metrics.track("b", "ns2", "second", b);
        assertThat(registry.get("kratos.upgrade.runs.in.phase").tag("phase", "Migrating").gauge().value()).isZero();
        assertThat(registry.find("kratos.upgrade.phase.started.timestamp").tag("kratosupgrade", "second").gauge())
                .as("a run that ended is not named any more").isNull();
        metrics.forget("a");
        assertThat(registry.find("kratos.upgrade.phase.started.timestamp").gauges()).isEmpty();
    }

    @Test
    void theLastBackupIsTheNewestFinishedOne() {
        assertThat(gauge("kratos.upgrade.last.backup.size")).isNaN();
        metrics.track("a", "ns", "a", withBackup(1000L, "2026-01-01T00:00:00Z"));
        metrics.track("b", "ns", "b", withBackup(2000L, "2026-01-01T01:00:00Z"));
        metrics.track("c", "ns", "c", withBackup(3000L, null));
        assertThat(gauge("kratos.upgrade.last.backup.size")).isEqualTo(2000.0);
        assertThat(gauge("kratos.upgrade.last.backup.finished.timestamp")).isEqualTo(1767229200.0);
        metrics.forget("b");
        assertThat(gauge("kratos.upgrade.last.backup.size")).isEqualTo(1000.0);
    }

    private static KratosUpgradeStatus withBackup(Long bytes, String finishedAt) {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(Phase.Succeeded);
        BackupStatus backup = new BackupStatus();
        backup.setBytes(bytes);
        backup.setFinishedAt(finishedAt);
        status.setBackup(backup);
        return status;
    }

    @Test
    void reconcileErrorsAndRunResultsStartAtZeroSoTheFirstOneIsAnIncrease() {
        for (String reason : UpgradeMetrics.ERROR_REASONS) {
            assertThat(registry.get("kratos.upgrade.reconcile.errors").tag("reason", reason).counter().count()).isZero();
        }
        assertThat(registry.get("kratos.upgrade.runs").tag("result", "Failed").counter().count()).isZero();
        metrics.reconcileError("Forbidden");
        assertThat(registry.get("kratos.upgrade.reconcile.errors").tag("reason", "Forbidden").counter().count()).isEqualTo(1.0);
    }

    @Test
    void phaseDurationsHaveBucketsFromSecondsToHours() {
        metrics.record(new Decision.Transition(Phase.BackingUp, Phase.Migrating, false, Duration.ofSeconds(42), null, null));
        Timer timer = registry.get("kratos.upgrade.phase.duration").tag("phase", "BackingUp").timer();
        CountAtBucket[] buckets = timer.takeSnapshot().histogramCounts();
        assertThat(Arrays.stream(buckets).mapToDouble(b -> b.bucket(java.util.concurrent.TimeUnit.SECONDS)))
                .contains(1.0, 60.0, 3600.0);
        assertThat(Arrays.stream(buckets).filter(b -> b.bucket(java.util.concurrent.TimeUnit.SECONDS) == 60.0)
                .findFirst().orElseThrow().count()).isEqualTo(1.0);
        assertThat(Arrays.stream(buckets).filter(b -> b.bucket(java.util.concurrent.TimeUnit.SECONDS) == 30.0)
                .findFirst().orElseThrow().count()).isZero();
    }
}
