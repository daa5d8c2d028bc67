package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The database Jobs of a BlueGreen run. They reach both databases the way the backup Job reaches one (the Kratos
 * pod's mounts and security context, the database tools image); a short-lived Secret holds the old database's
 * libpq variables (PG*) and the target's, prefixed TARGET_. Each reports on its termination message.
 * <ul>
 * <li>{@link Operation#CHECK_TARGET} (preflight) and {@link Operation#FREEZE}: the target must be reachable, empty, and on a server at least as new as the old
 *     one; then, in one transaction on the old database, every table of its schema is locked in SHARE mode (which
 *     waits for the writes in flight to commit) and the user's INSERT, UPDATE, DELETE and TRUNCATE are revoked. If the
 *     user could still write afterwards (privileges granted by another role, or to PUBLIC), the transaction is rolled
 *     back and the Job fails: nothing was frozen. The check alone changes nothing.</li>
 * <li>{@link Operation#COPY}: the dump restored into the target in one transaction, which first checks that the
 *     target is still empty and last compares the core tables' row counts with the dump's snapshot.</li>
 * <li>{@link Operation#CLEANUP}: the old user's write privileges back (THAW), the target emptied (EMPTY_TARGET), each
 *     when asked.</li>
 * </ul>
 */
public final class BlueGreenJobBuilder {

    public enum Operation {
        CHECK_TARGET("check-target"), FREEZE("freeze"), COPY("copy"), CLEANUP("cleanup");

        private final String step;

        Operation(String step) {
            this.step = step;
        }

        public String step() {
            return step;
        }
    }

    /**
     * @param expectedCountsJson COPY: the dump's row counts
     * @param thaw               CLEANUP: give the old user its write privileges back
     * @param emptyTarget        CLEANUP: drop what the target's schema holds
     */
    public record Input(KratosUpgrade upgrade, int run, Operation operation, String jobName, String credentialsSecret, String image,
                        Duration timeout, PodSpec kratosPod, Container kratosContainer, String pvc, String file, String sha256,
                        String expectedCountsJson, List<String> coreTables, boolean thaw, boolean emptyTarget) {

        /** COPY: the dump to restore and the counts it must hold. */
        public Input withDump(String pvc, String file, String sha256, String expectedCountsJson) {
            return new Input(upgrade, run, operation, jobName, credentialsSecret, image, timeout, kratosPod, kratosContainer, pvc, file,
                    sha256, expectedCountsJson, coreTables, thaw, emptyTarget);
        }

        /** CLEANUP: what it does. */
        public Input withCleanup(boolean thaw, boolean emptyTarget) {
            return new Input(upgrade, run, operation, jobName, credentialsSecret, image, timeout, kratosPod, kratosContainer, pvc, file,
                    sha256, expectedCountsJson, coreTables, thaw, emptyTarget);
        }
    }

    public static Job build(Input in) {
        List<Volume> volumes = new ArrayList<>();
        List<VolumeMount> mounts = new ArrayList<>();
        // The Kratos container's mounts come along so DSN parameters such as sslrootcert=/etc/... resolve.
        if (in.kratosPod().getVolumes() != null) volumes.addAll(in.kratosPod().getVolumes());
        if (in.kratosContainer().getVolumeMounts() != null) mounts.addAll(in.kratosContainer().getVolumeMounts());
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("TARGET_OBJECTS_SQL", TARGET_OBJECTS_SQL, null));
        String script;
        switch (in.operation()) {
            case CHECK_TARGET -> script = CHECK_TARGET_SCRIPT;
            case FREEZE -> {
                env.add(new EnvVar("FREEZE_SQL", FREEZE_SQL, null));
                script = FREEZE_SCRIPT;
            }
            case COPY -> {
                volumes.add(ThrowAwayDatabase.backupVolume(in.pvc()));
                mounts.add(ThrowAwayDatabase.backupMount());
                volumes.add(ThrowAwayDatabase.scratchVolume());
                mounts.add(ThrowAwayDatabase.scratchMount());
                env.add(new EnvVar("BACKUP_FILE", in.file(), null));
                env.add(new EnvVar("EXPECTED_SHA256", in.sha256() == null ? "" : in.sha256(), null));
                env.add(new EnvVar("EXPECTED_COUNTS", in.expectedCountsJson(), null));
                env.add(new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null));
                env.add(new EnvVar("CHECK_SQL", DatabaseRestoreJobBuilder.CHECK_SQL, null));
                script = COPY_SCRIPT;
            }
            case CLEANUP -> {
                env.add(new EnvVar("THAW", Boolean.toString(in.thaw()), null));
                env.add(new EnvVar("EMPTY_TARGET", Boolean.toString(in.emptyTarget()), null));
                env.add(new EnvVar("THAW_SQL", THAW_SQL, null));
                env.add(new EnvVar("DROP_SQL", DatabaseRestoreJobBuilder.DROP_SQL, null));
                script = CLEANUP_SCRIPT;
            }
            default -> throw new IllegalArgumentException(in.operation().toString());
        }
        Container container = new ContainerBuilder()
                .withName(in.operation().step())
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", script)
                .withEnv(env)
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                .withVolumeMounts(mounts)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), in.operation().step(), in.jobName(), in.timeout(),
                OperatorJobs.podLike(in.kratosPod()).withContainers(container).withVolumes(volumes).build());
    }

    // Dollar quotes are named ($do$): Kubernetes turns "$$" in an env value into "$".

    /** Relations of the connection's schema: an empty target has none. */
    static final String TARGET_OBJECTS_SQL = "select count(*) from pg_class c where c.relnamespace = current_schema()::regnamespace "
            + "and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')";

    static final String FREEZE_SQL = String.join("\n",
            "set lock_timeout = '30s';",
            // REVOKE warns per column for what it could not revoke; the check below says it once, as the error.
            "set client_min_messages = error;",
            "begin;",
            "do $do$",
            "declare r record; n int;",
            "begin",
            // SHARE conflicts with the ROW EXCLUSIVE lock every writer holds until it commits: this waits for them.
            "  for r in select c.oid::regclass::text as name from pg_class c",
            "      where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') loop",
            "    execute format('lock table %s in share mode', r.name);",
            "  end loop;",
            "  execute format('revoke insert, update, delete, truncate on all tables in schema %I from %I', current_schema(), current_user);",
            "  select count(*) into n from pg_class c where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')",
            "      and (has_table_privilege(c.oid, 'INSERT') or has_table_privilege(c.oid, 'UPDATE') or has_table_privilege(c.oid, 'DELETE'));",
            "  if n > 0 then",
            "    raise exception 'FREEZE_REFUSED: database user % can still write % tables of schema % after revoking its own privileges "
                    + "(they come from another role or from PUBLIC); nothing was frozen', current_user, n, current_schema();",
            "  end if;",
            "end $do$;",
            "commit;");

    static final String THAW_SQL = "do $do$ begin execute format('grant insert, update, delete, truncate on all tables in schema %I to %I', "
            + "current_schema(), current_user); end $do$;";

    /** Runs a command against the target database: the TARGET_PG* variables in place of PG*. */
    private static final String ON_TARGET = String.join("\n",
            "on_target() (",
            "  for n in $(env | sed -n 's/^\\(PG[A-Z]*\\)=.*/\\1/p'); do unset \"$n\"; done",
            "  for n in $(env | sed -n 's/^TARGET_\\(PG[A-Z]*\\)=.*/\\1/p'); do export \"$n=$(printenv \"TARGET_$n\")\"; done",
            "  \"$@\"",
            ")");

    /** Reachable, as new as the old server, empty: what preflight checks and the freeze checks again first. */
    private static final String CHECK_TARGET = String.join("\n",
            "source_major=$(psql -X -At -v ON_ERROR_STOP=1 -c \"select current_setting('server_version_num')::int / 10000\") "
                    + "|| { echo 'the old database cannot be reached' >&2; exit 1; }",
            "target=$(on_target psql -X -At -v ON_ERROR_STOP=1 -c \"select current_setting('server_version_num')::int / 10000 "
                    + "|| ' ' || ($TARGET_OBJECTS_SQL)\") || { echo 'TARGET_UNREACHABLE: the target database cannot be reached "
                    + "with spec.blueGreen.targetDatabase' >&2; exit 1; }",
            "target_major=${target% *}; target_objects=${target#* }",
            "if [ \"$target_major\" -lt \"$source_major\" ]; then",
            "  echo \"TARGET_TOO_OLD: the target server runs PostgreSQL $target_major, older than the old database's $source_major "
                    + "(pg_restore may fail on it)\" >&2; exit 1",
            "fi",
            "if [ \"$target_objects\" -ne 0 ]; then",
            "  echo \"TARGET_NOT_EMPTY: the target database's schema holds $target_objects tables, views or sequences; "
                    + "blue/green needs an empty one\" >&2; exit 1",
            "fi");

    static final String CHECK_TARGET_SCRIPT = String.join("\n", "set -eu", ON_TARGET, CHECK_TARGET,
            "printf '{\"sourceMajor\":%s,\"targetMajor\":%s}' \"$source_major\" \"$target_major\" > /dev/termination-log",
            "cat /dev/termination-log");

    static final String FREEZE_SCRIPT = String.join("\n", "set -eu", ON_TARGET, CHECK_TARGET,
            "started=$(date +%s%3N)",
            "printf '%s\\n' \"$FREEZE_SQL\" | psql -X -q -v ON_ERROR_STOP=1",
            "frozen=$(date +%s%3N)",
            "printf '{\"frozenAtMillis\":%s,\"lockMillis\":%s,\"sourceMajor\":%s,\"targetMajor\":%s}' \"$frozen\" \"$(( frozen - started ))\" "
                    + "\"$source_major\" \"$target_major\" > /dev/termination-log",
            "cat /dev/termination-log");

    static final String COPY_SCRIPT = String.join("\n", "set -eu", ON_TARGET, String.join("\n", ThrowAwayDatabase.checkDumpFile()),
            "export TARGET_PGOPTIONS=\"${TARGET_PGOPTIONS:-} -c lock_timeout=60s\"",
            "started=$(date +%s%3N)",
            "{",
            "  printf '%s\\n' 'begin;'",
            "  printf \"select set_config('kratos_upgrade.expected', '%s', true);\\n\" \"$EXPECTED_COUNTS\"",
            "  printf \"select set_config('kratos_upgrade.schema', current_schema(), true);\\n\"",
            "  printf \"do \\$do\\$ begin if (%s) > 0 then raise exception 'TARGET_NOT_EMPTY: the target database is no longer empty'; "
                    + "end if; end \\$do\\$;\\n\" \"$TARGET_OBJECTS_SQL\"",
            "  pg_restore --no-owner --no-privileges --file=- \"$file\"",
            "  printf '%s\\n' \"$CHECK_SQL\"",
            "  printf \"select 'COUNTS ' || (%s);\\n\" \"${COUNTS_SQL%;}\"",
            "  printf '%s\\n' 'commit;'",
            "} | on_target psql -X -q -At -v ON_ERROR_STOP=1 > " + ThrowAwayDatabase.SCRATCH + "/psql.out",
            "[ -n \"$(sed -n 's/^COUNTS //p' " + ThrowAwayDatabase.SCRATCH + "/psql.out)\" ] "
                    + "|| { echo 'the copy did not complete; its transaction was rolled back and the target is as it was' >&2; exit 1; }",
            "counts=$(on_target psql -X -At -v ON_ERROR_STOP=1 -c \"$COUNTS_SQL\")",
            "printf '{\"restoreMillis\":%s,\"counts\":%s}' \"$(( $(date +%s%3N) - started ))\" \"$counts\" > /dev/termination-log",
            "cat /dev/termination-log");

    static final String CLEANUP_SCRIPT = String.join("\n", "set -eu", ON_TARGET,
            "thawed=false; emptied=false",
            "if [ \"$THAW\" = true ]; then",
            "  psql -X -q -v ON_ERROR_STOP=1 -c \"$THAW_SQL\"",
            "  thawed=true",
            "fi",
            "thawed_at=$(date +%s%3N)",
            "if [ \"$EMPTY_TARGET\" = true ]; then",
            "  { printf '%s\\n' 'begin;' \"$DROP_SQL\" 'commit;'; } | on_target psql -X -q -v ON_ERROR_STOP=1 > /dev/null",
            "  left=$(on_target psql -X -At -v ON_ERROR_STOP=1 -c \"$TARGET_OBJECTS_SQL\")",
            "  [ \"$left\" -eq 0 ] || { echo \"the target database still holds $left relations after emptying it\" >&2; exit 1; }",
            "  emptied=true",
            "fi",
            "printf '{\"thawed\":%s,\"thawedAtMillis\":%s,\"emptied\":%s}' \"$thawed\" \"$thawed_at\" \"$emptied\" > /dev/termination-log",
            "cat /dev/termination-log");

    private BlueGreenJobBuilder() {
    }
}
