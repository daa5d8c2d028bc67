package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.status.ProgressThrottle;
import io.kratosupgrade.operator.testsupport.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressThrottleTest {

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-29T10:00:00Z"));
    private final ProgressThrottle throttle = new ProgressThrottle(Duration.ofSeconds(10), clock);
    private final KratosUpgrade ku = upgrade();

    @Test
    void aChangeOfProgressTextAloneWaitsUntilTheIntervalSinceTheLastWriteEnds() {
        KratosUpgradeStatus stored = status(Phase.Migrating, "migrating: Job is starting");
        KratosUpgradeStatus decided = status(Phase.Migrating, "migrating: Job is running");

        assertThat(throttle.holdBack(ku, stored, decided, ProgressThrottle.UPGRADE_PROGRESS)).as("nothing written yet").isZero();
        throttle.written(ku);
        assertThat(throttle.holdBack(ku, stored, decided, ProgressThrottle.UPGRADE_PROGRESS)).isEqualTo(Duration.ofSeconds(10));

        clock.advance(Duration.ofSeconds(7));
        assertThat(throttle.holdBack(ku, stored, decided, ProgressThrottle.UPGRADE_PROGRESS)).isEqualTo(Duration.ofSeconds(3));
        clock.advance(Duration.ofSeconds(3));
        assertThat(throttle.holdBack(ku, stored, decided, ProgressThrottle.UPGRADE_PROGRESS)).isZero();
    }

    @Test
    void theReconcilerLooksAgainAtTheSoonerOfItsOwnTimeAndTheEndOfAHeldBackWrite() {
        assertThat(ProgressThrottle.sooner(null, Duration.ZERO)).isNull();
        assertThat(ProgressThrottle.sooner(Duration.ofMinutes(1), Duration.ZERO)).isEqualTo(Duration.ofMinutes(1));
        assertThat(ProgressThrottle.sooner(null, Duration.ofSeconds(4))).isEqualTo(Duration.ofSeconds(4));
        assertThat(ProgressThrottle.sooner(Duration.ofSeconds(2), Duration.ofSeconds(4))).isEqualTo(Duration.ofSeconds(2));
        assertThat(ProgressThrottle.sooner(Duration.ofMinutes(1), Duration.ofSeconds(4))).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aChangeOfAnythingElseIsNeverHeldBack() {
        throttle.written(ku);
        KratosUpgradeStatus stored = status(Phase.Migrating, "migrating");
        KratosUpgradeStatus nextPhase = status(Phase.RollingOut, "migrating");
        KratosUpgradeStatus jobAnnounced = status(Phase.Migrating, "migrating");
        jobAnnounced.setRun(2);

        assertThat(throttle.holdBack(ku, stored, nextPhase, ProgressThrottle.UPGRADE_PROGRESS)).isZero();
        assertThat(throttle.holdBack(ku, stored, jobAnnounced, ProgressThrottle.UPGRADE_PROGRESS)).isZero();
        assertThat(throttle.holdBack(ku, null, stored, ProgressThrottle.UPGRADE_PROGRESS)).as("a first status").isZero();
    }

    @Test
    void conditionMessagesAreProgressButAConditionsStatusIsNot() {
        throttle.written(ku);
        KratosUpgradeStatus stored = status(Phase.Migrating, "a");
        Conditions.set(stored, "Migrated", "Unknown", "InProgress", "a", 1L, "2026-11-29T10:00:00Z");
        KratosUpgradeStatus reworded = status(Phase.Migrating, "b");
        Conditions.set(reworded, "Migrated", "Unknown", "InProgress", "b", 1L, "2026-11-29T10:00:00Z");
        KratosUpgradeStatus done = status(Phase.Migrating, "b");
        Conditions.set(done, "Migrated", "True", "MigrationComplete", "b", 1L, "2026-11-29T10:00:00Z");

        assertThat(throttle.holdBack(ku, stored, reworded, ProgressThrottle.UPGRADE_PROGRESS)).isPositive();
        assertThat(throttle.holdBack(ku, stored, done, ProgressThrottle.UPGRADE_PROGRESS)).isZero();
    }

    private static KratosUpgradeStatus status(Phase phase, String message) {
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setRun(1);
        status.setPhase(phase);
        status.setMessage(message);
        return status;
    }

    private static KratosUpgrade upgrade() {
        KratosUpgrade ku = new KratosUpgrade();
        ku.setMetadata(new ObjectMetaBuilder().withName("kratos").withNamespace("ory").withUid("uid-1").build());
        return ku;
    }
}
