package io.kratosupgrade.operator.database;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a parsed DSN into the environment of the dump tool. Connection details travel as the tools'
 * own variables (libpq's PG*, and DB_* plus MYSQL_PWD for mysqldump), so no URL escaping is involved and
 * the Kratos-only pool parameters (max_conns, max_idle_conns, max_conn_lifetime, max_conn_idle_time, ...)
 * never reach the tool: only parameters the tool understands are mapped.
 */
public final class DumpToolEnvironment {

    /** DSN query parameters with a libpq environment variable. Everything else is Kratos/pgx-only. */
    private static final Map<String, String> LIBPQ_PARAMS = Map.ofEntries(
            Map.entry("sslmode", "PGSSLMODE"),
            Map.entry("sslrootcert", "PGSSLROOTCERT"),
            Map.entry("sslcert", "PGSSLCERT"),
            Map.entry("sslkey", "PGSSLKEY"),
            Map.entry("sslpassword", "PGSSLPASSWORD"),
            Map.entry("connect_timeout", "PGCONNECT_TIMEOUT"),
            Map.entry("application_name", "PGAPPNAME"),
            Map.entry("options", "PGOPTIONS"),
            Map.entry("target_session_attrs", "PGTARGETSESSIONATTRS"));

    private DumpToolEnvironment() {
    }

    public static Map<String, String> of(DatabaseTarget target) {
        Map<String, String> env = new LinkedHashMap<>();
        switch (target.kind()) {
            case POSTGRES -> {
                env.put("PGHOST", target.host());
                putIfPresent(env, "PGPORT", target.port());
                putIfPresent(env, "PGUSER", target.user());
                putIfPresent(env, "PGPASSWORD", target.password());
                env.put("PGDATABASE", target.database());
                target.parameters().forEach((key, value) -> {
                    String var = LIBPQ_PARAMS.get(key);
                    if (var != null) {
                        env.put(var, value);
                    } else if (key.equals("search_path")) {
                        env.put("PGOPTIONS", "-c search_path=" + value);
                    }
                });
            }
            case MYSQL -> {
                env.put("DB_HOST", target.host());
                env.put("DB_PORT", target.port() == null ? "3306" : target.port());
                putIfPresent(env, "DB_USER", target.user());
                putIfPresent(env, "MYSQL_PWD", target.password());
                env.put("DB_NAME", target.database());
            }
            default -> throw new IllegalArgumentException("cannot dump a " + target.kind().id() + " database");
        }
        return env;
    }

    private static void putIfPresent(Map<String, String> env, String key, String value) {
        if (value != null && !value.isEmpty()) {
            env.put(key, value);
        }
    }
}
