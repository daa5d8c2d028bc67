package io.kratosupgrade.operator.knowledge;

import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One release as the knowledge base knows it.
 *
 * @param migrations every migration version of the release, with the databases that apply it (empty: all)
 */
public record Release(KratosVersion version, String date, List<String> migrateArgs, String migrationsFrom,
                      Map<String, Set<String>> migrations) {

    /** The versions {@code migrate} leaves in schema_migration on this kind of database ("postgres", "mysql"...). */
    public SortedSet<String> migrations(String dialect) {
        SortedSet<String> versions = new TreeSet<>();
        migrations.forEach((v, dialects) -> {
            if (dialects.isEmpty() || dialects.contains(dialect)) versions.add(v);
        });
        return versions;
    }

    public String newestMigration(String dialect) {
        SortedSet<String> versions = migrations(dialect);
        return versions.isEmpty() ? null : versions.last();
    }
}
