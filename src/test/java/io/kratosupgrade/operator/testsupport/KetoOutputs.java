package io.kratosupgrade.operator.testsupport;

/**
 * What {@code keto namespace migrate legacy --yes} of Keto v0.7.0-alpha.1 to v0.8.0-alpha.2 prints when it fails, as
 * its sources write it (cmd/namespace/migrate_legacy.go, internal/persistence/sql/migrations/single_table.go): no
 * binary of those releases can be built here (the Go module proxy refuses them), so the tests play it.
 */
public final class KetoOutputs {

    private KetoOutputs() {
    }

    /** A failure a re-run can fix: the connection went away in the middle (the transaction rolled back). */
    public static final String CONNECTION_LOST = "time=2026-11-29T10:00:03Z level=info msg=\"Connecting to the database\"\n"
            + "Encountered error while migrating: driver: bad connection\nAborting.\n";

    /**
     * Two tuples whose subject does not parse as a subject set (one '#', and one ':' before it): Keto committed the
     * others and kept the legacy table.
     */
    public static final String BROKEN_TUPLES = "time=2026-11-29T10:00:03Z level=warning msg=\"Skipping relation tuple, it seems to be in a "
            + "broken state. Please recreate it manually.\"\n"
            + "Encountered error while migrating: found non-deserializable relationtuples: [{\"object\":\"file-2\",\"relation\":"
            + "\"edit\",\"subject\":\"readme#owner\",\"commit_time\":\"2021-05-01T10:00:00Z\"},{\"object\":\"g-1\",\"relation\":\"member\","
            + "\"subject\":\"a:b:c#x\",\"commit_time\":\"2021-05-02T10:00:00Z\"}]\nAborting.\n"
            + "Please see https://github.com/ory/keto/issues/661 for why this happens and how to resolve this.\n";

    /** Keto exits -1 on every error: 255. */
    public static final int EXIT_CODE = 255;
}
