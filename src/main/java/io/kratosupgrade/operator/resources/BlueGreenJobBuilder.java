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
 * libpq variables (PG*) and the target's, prefixed TARGET_; with copy Replication also the publisher's (PUB_, the old
 * database as a user who may replicate), the subscriber's (SUB_, the target as a user who may subscribe) and the
 * subscription's connection string (PUB_CONNINFO). Each reports on its termination message.
 * <ul>
 * <li>{@link Operation#CHECK_TARGET} (preflight) and {@link Operation#FREEZE}: the target must be reachable, empty
 *     (unless it is the replica), and on a server at least as new as the old one; with replication, preflight also
 *     checks what replication needs (wal_level logical, the users' privileges, a free replication slot). Then, in one
 *     transaction on the old database, every table of its schema is locked in SHARE mode (which
 *     waits for the writes in flight to commit) and the user's INSERT, UPDATE, DELETE and TRUNCATE are revoked. If the
 *     user could still write afterwards (privileges granted by another role, or to PUBLIC), the transaction is rolled
 *     back and the Job fails: nothing was frozen. The check alone changes nothing.</li>
 * <li>{@link Operation#REHEARSE_COPY} (preflight, copy Dump): what the freeze will cover, measured without changing
 *     anything: the live old database dumped into the pod's scratch volume (pg_dump only reads, as the backup does), then
 *     restored into the target in one transaction that counts the core tables and is rolled back; the dump's and the
 *     restore's durations, the dump's size and the counts reported. The target is checked empty before and after.</li>
 * <li>{@link Operation#COPY}: the dump restored into the target in one transaction, which first checks that the
 *     target is still empty and last compares the core tables' row counts with the dump's snapshot.</li>
 * <li>{@link Operation#REPLICATE}: the schema copied into the target (owned by the target's user), a publication of
 *     every table with a replica identity on the old database, a logical replication slot created apart (a subscription
 *     creating its own slot on the same server waits for itself), the target subscribed; ends when every table's
 *     initial copy is done. The subscription keeps the target in sync afterwards.</li>
 * <li>{@link Operation#CATCH_UP} (after the freeze): waits until the subscription has applied the old server's WAL up
 *     to the freeze, detaches (subscription, slot, publication dropped), copies the tables without a replica identity
 *     and the sequences' values, and counts the core tables on both sides.</li>
 * <li>{@link Operation#CLEANUP}: the replication detached (DETACH), the old user's write privileges back (THAW), the
 *     target emptied (EMPTY_TARGET), each when asked.</li>
 * </ul>
 */
public final class BlueGreenJobBuilder {

    public enum Operation {
        CHECK_TARGET("check-target"), REHEARSE_COPY("rehearse-copy"), FREEZE("freeze"), COPY("copy"), REPLICATE("replicate"), CATCH_UP("catch-up"), CLEANUP("cleanup");

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
     * @param subscription       copy Replication: the name of the run's publication, slot and subscription; null otherwise
     * @param detach             CLEANUP: drop the subscription, the slot and the publication
     */
    public record Input(KratosUpgrade upgrade, int run, Operation operation, String jobName, String credentialsSecret, String image,
                        Duration timeout, PodSpec kratosPod, Container kratosContainer, String pvc, String file, String sha256,
                        String expectedCountsJson, List<String> coreTables, boolean thaw, boolean emptyTarget, String subscription,
                        boolean detach) {

        /** COPY: the dump to restore and the counts it must hold. */
        public Input withDump(String pvc, String file, String sha256, String expectedCountsJson) {
            return new Input(upgrade, run, operation, jobName, credentialsSecret, image, timeout, kratosPod, kratosContainer, pvc, file,
                    sha256, expectedCountsJson, coreTables, thaw, emptyTarget, subscription, detach);
        }

        /** CLEANUP: what it does. */
        public Input withCleanup(boolean thaw, boolean emptyTarget, boolean detach) {
            return new Input(upgrade, run, operation, jobName, credentialsSecret, image, timeout, kratosPod, kratosContainer, pvc, file,
                    sha256, expectedCountsJson, coreTables, thaw, emptyTarget, subscription, detach);
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
        boolean replication = in.subscription() != null;
        env.add(new EnvVar("REPLICATION", Boolean.toString(replication), null));
        // From REPLICATE on the target holds the replica: only the freeze of a replicated run finds it filled.
        env.add(new EnvVar("TARGET_MUST_BE_EMPTY", Boolean.toString(!(replication && in.operation() == Operation.FREEZE)), null));
        if (in.subscription() != null) {
            env.add(new EnvVar("SUBSCRIPTION", in.subscription(), null));
            env.add(new EnvVar("PUBLISHED_SQL", PUBLISHED_SQL, null));
            env.add(new EnvVar("UNPUBLISHED_SQL", UNPUBLISHED_SQL, null));
        }
        String script;
        switch (in.operation()) {
            case CHECK_TARGET -> {
                env.add(new EnvVar("REPLICATION_CHECK_SQL", REPLICATION_CHECK_SQL, null));
                script = CHECK_TARGET_SCRIPT;
            }
            case REHEARSE_COPY -> {
                volumes.add(ThrowAwayDatabase.scratchVolume());
                mounts.add(ThrowAwayDatabase.scratchMount());
                env.add(new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null));
                script = REHEARSE_COPY_SCRIPT;
            }
            case FREEZE -> {
                env.add(new EnvVar("FREEZE_SQL", FREEZE_SQL, null));
                script = FREEZE_SCRIPT;
            }
            case REPLICATE -> script = REPLICATE_SCRIPT;
            case CATCH_UP -> {
                env.add(new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null));
                script = CATCH_UP_SCRIPT;
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
                env.add(new EnvVar("DETACH", Boolean.toString(in.detach()), null));
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

    /** A table whose UPDATEs and DELETEs logical replication can carry: it has a primary key or a replica identity. */
    private static final String HAS_REPLICA_IDENTITY = "(c.relreplident = 'f' or exists (select 1 from pg_index i where i.indrelid = c.oid "
            + "and ((c.relreplident = 'd' and i.indisprimary) or (c.relreplident = 'i' and i.indisreplident))))";

    /** The tables of the schema the publication carries, comma-separated and qualified (empty when there is none). */
    static final String PUBLISHED_SQL = "select coalesce(string_agg(format('%I.%I', current_schema(), c.relname), ', ' order by c.relname), '') "
            + "from pg_class c where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and " + HAS_REPLICA_IDENTITY;

    /**
     * What replication does not carry, one qualified name a line: tables without a replica identity (Kratos's
     * schema_migration) and sequences. The cut-over copies them while writes are frozen.
     */
    static final String UNPUBLISHED_SQL = "select format('%I.%I', current_schema(), c.relname) from pg_class c "
            + "where c.relnamespace = current_schema()::regnamespace and (c.relkind = 'S' or (c.relkind in ('r', 'p') and not "
            + HAS_REPLICA_IDENTITY + ")) order by 1";

    /**
     * Preflight on the old database as its own user: may it publish (CREATE on the database, every table its own),
     * and how many tables replication would leave to the cut-over.
     */
    static final String REPLICATION_CHECK_SQL = "select has_database_privilege(current_database(), 'CREATE') || ' ' "
            + "|| (select count(*) from pg_class c where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') "
            + "and not pg_has_role(c.relowner, 'USAGE')) || ' ' || current_user";

    static final String THAW_SQL = "do $do$ begin execute format('grant insert, update, delete, truncate on all tables in schema %I to %I', "
            + "current_schema(), current_user); end $do$;";

    /**
     * Runs a command against another connection: {@code on PREFIX cmd} puts the PREFIX_PG* variables in place of PG*
     * (TARGET: the target database; PUB, SUB: the publisher's and the subscriber's connections).
     */
    private static final String ON_TARGET = String.join("\n",
            "on() (",
            "  prefix=$1; shift",
            "  for n in $(env | sed -n 's/^\\(PG[A-Z]*\\)=.*/\\1/p'); do unset \"$n\"; done",
            "  for n in $(env | sed -n \"s/^${prefix}_\\(PG[A-Z]*\\)=.*/\\1/p\"); do export \"$n=$(printenv \"${prefix}_$n\")\"; done",
            "  \"$@\"",
            ")",
            "on_target() { on TARGET \"$@\"; }");

    /**
     * Drops what replication created, each only if it exists: the subscription (disabled and detached from its slot
     * first, so dropping it needs no connection to the old server), the slot once its sender stopped, the publication.
     */
    private static final String DETACH = String.join("\n",
            "detach() {",
            "  subs=$(on SUB psql -X -At -v ON_ERROR_STOP=1 -c \"select count(*) from pg_subscription where subname = '$SUBSCRIPTION'\")",
            "  if [ \"$subs\" -gt 0 ]; then",
            "    on SUB psql -X -q -v ON_ERROR_STOP=1 -c \"alter subscription $SUBSCRIPTION disable\" "
                    + "-c \"alter subscription $SUBSCRIPTION set (slot_name = none)\" -c \"drop subscription $SUBSCRIPTION\"",
            "  fi",
            "  i=0",
            "  while [ \"$(on PUB psql -X -At -v ON_ERROR_STOP=1 -c \"select count(*) from pg_replication_slots where slot_name = "
                    + "'$SUBSCRIPTION' and active\")\" -gt 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done",
            "  on PUB psql -X -q -At -v ON_ERROR_STOP=1 -c \"select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                    + "where slot_name = '$SUBSCRIPTION'\" > /dev/null",
            "  psql -X -q -v ON_ERROR_STOP=1 -c \"drop publication if exists $SUBSCRIPTION\"",
            "}");

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
            "if [ \"$TARGET_MUST_BE_EMPTY\" = true ] && [ \"$target_objects\" -ne 0 ]; then",
            "  echo \"TARGET_NOT_EMPTY: the target database's schema holds $target_objects tables, views or sequences; "
                    + "blue/green needs an empty one\" >&2; exit 1",
            "fi");

    /** What logical replication needs, each refusal naming what to change (copy Replication only). */
    private static final String CHECK_REPLICATION = String.join("\n",
            "unpublished=0",
            "if [ \"$REPLICATION\" = true ]; then",
            "  unavailable() { echo \"REPLICATION_UNAVAILABLE: $*\" >&2; exit 1; }",
            "  wal=$(psql -X -At -v ON_ERROR_STOP=1 -c 'show wal_level')",
            "  [ \"$wal\" = logical ] || unavailable \"the old database's server runs wal_level=$wal; logical replication needs "
                    + "wal_level=logical (a server restart), or use blueGreen.copy Dump\"",
            "  own=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$REPLICATION_CHECK_SQL\")",
            "  set -- $own",
            "  [ \"$1\" = true ] || unavailable \"database user $3 may not create a publication (CREATE on the old database)\"",
            "  [ \"$2\" -eq 0 ] || unavailable \"database user $3 does not own $2 tables of its schema (a publication needs them)\"",
            "  [ -n \"$(psql -X -At -v ON_ERROR_STOP=1 -c \"$PUBLISHED_SQL\")\" ] "
                    + "|| unavailable 'no table of the old database has a primary key or a replica identity'",
            "  unpublished=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$UNPUBLISHED_SQL\" | wc -l)",
            "  pub=$(on PUB psql -X -At -v ON_ERROR_STOP=1 -c \"select (select rolreplication or rolsuper from pg_roles where rolname "
                    + "= current_user) || ' ' || (current_setting('max_replication_slots')::int - (select count(*) from "
                    + "pg_replication_slots)) || ' ' || current_user || ' ' || current_database()\") "
                    + "|| unavailable 'the old database cannot be reached with blueGreen.replication.publisherDatabase'",
            "  set -- $pub",
            "  [ \"$1\" = true ] || unavailable \"user $3 of blueGreen.replication.publisherDatabase (default: the old database's DSN) "
                    + "has neither the REPLICATION attribute nor superuser\"",
            "  [ \"$2\" -gt 0 ] || unavailable 'the old server has no free replication slot (max_replication_slots)'",
            "  [ \"$4\" = \"$(psql -X -At -v ON_ERROR_STOP=1 -c 'select current_database()')\" ] "
                    + "|| unavailable \"blueGreen.replication.publisherDatabase names database $4, not the old database\"",
            "  sub=$(on SUB psql -X -At -v ON_ERROR_STOP=1 -c \"select ((select rolsuper from pg_roles where rolname = current_user) or "
                    + "case when current_setting('server_version_num')::int >= 160000 then pg_has_role(current_user, "
                    + "'pg_create_subscription', 'MEMBER') and has_database_privilege(current_database(), 'CREATE') else false end) "
                    + "|| ' ' || current_user || ' ' || current_database()\") "
                    + "|| unavailable 'the target database cannot be reached with blueGreen.replication.subscriberDatabase'",
            "  set -- $sub",
            "  [ \"$1\" = true ] || unavailable \"user $2 of blueGreen.replication.subscriberDatabase (default: the target's DSN) may not "
                    + "create subscriptions (PostgreSQL 15 and older: a superuser; 16 and newer: a member of pg_create_subscription)\"",
            "  [ \"$3\" = \"$(on_target psql -X -At -v ON_ERROR_STOP=1 -c 'select current_database()')\" ] "
                    + "|| unavailable \"blueGreen.replication.subscriberDatabase names database $3, not the target database\"",
            "fi");

    static final String CHECK_TARGET_SCRIPT = String.join("\n", "set -eu", ON_TARGET, CHECK_TARGET, CHECK_REPLICATION,
            "printf '{\"sourceMajor\":%s,\"targetMajor\":%s,\"unpublished\":%s}' \"$source_major\" \"$target_major\" \"$unpublished\" "
                    + "> /dev/termination-log",
            "cat /dev/termination-log");

    static final String FREEZE_SCRIPT = String.join("\n", "set -eu", ON_TARGET, CHECK_TARGET,
            "started=$(date +%s%3N)",
            "printf '%s\\n' \"$FREEZE_SQL\" | psql -X -q -v ON_ERROR_STOP=1",
            "frozen=$(date +%s%3N)",
            "printf '{\"frozenAtMillis\":%s,\"lockMillis\":%s,\"sourceMajor\":%s,\"targetMajor\":%s}' \"$frozen\" \"$(( frozen - started ))\" "
                    + "\"$source_major\" \"$target_major\" > /dev/termination-log",
            "cat /dev/termination-log");

    /**
     * The copy of a Dump run, rehearsed: the same pg_dump and the same restore as BackingUp and Copying, timed apart,
     * with a rollback where the copy commits. The dump lives in the pod's scratch volume and goes with the pod. psql's
     * CONTEXT lines (and DETAIL lines that quote a row or a key) are left out of the log: they hold personal data.
     */
    static final String REHEARSE_COPY_SCRIPT = String.join("\n", "set -eu", "umask 077", ON_TARGET, CHECK_TARGET,
            "dump=" + ThrowAwayDatabase.SCRATCH + "/rehearsal.dump",
            "export TARGET_PGOPTIONS=\"${TARGET_PGOPTIONS:-} -c lock_timeout=60s\"",
            "started=$(date +%s%3N)",
            "pg_dump --format=custom --no-password --file=\"$dump\"",
            "dumped=$(date +%s%3N)",
            "bytes=$(wc -c < \"$dump\" | tr -d ' ')",
            "{",
            "  printf '%s\\n' 'begin;'",
            "  printf \"select set_config('kratos_upgrade.schema', current_schema(), true);\\n\"",
            "  printf \"do \\$do\\$ begin if (%s) > 0 then raise exception 'TARGET_NOT_EMPTY: the target database is no longer empty'; "
                    + "end if; end \\$do\\$;\\n\" \"$TARGET_OBJECTS_SQL\"",
            "  pg_restore --no-owner --no-privileges --file=- \"$dump\"",
            // The dump's SQL empties search_path; the counts look in the target's schema.
            "  printf '%s\\n' \"select set_config('search_path', current_setting('kratos_upgrade.schema'), true);\"",
            "  printf \"select 'COUNTS ' || (%s);\\n\" \"${COUNTS_SQL%;}\"",
            "  printf '%s\\n' 'rollback;'",
            "} | on_target psql -X -q -At -v ON_ERROR_STOP=1 > " + ThrowAwayDatabase.SCRATCH + "/psql.out 2> " + ThrowAwayDatabase.SCRATCH
                    + "/psql.err || { sed -e '/^CONTEXT:/d' -e '/^DETAIL:  Failing row/d' -e '/^DETAIL:  Key (/d' " + ThrowAwayDatabase.SCRATCH + "/psql.err >&2; "
                    + "echo 'the rehearsed restore failed; its transaction was rolled back and the target is as it was' >&2; exit 1; }",
            "restored=$(date +%s%3N)",
            "counts=$(sed -n 's/^COUNTS //p' " + ThrowAwayDatabase.SCRATCH + "/psql.out)",
            "[ -n \"$counts\" ] || { echo 'the rehearsed restore did not count the tables' >&2; exit 1; }",
            "left=$(on_target psql -X -At -v ON_ERROR_STOP=1 -c \"$TARGET_OBJECTS_SQL\")",
            "[ \"$left\" -eq 0 ] || { echo \"TARGET_NOT_EMPTY: the target database holds $left relations after the rehearsal's "
                    + "rollback\" >&2; exit 1; }",
            "printf '{\"dumpMillis\":%s,\"restoreMillis\":%s,\"bytes\":%s,\"counts\":%s}' \"$(( dumped - started ))\" "
                    + "\"$(( restored - dumped ))\" \"$bytes\" \"$counts\" > /dev/termination-log",
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

    static final String REPLICATE_SCRIPT = String.join("\n", "set -eu", ON_TARGET, CHECK_TARGET,
            "started=$(date +%s%3N)",
            "tables=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$PUBLISHED_SQL\")",
            "[ -n \"$tables\" ] || { echo 'REPLICATION_UNAVAILABLE: no table of the old database has a primary key or a replica identity' >&2; exit 1; }",
            // The schema, owned by the target's user; the data comes through the subscription.
            "{ printf '%s\\n' 'begin;'; pg_dump --schema-only --no-owner --no-privileges --no-publications --no-subscriptions; "
                    + "printf '%s\\n' 'commit;'; } | on_target psql -X -q -v ON_ERROR_STOP=1 > /dev/null",
            "printf 'create publication %s for table %s;\\n' \"$SUBSCRIPTION\" \"$tables\" | psql -X -q -v ON_ERROR_STOP=1",
            "on PUB psql -X -q -At -v ON_ERROR_STOP=1 -c \"select pg_create_logical_replication_slot('$SUBSCRIPTION', 'pgoutput')\" > /dev/null",
            "printf '%s\\n' \"create subscription $SUBSCRIPTION connection :'conninfo' publication $SUBSCRIPTION "
                    + "with (copy_data = true, create_slot = false, slot_name = '$SUBSCRIPTION');\" "
                    + "| on SUB psql -X -q -v ON_ERROR_STOP=1 -v conninfo=\"$PUB_CONNINFO\"",
            // One line a table (the last one ends with a newline too, or wc would count one table fewer).
            "total=$(printf '%s\\n' \"$tables\" | tr ',' '\\n' | wc -l)",
            "while :; do",
            "  synced=$(on SUB psql -X -At -v ON_ERROR_STOP=1 -c \"select count(*) from pg_subscription_rel r join pg_subscription s "
                    + "on s.oid = r.srsubid where s.subname = '$SUBSCRIPTION' and r.srsubstate in ('r', 's')\")",
            "  [ \"$synced\" -lt \"$total\" ] || break",
            // A worker that fails (a missing column, a permission) retries for ever: say so instead of waiting.
            "  errors=$(on SUB psql -X -At -c \"select sync_error_count + apply_error_count from pg_stat_subscription_stats "
                    + "where subname = '$SUBSCRIPTION'\" 2>/dev/null || echo 0)",
            "  [ \"${errors:-0}\" -eq 0 ] || { echo \"REPLICATION_FAILED: the subscription's workers failed $errors times copying the "
                    + "tables ($synced of $total copied); the target server's log says why\" >&2; exit 1; }",
            "  sleep 0.5",
            "done",
            "printf '{\"initialSyncMillis\":%s,\"tables\":%s}' \"$(( $(date +%s%3N) - started ))\" \"$total\" > /dev/termination-log",
            "cat /dev/termination-log");

    static final String CATCH_UP_SCRIPT = String.join("\n", "set -eu", ON_TARGET, DETACH,
            "started=$(date +%s%3N)",
            // Writes are frozen: the old server's WAL position now bounds every change the target must hold.
            "lsn=$(psql -X -At -v ON_ERROR_STOP=1 -c 'select pg_current_wal_lsn()')",
            "deadline=$(( $(date +%s) + 300 ))",
            // Every table ready (its own copy done and handed to the apply worker), and the apply worker past the freeze.
            "until [ \"$(on SUB psql -X -At -v ON_ERROR_STOP=1 -c \"select coalesce(bool_and(latest_end_lsn >= '$lsn'), false) "
                    + "and not exists (select 1 from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid "
                    + "where s.subname = '$SUBSCRIPTION' and r.srsubstate <> 'r') "
                    + "from pg_stat_subscription where subname = '$SUBSCRIPTION' and relid is null\")\" = t ]; do",
            "  [ \"$(date +%s)\" -lt \"$deadline\" ] || { echo \"REPLICATION_FAILED: the target did not confirm the old server's "
                    + "changes up to $lsn within 300 s; the target server's log says why\" >&2; exit 1; }",
            "  sleep 0.1",
            "done",
            "caught=$(date +%s%3N)",
            "detach",
            "unpublished=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$UNPUBLISHED_SQL\")",
            "if [ -n \"$unpublished\" ]; then",
            "  set --",
            "  for t in $unpublished; do set -- \"$@\" \"--table=$t\"; done",
            "  { printf '%s\\n' 'begin;'; pg_dump --data-only --no-owner --no-privileges \"$@\"; printf '%s\\n' 'commit;'; } "
                    + "| on_target psql -X -q -v ON_ERROR_STOP=1 > /dev/null",
            "fi",
            "source_counts=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$COUNTS_SQL\")",
            "counts=$(on_target psql -X -At -v ON_ERROR_STOP=1 -c \"$COUNTS_SQL\")",
            "printf '{\"catchUpMillis\":%s,\"copyMillis\":%s,\"sourceCounts\":%s,\"counts\":%s}' \"$(( caught - started ))\" "
                    + "\"$(( $(date +%s%3N) - started ))\" \"$source_counts\" \"$counts\" > /dev/termination-log",
            "cat /dev/termination-log");

    static final String CLEANUP_SCRIPT = String.join("\n", "set -eu", ON_TARGET, DETACH,
            "thawed=false; emptied=false; detached=false",
            "if [ \"$DETACH\" = true ]; then",
            "  detach",
            "  detached=true",
            "fi",
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
            "printf '{\"thawed\":%s,\"thawedAtMillis\":%s,\"emptied\":%s,\"detached\":%s}' \"$thawed\" \"$thawed_at\" \"$emptied\" "
                    + "\"$detached\" > /dev/termination-log",
            "cat /dev/termination-log");

    private BlueGreenJobBuilder() {
    }
}
