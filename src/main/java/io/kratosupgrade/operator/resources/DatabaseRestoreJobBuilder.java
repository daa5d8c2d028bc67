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
 * The Job that puts the verified dump back into the production database (rollback ImageAndDatabase), with
 * Kratos scaled to zero. Everything happens in one transaction: drop what the current schema holds (tables,
 * views, sequences, functions, types; extensions stay), restore the dump, count the core tables and compare
 * with the counts of the dump's snapshot. Any error, or one count that differs, rolls the transaction back and
 * the database is exactly as it was before the Job: never half-restored. It reaches the database the way the
 * backup Job did (the Kratos pod's sidecars, mounts, security context; credentials from a short-lived Secret)
 * and reports {"restoreMillis":N,"counts":{...}}, the counts taken after the commit.
 */
public final class DatabaseRestoreJobBuilder {

    public static final String STEP = "restore";

    private DatabaseRestoreJobBuilder() {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, String credentialsSecret, String pvc, String file, String sha256,
                        String expectedCountsJson, String image, Duration timeout, PodSpec kratosPod, Container kratosContainer,
                        List<String> coreTables) {
    }

    public static Job build(Input in) {
        List<Volume> volumes = new ArrayList<>();
        List<VolumeMount> mounts = new ArrayList<>();
        // The Kratos container's mounts come along so DSN parameters such as sslrootcert=/etc/... resolve.
        if (in.kratosPod().getVolumes() != null) volumes.addAll(in.kratosPod().getVolumes());
        if (in.kratosContainer().getVolumeMounts() != null) mounts.addAll(in.kratosContainer().getVolumeMounts());
        volumes.add(ThrowAwayDatabase.backupVolume(in.pvc()));
        mounts.add(ThrowAwayDatabase.backupMount());
        volumes.add(ThrowAwayDatabase.scratchVolume());
        mounts.add(ThrowAwayDatabase.scratchMount());
        Container restore = new ContainerBuilder()
                .withName(STEP)
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", SCRIPT)
                .withEnv(new EnvVar("BACKUP_FILE", in.file(), null),
                        new EnvVar("EXPECTED_SHA256", in.sha256() == null ? "" : in.sha256(), null),
                        new EnvVar("EXPECTED_COUNTS", in.expectedCountsJson(), null),
                        new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null),
                        new EnvVar("DROP_SQL", DROP_SQL, null),
                        new EnvVar("CHECK_SQL", CHECK_SQL, null))
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                .withVolumeMounts(mounts)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), STEP, in.jobName(), in.timeout(), OperatorJobs.podLike(in.kratosPod())
                .withContainers(restore)
                .withVolumes(volumes)
                .build());
    }

    // Dollar quotes are named ($do$): Kubernetes turns "$$" in an env value into "$".

    /**
     * Dropped in the schema the connection works in: everything the Kratos migrations create there. Objects that
     * belong to an extension are left to it (pg_trgm's functions, for one).
     */
    static final String DROP_SQL = String.join("\n",
            "select set_config('kratos_upgrade.schema', current_schema(), true);",
            "do $do$",
            "declare r record;",
            "begin",
            "  for r in select c.oid::regclass::text as name, c.relkind from pg_class c",
            "      where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')",
            "      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')",
            "  loop",
            "    execute format('drop %s if exists %s cascade', case r.relkind when 'v' then 'view' when 'm' then 'materialized view'",
            "      when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end, r.name);",
            "  end loop;",
            "  for r in select p.oid::regprocedure::text as name, p.prokind from pg_proc p",
            "      where p.pronamespace = current_schema()::regnamespace",
            "      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')",
            "  loop",
            "    execute format('drop %s if exists %s cascade', case r.prokind when 'p' then 'procedure' when 'a' then 'aggregate'",
            "      else 'function' end, r.name);",
            "  end loop;",
            "  for r in select t.oid::regtype::text as name, t.typtype from pg_type t",
            "      where t.typnamespace = current_schema()::regnamespace and t.typtype in ('e', 'd', 'r', 'm')",
            "      and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e')",
            "  loop",
            "    execute format('drop %s if exists %s cascade', case r.typtype when 'd' then 'domain' else 'type' end, r.name);",
            "  end loop;",
            "end $do$;");

    /** After the dump's statements (which empty search_path): every counted table must hold what the snapshot held. */
    static final String CHECK_SQL = String.join("\n",
            "select set_config('search_path', current_setting('kratos_upgrade.schema'), true);",
            "do $do$",
            "declare e record; n bigint;",
            "begin",
            "  for e in select key, value::bigint as rows from jsonb_each_text(current_setting('kratos_upgrade.expected')::jsonb) loop",
            "    if to_regclass(e.key) is null then raise exception 'restored copy has no table %', e.key; end if;",
            "    execute format('select count(*) from %I', e.key) into n;",
            "    if n <> e.rows then raise exception 'table % holds % rows after the restore, the dump''s snapshot had %', e.key, n, e.rows; end if;",
            "  end loop;",
            "end $do$;");

    static final String SCRIPT = String.join("\n", "set -eu", String.join("\n", ThrowAwayDatabase.checkDumpFile()),
            "export PGOPTIONS=\"-c lock_timeout=60s\"",
            "started=$(date +%s%3N)",
            "{",
            "  printf '%s\\n' 'begin;'",
            "  printf \"select set_config('kratos_upgrade.expected', '%s', true);\\n\" \"$EXPECTED_COUNTS\"",
            "  printf '%s\\n' \"$DROP_SQL\"",
            "  pg_restore --no-owner --no-privileges --file=- \"$file\"",
            "  printf '%s\\n' \"$CHECK_SQL\"",
            "  printf \"select 'COUNTS ' || (%s);\\n\" \"${COUNTS_SQL%;}\"",
            "  printf '%s\\n' 'commit;'",
            "} | psql -X -q -At -v ON_ERROR_STOP=1 > " + ThrowAwayDatabase.SCRATCH + "/psql.out",
            "[ -n \"$(sed -n 's/^COUNTS //p' " + ThrowAwayDatabase.SCRATCH + "/psql.out)\" ] "
                    + "|| { echo 'the restore did not complete; its transaction was rolled back and the database is as it was' >&2; exit 1; }",
            // Counted again after the commit, in a new session: what the database holds now.
            "counts=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$COUNTS_SQL\")",
            "printf '{\"restoreMillis\":%s,\"counts\":%s}' \"$(( $(date +%s%3N) - started ))\" \"$counts\" > /dev/termination-log",
            "cat /dev/termination-log");
}
