package io.kratosupgrade.operator.database;

import java.util.Locale;
import java.util.Optional;

/** The databases Kratos can use, and whether the operator can dump them. */
public enum DatabaseKind {
    POSTGRES("postgres", true, ".pgdump"),
    MYSQL("mysql", true, ".sql"),
    COCKROACH("cockroach", false, null),
    SQLITE("sqlite", false, null),
    MEMORY("memory", false, null);

    private final String id;
    private final boolean dumpable;
    private final String fileExtension;

    DatabaseKind(String id, boolean dumpable, String fileExtension) {
        this.id = id;
        this.dumpable = dumpable;
        this.fileExtension = fileExtension;
    }

    public String id() { return id; }
    public boolean dumpable() { return dumpable; }
    public String fileExtension() { return fileExtension; }

    /** The kind a DSN scheme names, with the aliases Kratos accepts (driver/registry_default.go CanHandle). */
    public static Optional<DatabaseKind> fromScheme(String scheme) {
        return switch (scheme.toLowerCase(Locale.ROOT)) {
            case "postgres", "postgresql" -> Optional.of(POSTGRES);
            case "mysql" -> Optional.of(MYSQL);
            case "cockroach", "cockroachdb", "crdb" -> Optional.of(COCKROACH);
            case "sqlite", "sqlite3" -> Optional.of(SQLITE);
            case "memory" -> Optional.of(MEMORY);
            default -> Optional.empty();
        };
    }
}
