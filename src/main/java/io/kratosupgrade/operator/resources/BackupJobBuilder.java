package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.database.DatabaseKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The backup Job: the dump tool with the connection taken from the run's credentials Secret, writing to the
 * backup volume. It writes to a temporary name and renames at the end, so a file under the final name is
 * always a complete dump; it refuses to overwrite an existing dump; it reports size and SHA-256 through its
 * termination message. The dump is readable by its owner only (it holds password hashes and personal data).
 *
 * <p>PostgreSQL: a read-only repeatable-read session exports its snapshot and counts the product's core tables
 * in it, and pg_dump dumps that very snapshot ({@code --snapshot}); the counts go to the report, so a restore
 * can be checked against the database exactly as dumped.
 *
 * <p>When the run asked for no separate inspection (see {@code DatabaseInspection}), the Job first runs the
 * read-only inspection of {@link InspectionJobBuilder} and adds its report under {@code inspection}: one pod
 * fewer per run, and the operator reads both before anything changes.
 */
public final class BackupJobBuilder {

    public static final String BACKUP_MOUNT = "/backup";
    private static final String INSPECTION_REPORT = "/tmp/inspection.json";
    /** The last line of the log of a backup Job whose inspection failed. */
    public static final String INSPECTION_FAILED = "the read-only inspection before the dump failed; nothing was dumped";
    static final String BACKUP_VOLUME = "kratos-upgrade-backup";
    static final String SCRATCH_VOLUME = "kratos-upgrade-scratch";

    private BackupJobBuilder() {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, String credentialsSecret, String pvc,
                        String file, DatabaseKind kind, String image, Duration timeout,
                        PodSpec kratosPod, Container kratosContainer, List<String> coreTables, Inspection inspection) {
    }

    /** The migration lists the inspection compares with; null in {@link Input} when the Job does not inspect. */
    public record Inspection(Collection<String> running, Collection<String> target) {
    }

    public static Job build(Input in) {
        List<Volume> volumes = new ArrayList<>();
        List<VolumeMount> mounts = new ArrayList<>();
        // The Kratos container's mounts come along so DSN parameters such as sslrootcert=/etc/... resolve.
        if (in.kratosPod().getVolumes() != null) volumes.addAll(in.kratosPod().getVolumes());
        if (in.kratosContainer().getVolumeMounts() != null) mounts.addAll(in.kratosContainer().getVolumeMounts());
        volumes.add(new VolumeBuilder().withName(BACKUP_VOLUME)
                .withNewPersistentVolumeClaim().withClaimName(in.pvc()).endPersistentVolumeClaim().build());
        mounts.add(new VolumeMountBuilder().withName(BACKUP_VOLUME).withMountPath(BACKUP_MOUNT).build());
        // The snapshot session's pipe and output: never on the backup volume, whatever the image's /tmp is.
        volumes.add(new VolumeBuilder().withName(SCRATCH_VOLUME).withNewEmptyDir().endEmptyDir().build());
        mounts.add(new VolumeMountBuilder().withName(SCRATCH_VOLUME).withMountPath("/tmp").build());

        Container dump = new ContainerBuilder()
                .withName("backup")
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", script(in.kind(), in.coreTables(), in.inspection() != null))
                .withEnv(env(in))
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                .withVolumeMounts(mounts)
                // The report is the file; a failure (pg_dump's own error, a refused password) is the log's end.
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();

        return OperatorJobs.wrap(in.upgrade(), in.run(), "backup", in.jobName(), in.timeout(), OperatorJobs.podLike(in.kratosPod())
                .withContainers(dump)
                .withVolumes(volumes)
                .build());
    }

    private static List<EnvVar> env(Input in) {
        List<EnvVar> env = new ArrayList<>(List.of(new EnvVar("BACKUP_FILE", in.file(), null)));
        if (in.inspection() != null) {
            env.addAll(InspectionJobBuilder.migrationLists(in.inspection().running(), in.inspection().target()));
        }
        return env;
    }

