package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.database.DatabaseKind;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * The read-only look at the database before anything happens: which migrations are applied, compared with
 * the running and the target release's lists, and how many rows {@code networks} has. The lists travel as
 * environment variables; on PostgreSQL psql compares them in SQL, on MySQL the applied versions are read and
 * compared with sort and comm (so nothing depends on the server's JSON or table functions, which differ
 * between MySQL and MariaDB). Either way the Job reports the same small JSON object as its termination
 * message, well under the 4096 bytes Kubernetes keeps.
 */
public final class InspectionJobBuilder {

    public static final String STEP = "inspect";

    private InspectionJobBuilder() {
    }

    /**
     * @param running the migration versions of the running release (empty when it is not known)
     * @param target  the migration versions of the target release (empty when it is not known)
     * @param dataMigrationCheck PostgreSQL: the product's read-only query for records its data migration will not move
     *                           ({@link io.kratosupgrade.operator.product.DataMigration#precheck}), or null
     */
    public record Input(KratosUpgrade upgrade, int run, String jobName, String credentialsSecret, DatabaseKind database,
                        String image, Duration timeout, PodSpec kratosPod, Container kratosContainer, Collection<String> running,
                        Collection<String> target, String dataMigrationCheck) {
    }

    public static Job build(Input in) {
        Container psql = new ContainerBuilder()
                .withName(STEP)
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", script(in.database(), TERMINATION_LOG))
                .withEnv(env(in))
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                // The Kratos container's mounts come along so DSN parameters such as sslrootcert=/etc/... resolve.
                .withVolumeMounts(in.kratosContainer().getVolumeMounts())
                // The report is the file; a failure (psql's own error, say a refused password) is the log's end.
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), STEP, in.jobName(), in.timeout(), OperatorJobs.podLike(in.kratosPod())
                .withContainers(psql)
                .withVolumes(in.kratosPod().getVolumes())
                .build());
    }

    /** Whether the inspection knows this kind of database (it needs its client in the tools image). */
    public static boolean inspects(DatabaseKind kind) {
        return kind == DatabaseKind.POSTGRES || kind == DatabaseKind.MYSQL;
    }

    /**
     * The inspection alone, writing its JSON report to {@code report} and printing it; it needs the env of
     * {@link #migrationLists} and the connection's. The backup Job runs it too ({@link BackupJobBuilder}).
     */
    public static String script(DatabaseKind kind, String report) {
        return "report=" + report + "\n" + switch (kind) {
            case POSTGRES -> POSTGRES_SCRIPT;
            case MYSQL -> MYSQL_SCRIPT;
            default -> throw new IllegalArgumentException("cannot inspect a " + kind.id() + " database");
        };
    }

    private static List<EnvVar> env(Input in) {
        List<EnvVar> env = new java.util.ArrayList<>(migrationLists(in.running(), in.target()));
        if (in.dataMigrationCheck() != null && in.database() == DatabaseKind.POSTGRES) {
            env.add(new EnvVar("DATA_MIGRATION_CHECK", in.dataMigrationCheck(), null));
        }
        return env;
    }

    /** The migration lists the script compares with, as environment variables. */
    public static List<EnvVar> migrationLists(Collection<String> running, Collection<String> target) {
        return List.of(new EnvVar("RUNNING_MIGRATIONS", String.join(",", running), null),
                new EnvVar("TARGET_MIGRATIONS", String.join(",", target), null));
    }

    private static final String TERMINATION_LOG = "/dev/termination-log";

    /** POSIX sh and SQL only; the connection comes from libpq's PG* variables, nothing is written. */
    private static final String POSTGRES_SCRIPT = String.join("\n",
            "set -eu",
            "q() { psql -X -At -v ON_ERROR_STOP=1 \"$@\"; }",
            // Assignments, not tests: a failing query inside [ ] would not stop the script (set -e), and an
            // unreachable database would pass for an empty one.
            // One round trip for what exists, and the networks rows when the table does (query_to_xml runs the
            // count only then); two psql starts in all, each about 40 ms on the local cluster.
            "found=$(q -F ' ' -c \"select to_regclass('schema_migration') is not null, case when to_regclass('networks') is null "
                    + "then 'null' else (xpath('/row/c/text()', query_to_xml('select count(*) as c from networks', false, true, '')))[1]::text end\")",
            "case \"$found\" in 't '*|'f '*) ;; *) echo \"unexpected answer from the database: $found\" >&2; exit 1;; esac",
            "has_schema=${found%% *}",
            "networks=${found#* }",
            "if [ \"$has_schema\" != t ]; then",
            "  printf '{\"schemaMigration\":false,\"networks\":%s}' \"$networks\" > \"$report\"",
            "else",
            "  q -v running=\"$RUNNING_MIGRATIONS\" -v target=\"$TARGET_MIGRATIONS\" -v networks=\"$networks\" > \"$report\" <<'SQL'",
            "with applied as (select version from schema_migration),",
            "     running as (select unnest(string_to_array(:'running', ',')) as version),",
            "     target as (select unnest(string_to_array(:'target', ',')) as version),",
            "     missing_running as (select version from running except select version from applied),",
            "     unknown_running as (select version from applied except select version from running),",
            "     unknown_target as (select version from applied except select version from target),",
            "     pending as (select version from target except select version from applied)",
            "select json_build_object(",
            "  'schemaMigration', true,",
            "  'applied', (select count(*) from applied),",
            "  'newest', (select max(version) from applied),",
            "  'pendingForTarget', (select count(*) from pending),",
            "  'missingForRunning', (select count(*) from missing_running),",
            "  'unknownToRunning', (select count(*) from unknown_running),",
            "  'unknownToTarget', (select count(*) from unknown_target),",
            "  'aheadExamples', (select coalesce(json_agg(version), '[]') from",
            "      (select version from unknown_target order by version desc limit 3) e),",
            "  'missingExamples', (select coalesce(json_agg(version), '[]') from",
            "      (select version from missing_running order by version limit 3) m),",
            "  'networks', :networks);",
            "SQL",
            "fi",
            // The product's check for records its data migration will not move (Keto v0.6 -> v0.7), added to the report.
            "if [ -n \"${DATA_MIGRATION_CHECK:-}\" ]; then",
            "  check=$(printf '%s\\n' \"$DATA_MIGRATION_CHECK\" | q)",
            "  body=$(cat \"$report\")",
            "  printf '%s,\"dataMigration\":%s}' \"${body%\\}}\" \"$check\" > \"$report\"",
            "fi",
            "cat \"$report\"");

    /**
     * POSIX sh, coreutils and the mysql client; the connection comes from the DB_* variables and MYSQL_PWD (as
     * for mysqldump), nothing is written to the database. Versions are 20-digit strings, so sorting them as text
     * orders them as numbers.
     */
    private static final String MYSQL_SCRIPT = String.join("\n",
            "set -eu",
            "export LC_ALL=C",
            "q() { mysql --host=\"$DB_HOST\" --port=\"$DB_PORT\" ${DB_USER:+--user=\"$DB_USER\"} --batch --skip-column-names \"$DB_NAME\" -e \"$1\"; }",
            "q 'select 1' > /dev/null",
            "table() { q \"select count(*) from information_schema.tables where table_schema = database() and table_name = '$1'\"; }",
            "has_networks=$(table networks)",
            "has_schema=$(table schema_migration)",
            "networks=null",
            "if [ \"$has_networks\" = 1 ]; then networks=$(q 'select count(*) from networks'); fi",
            "if [ \"$has_schema\" != 1 ]; then",
            "  printf '{\"schemaMigration\":false,\"networks\":%s}' \"$networks\" > \"$report\"",
            "else",
            "  w=$(mktemp -d)",
            // Not piped into sort: a pipeline's status is its last command's, and set -e would miss a failed query.
            "  q 'select version from schema_migration' > \"$w/rows\"",
            "  sort -u \"$w/rows\" > \"$w/applied\"",
            "  list() { printf '%s\\n' \"$1\" | tr ',' '\\n' | sed '/^$/d' | sort -u; }",
            "  list \"$RUNNING_MIGRATIONS\" > \"$w/running\"",
            "  list \"$TARGET_MIGRATIONS\" > \"$w/target\"",
            "  comm -13 \"$w/applied\" \"$w/running\" > \"$w/missing_running\"",
            "  comm -23 \"$w/applied\" \"$w/running\" > \"$w/unknown_running\"",
            "  comm -23 \"$w/applied\" \"$w/target\" > \"$w/unknown_target\"",
            "  comm -13 \"$w/applied\" \"$w/target\" > \"$w/pending\"",
            "  n() { wc -l < \"$w/$1\" | tr -d ' '; }",
            "  json() { sed 's/.*/\"&\"/' | paste -sd, -; }",
            "  newest=$(tail -n 1 \"$w/applied\")",
            "  if [ -n \"$newest\" ]; then newest=\"\\\"$newest\\\"\"; else newest=null; fi",
            "  ahead=$(sort -r \"$w/unknown_target\" | head -n 3 | json)",
            "  missing=$(head -n 3 \"$w/missing_running\" | json)",
            "  printf '{\"schemaMigration\":true,\"applied\":%s,\"newest\":%s,\"pendingForTarget\":%s,\"missingForRunning\":%s,\"unknownToRunning\":%s,\"unknownToTarget\":%s,\"aheadExamples\":[%s],\"missingExamples\":[%s],\"networks\":%s}' \\",
            "    \"$(n applied)\" \"$newest\" \"$(n pending)\" \"$(n missing_running)\" \"$(n unknown_running)\" \"$(n unknown_target)\" \\",
            "    \"$ahead\" \"$missing\" \"$networks\" > \"$report\"",
            "fi",
            "cat \"$report\"");
}
