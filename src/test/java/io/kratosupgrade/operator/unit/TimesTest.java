package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class TimesTest {

    @ParameterizedTest
    @CsvSource({
            "90s, PT1M30S",
            "15m, PT15M",
            "1h30m, PT1H30M",
            "1.5h, PT1H30M",
            "500ms, PT0.5S",
            "2h45m30s, PT2H45M30S",
            "1m0.5s, PT1M0.5S",
            "250us, PT0.00025S",
            "250µs, PT0.00025S",
            "10ns, PT0.00000001S"})
    void parsesGoDurations(String text, Duration expected) {
        assertThat(Times.goDuration(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"10", "m", "1x", "1h 30m", " 1h", "1h30", "-5m", "1d", "h1", "1.h", "PT5M"})
    void rejectsAnythingElse(String text) {
        assertThatThrownBy(() -> Times.goDuration(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timestampsAreRfc3339ToTheSecondAndRoundTrip() {
        Instant t = Instant.parse("2025-03-01T10:00:00.987654Z");

        assertThat(Times.format(t)).isEqualTo("2025-03-01T10:00:00Z");
        assertThat(Times.parse(Times.format(t))).isEqualTo(Instant.parse("2025-03-01T10:00:00Z"));
    }
}
