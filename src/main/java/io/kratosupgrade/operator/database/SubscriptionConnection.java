package io.kratosupgrade.operator.database;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The connection string a PostgreSQL subscription uses to reach its publisher (CREATE SUBSCRIPTION ... CONNECTION):
 * libpq keyword/value pairs. The target's server opens this connection, not a pod: parameters naming files (sslrootcert,
 * sslcert, sslkey) would name files on that server, so they are left out and sslmode stays as the DSN says.
 */
public final class SubscriptionConnection {

    /** DSN parameters that mean the same on the target's server. */
    private static final Set<String> PASSED_ON = Set.of("sslmode", "connect_timeout", "options", "application_name",
            "target_session_attrs");

    private SubscriptionConnection() {
    }

    public static String conninfo(DatabaseTarget publisher) {
        Map<String, String> pairs = new LinkedHashMap<>();
        pairs.put("host", publisher.host());
        if (publisher.port() != null && !publisher.port().isEmpty()) pairs.put("port", publisher.port());
        pairs.put("dbname", publisher.database());
        if (publisher.user() != null && !publisher.user().isEmpty()) pairs.put("user", publisher.user());
        if (publisher.password() != null && !publisher.password().isEmpty()) pairs.put("password", publisher.password());
        publisher.parameters().forEach((key, value) -> {
            if (PASSED_ON.contains(key)) pairs.put(key, value);
        });
        StringBuilder conninfo = new StringBuilder();
        pairs.forEach((key, value) -> {
            if (conninfo.length() > 0) conninfo.append(' ');
            conninfo.append(key).append("='").append(value.replace("\\", "\\\\").replace("'", "\\'")).append('\'');
        });
        return conninfo.toString();
    }
}
