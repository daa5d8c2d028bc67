package io.kratosupgrade.operator.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** RFC 3339 timestamps in status, and Go-style durations in spec. */
public final class Times {

    private static final Pattern GO_DURATION_PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)");

    private Times() {
    }

    public static String format(Instant instant) {
        return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** With milliseconds: for the moments a duration in status is measured between (a write freeze lasts seconds). */
    public static String formatMillis(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS).toString();
    }

    public static Instant parse(String text) {
        return Instant.parse(text);
    }

    /** Parses Go durations such as {@code 90s}, {@code 15m}, {@code 1h30m}, {@code 1.5h} (the CRD validates the syntax). */
    public static Duration goDuration(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        Matcher m = GO_DURATION_PART.matcher(text);
        int end = 0;
        double nanos = 0;
        while (m.find()) {
            if (m.start() != end) throw new IllegalArgumentException("invalid duration '" + text + "'");
            double value = Double.parseDouble(m.group(1));
            nanos += value * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            end = m.end();
        }
        if (end != text.length()) throw new IllegalArgumentException("invalid duration '" + text + "'");
        return Duration.ofNanos((long) nanos);
    }
}
