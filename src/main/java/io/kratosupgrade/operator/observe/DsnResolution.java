package io.kratosupgrade.operator.observe;

/**
 * Where the DSN was found (a description safe to show) and its value (never shown). Only {@link #source()}
 * and {@link #problem()} may reach status, events or logs.
 */
public final class DsnResolution {

    public enum Result { FOUND, NOT_FOUND, UNREADABLE }

    private final Result result;
    private final String value;
    private final String source;
    private final String problem;

    private DsnResolution(Result result, String value, String source, String problem) {
        this.result = result;
        this.value = value;
        this.source = source;
        this.problem = problem;
    }

    static DsnResolution found(String value, String source) {
        return new DsnResolution(Result.FOUND, value, source, null);
    }

    static DsnResolution notFound(String problem) {
        return new DsnResolution(Result.NOT_FOUND, null, null, problem);
    }

    static DsnResolution unreadable(String problem) {
        return new DsnResolution(Result.UNREADABLE, null, null, problem);
    }

    public Result result() { return result; }
    public String value() { return value; }
    public String source() { return source; }
    public String problem() { return problem; }

    @Override
    public String toString() {
        return "DsnResolution[" + result + (source == null ? "" : " from " + source) + "]";
    }
}
