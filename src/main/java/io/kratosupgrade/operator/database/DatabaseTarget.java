package io.kratosupgrade.operator.database;

import java.util.Map;

/**
 * A parsed DSN: where the database is and how to log in. Holds a password, so it is never
 * printed: {@link #toString()} leaves the credentials out.
 */
public record DatabaseTarget(DatabaseKind kind, String host, String port, String user, String password,
                             String database, Map<String, String> parameters) {

    @Override
    public String toString() {
        return "DatabaseTarget[" + kind.id() + " at " + host + (port == null ? "" : ":" + port) + "/" + database + "]";
    }
}