    /** POSIX sh; every value comes from the environment, nothing secret is on the command line. */
    static String script(DatabaseKind kind, List<String> coreTables, boolean inspects) {
        List<String> lines = new ArrayList<>(List.of(
                "set -eu",
                "umask 077",
                "out=\"" + BACKUP_MOUNT + "/$BACKUP_FILE\"",
                "partial=\"$out.partial\"",
                "if [ -e \"$out\" ]; then echo \"refusing to overwrite existing backup $out\" >&2; exit 1; fi",
                "rm -f \"$partial\"",
                "counts=null",
                "inspection=null"));
        if (inspects) {
            // In a subshell with its own set -eu and names (set +e around it only so that its status can be read);
            // a failure, a refused password say, ends the Job before the dump with a line the operator recognises.
            lines.addAll(List.of("set +e", "(", InspectionJobBuilder.script(kind, INSPECTION_REPORT), ")", "inspected=$?", "set -e",
                    "if [ \"$inspected\" -ne 0 ]; then echo '" + INSPECTION_FAILED + "' >&2; exit 1; fi",
                    "inspection=$(cat " + INSPECTION_REPORT + ")"));
        }
        switch (kind) {
            case POSTGRES -> lines.addAll(List.of(
                    "mkfifo /tmp/snapshot.in",
                    ": > /tmp/snapshot.out",
                    "psql -X -q -At -v ON_ERROR_STOP=1 < /tmp/snapshot.in > /tmp/snapshot.out &",
                    "session=$!",
                    "exec 3> /tmp/snapshot.in",
                    "printf '%s\\n' 'begin transaction isolation level repeatable read, read only;' "
                            + "'set local idle_in_transaction_session_timeout = 0;' 'select pg_export_snapshot();' "
                            + "\"" + countsSql(coreTables) + "\" >&3",
                    "waited=0",
                    "while [ \"$(wc -l < /tmp/snapshot.out)\" -lt 2 ]; do",
                    "  kill -0 \"$session\" 2>/dev/null || { echo 'the snapshot session ended before it counted' >&2; exit 1; }",
                    "  waited=$((waited + 1)); [ \"$waited\" -le 1200 ] || { echo 'no snapshot after 120 s' >&2; exit 1; }",
                    "  sleep 0.1",
                    "done",
                    "snapshot=$(sed -n 1p /tmp/snapshot.out)",
                    "counts=$(sed -n 2p /tmp/snapshot.out)",
                    "started=$(date +%s%3N)",
                    "pg_dump --format=custom --no-password --snapshot=\"$snapshot\" --file=\"$partial\"",
                    "dump_millis=$(( $(date +%s%3N) - started ))",
                    "printf 'commit;\\n' >&3",
                    "exec 3>&-",
                    "wait \"$session\""));
            case MYSQL -> lines.addAll(List.of(
                    "started=$(date +%s%3N)",
                    "mysqldump --single-transaction --routines --triggers --host=\"$DB_HOST\" --port=\"$DB_PORT\" "
                            + "${DB_USER:+--user=\"$DB_USER\"} \"$DB_NAME\" > \"$partial\"",
                    "dump_millis=$(( $(date +%s%3N) - started ))"));
            default -> throw new IllegalArgumentException("no dump tool for " + kind.id());
        }
        lines.addAll(List.of(
                "mv \"$partial\" \"$out\"",
                "bytes=$(wc -c < \"$out\" | tr -d ' ')",
                "sha=$(sha256sum \"$out\" | cut -d' ' -f1)",
                "echo \"$sha  $BACKUP_FILE\" > \"$out.sha256\"",
                "echo \"backup written: $out ($bytes bytes in $dump_millis ms, sha256 $sha)\"",
                "printf '{\"bytes\":%s,\"dumpMillis\":%s,\"sha256\":\"%s\",\"counts\":%s,\"inspection\":%s}' \"$bytes\" \"$dump_millis\" \"$sha\" \"$counts\" \"$inspection\" "
                        + "> /dev/termination-log"));
        return String.join("\n", lines);
    }

    /**
     * One line of JSON, {"table": rows, ...}, for the tables that exist. The names are the product's own
     * constants; query_to_xml runs each count inside the same statement, so in the same snapshot.
     */
    static String countsSql(List<String> tables) {
        String names = String.join(",", tables.stream().map(t -> "'" + t + "'").toList());
        return "select coalesce(json_object_agg(t, (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I', t), "
                + "false, true, '')))[1]::text::bigint), '{}') from unnest(array[" + names + "]) as t where to_regclass(t) is not null;";
    }
}
