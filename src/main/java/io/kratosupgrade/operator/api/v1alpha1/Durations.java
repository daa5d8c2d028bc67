package io.kratosupgrade.operator.api.v1alpha1;

/** Validation shared by every duration field: Go duration syntax, strictly positive. */
final class Durations {
    static final String PATTERN = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";
    static final String POSITIVE_RULE = "duration(self) > duration('0s')";
    static final String POSITIVE_MESSAGE = "must be a positive duration such as 90s, 15m or 1h30m";

    private Durations() {
    }
}
