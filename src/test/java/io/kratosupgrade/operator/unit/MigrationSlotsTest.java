package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.observe.MigrationSlots;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MigrationSlotsTest {

    private Instant now = Instant.parse("2026-11-29T10:00:00Z");
    private final Clock clock = new Clock() {
        public ZoneOffset getZone() { return ZoneOffset.UTC; }
        public Clock withZone(java.time.ZoneId zone) { return this; }
        public Instant instant() { return now; }
    };

    @Test
    void slotsGivenOutCountUntilTheirJobShowsAndTwoRunsCannotTakeTheLastOne() {
        MigrationSlots slots = new MigrationSlots(2, clock);
        assertThat(slots.hold("a/ku", Set.of("x/ku"))).isTrue();
        assertThat(slots.hold("b/ku", Set.of("x/ku"))).as("x runs, a was given the other slot").isFalse();
        assertThat(slots.hold("a/ku", Set.of("x/ku"))).as("a keeps its slot").isTrue();
        assertThat(slots.hold("b/ku", Set.of("x/ku", "a/ku"))).as("a's Job now shows").isFalse();
        assertThat(slots.hold("b/ku", Set.of("a/ku"))).as("x ended").isTrue();
    }

    @Test
    void aSlotWhoseJobNeverCameIsFreeAgainAfterAWhile() {
        MigrationSlots slots = new MigrationSlots(1, clock);
        assertThat(slots.hold("a/ku", Set.of())).isTrue();
        assertThat(slots.hold("b/ku", Set.of())).isFalse();
        now = now.plus(Duration.ofMinutes(3));
        assertThat(slots.hold("b/ku", Set.of())).isTrue();
    }

    @Test
    void aRunWhoseJobExistsGivesItsReservationBackEvenIfNoOneSawTheJobRunning() {
        MigrationSlots slots = new MigrationSlots(1, clock);
        assertThat(slots.hold("a/ku", Set.of())).isTrue();
        slots.release("a/ku");
        assertThat(slots.hold("b/ku", Set.of())).as("a's Job already ended").isTrue();
    }

    @Test
    void zeroMeansNoLimit() {
        assertThat(new MigrationSlots(0, clock).hold("a/ku", Set.of("b/ku", "c/ku"))).isTrue();
    }
}
