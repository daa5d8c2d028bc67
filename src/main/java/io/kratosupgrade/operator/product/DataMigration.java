package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.List;
import java.util.Optional;

/**
 * A step some upgrades need after the schema migration because what changed cannot be moved in SQL: Keto v0.6 to
 * v0.7 rewrote relation tuples from one table per namespace into one table, with its own binary. The engine runs it
 * only under BlueGreen, on the target database with the old side's writes frozen (Ory's guide: a new server beside the
 * old, the old user read-only), and re-runs it until it succeeds, unless its output names records it cannot move: a
 * re-run never fixes those.
 */
public interface DataMigration {

    /** For plans and messages: what it is, with its command. */
    String description();

    /** The target release's command line, without config flags (the Job adds the server's). */
    List<String> args();

    /** Why {@code target} cannot run it (the command is gone from that release), if it cannot. */
    Optional<String> unavailableIn(KratosVersion target);

    /**
     * A read-only psql script for PostgreSQL that prints one JSON object, {@code {"count":N,"examples":[...]}}: the
     * records the data migration will not be able to move, found in preflight before anything is frozen. Empty when
     * the product has no such check.
     */
    default Optional<String> precheck() {
        return Optional.empty();
    }

    /** The records a failed attempt's output (the end of its log) names as impossible to move, if any. */
    Optional<BrokenRecords> brokenRecords(String failureOutput);

    /**
     * Records the data migration refused to move.
     *
     * @param examples how the product writes each record, in the order it reported them
     * @param complete false when the output was cut (only the end of a log is kept) and the Job's log lists more
     */
    record BrokenRecords(List<String> examples, boolean complete) {
        public BrokenRecords {
            examples = List.copyOf(examples);
        }
    }
}
