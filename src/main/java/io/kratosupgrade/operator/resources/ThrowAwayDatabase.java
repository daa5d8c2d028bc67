package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL server that lives and dies inside one Job pod, with its data in an emptyDir: where the backup
 * is restored to be verified, and where the migration is rehearsed. It needs nothing from the user (no
 * database, no privilege, no network) and touches nothing of production. The tools image carries the
 * PostgreSQL 15 server, the same major version as its pg_dump, so it restores every dump the backup Job can write.
 *
 * <p>The dump is restored by a role that owns the database and is not a superuser, the way Kratos usually runs
 * in production: a dump that only a superuser could restore (an untrusted extension), or a migration that needs
 * more than ownership, fails here as it would fail there.
 *
 * <p>The Job may run as any uid (the pod's security context, the same as the backup Job's, so it can read the
 * dump): initdb looks its uid up, so it runs under nss_wrapper with a one-line passwd file.
 */
final class ThrowAwayDatabase {

    static final String SCRATCH_VOLUME = BackupJobBuilder.SCRATCH_VOLUME;
    static final String SCRATCH = "/scratch";
    /** The role and database the dump is restored into; the rehearsal's DSN names them. */
    static final String OWNER = "kratos";
    static final int PORT = 5432;
    /** What the rehearsed migration connects to: the server in its own pod, never production. */
    static final String DSN = "postgres://" + OWNER + "@127.0.0.1:" + PORT + "/" + OWNER + "?sslmode=disable";

    private ThrowAwayDatabase() {
    }

    static Volume scratchVolume() {
        return new VolumeBuilder().withName(SCRATCH_VOLUME).withNewEmptyDir().endEmptyDir().build();
    }

    static VolumeMount scratchMount() {
        return new VolumeMountBuilder().withName(SCRATCH_VOLUME).withMountPath(SCRATCH).build();
    }

    /** The backup volume, read-only: nothing that verifies or rehearses may change a dump. */
    static Volume backupVolume(String pvc) {
        return new VolumeBuilder().withName(BackupJobBuilder.BACKUP_VOLUME)
                .withNewPersistentVolumeClaim().withClaimName(pvc).withReadOnly(true).endPersistentVolumeClaim().build();
    }

    static VolumeMount backupMount() {
        return new VolumeMountBuilder().withName(BackupJobBuilder.BACKUP_VOLUME).withMountPath(BackupJobBuilder.BACKUP_MOUNT)
                .withReadOnly(true).build();
    }

    /** libpq reaches the server through its socket in the scratch volume, as the superuser initdb created. */
    static List<EnvVar> env(String backupFile, String expectedSha256) {
        return List.of(new EnvVar("BACKUP_FILE", backupFile, null),
                new EnvVar("EXPECTED_SHA256", expectedSha256 == null ? "" : expectedSha256, null),
                new EnvVar("PGHOST", SCRATCH, null),
                new EnvVar("PGUSER", "postgres", null),
                new EnvVar("PGDATABASE", "postgres", null));
    }

    /**
     * POSIX sh: checks the dump's SHA-256 against what the backup Job reported, starts a server on a socket in the
     * scratch volume (no TCP), creates the owner role and its database, restores the dump as that role, and leaves
     * the server running with PGUSER/PGDATABASE pointing at the restored copy. Writes the restore's duration in
     * milliseconds to {@code $SCRATCH/restore-millis}. Failing lines go to stderr, the pod's log.
     */
    static List<String> startAndRestore() {
        List<String> lines = new ArrayList<>(List.of("set -eu", "umask 077"));
        lines.addAll(checkDumpFile());
        lines.addAll(List.of(
                "d=" + SCRATCH,
                "printf 'postgres:x:%s:%s::%s:/bin/sh\\n' \"$(id -u)\" \"$(id -g)\" \"$d\" > \"$d/passwd\"",
                "LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD=\"$d/passwd\" NSS_WRAPPER_GROUP=/etc/group \\",
                "  initdb -D \"$d/data\" -U postgres -A trust -E UTF8 --no-sync > \"$d/initdb.log\" 2>&1 "
                        + "|| { cat \"$d/initdb.log\" >&2; exit 1; }",
                serverCommand("postgres", "") + " > \"$d/server.log\" 2>&1 &",
                "i=0",
                "until pg_isready -q; do",
                "  i=$((i + 1)); [ \"$i\" -le 600 ] || { cat \"$d/server.log\" >&2; echo 'the throw-away server did not start in 60 s' >&2; exit 1; }",
                "  sleep 0.1",
                "done",
                "psql -X -q -v ON_ERROR_STOP=1 -c 'create role " + OWNER + " login' -c 'create database " + OWNER + " owner " + OWNER + "'",
                "export PGUSER=" + OWNER + " PGDATABASE=" + OWNER,
                "started=$(date +%s%3N)",
                "pg_restore --no-owner --no-privileges --exit-on-error --dbname=" + OWNER + " \"$file\"",
                "echo $(( $(date +%s%3N) - started )) > \"$d/restore-millis\"",
                "echo \"restored $BACKUP_FILE (sha256 $sha) in $(cat \"$d/restore-millis\") ms\""));
        return lines;
    }

    /**
     * POSIX sh: {@code $file} is the dump {@code $BACKUP_FILE} on the backup volume, readable, with the SHA-256 the
     * backup Job reported ({@code $EXPECTED_SHA256}, when known), in {@code $sha}.
     */
    static List<String> checkDumpFile() {
        return List.of(
                "file=\"" + BackupJobBuilder.BACKUP_MOUNT + "/$BACKUP_FILE\"",
                "[ -r \"$file\" ] || { echo \"cannot read $file (missing, or written by another uid)\" >&2; exit 1; }",
                "sha=$(sha256sum \"$file\" | cut -d' ' -f1)",
                "if [ -n \"$EXPECTED_SHA256\" ] && [ \"$sha\" != \"$EXPECTED_SHA256\" ]; then",
                "  echo \"checksum mismatch: $BACKUP_FILE has SHA-256 $sha, the backup Job wrote $EXPECTED_SHA256\" >&2; exit 1",
                "fi");
    }

    /**
     * {@link #startAndRestore()}, then counts the core tables ({@code $COUNTS_SQL}) and schema_migration's rows (to
     * {@code $SCRATCH/before}, for a rehearsal's report), stops the server cleanly, and reports
     * {"restoreMillis":N,"counts":{...}} as the container's termination message: the verification of the dump.
     */
    static String restoreAndReport() {
        List<String> lines = new ArrayList<>(startAndRestore());
        lines.addAll(List.of(
                "counts=$(psql -X -At -v ON_ERROR_STOP=1 -c \"$COUNTS_SQL\")",
                "psql -X -At -v ON_ERROR_STOP=1 -c \"select case when to_regclass('schema_migration') is null then 0 "
                        + "else (select count(*) from schema_migration) end\" > " + SCRATCH + "/before",
                stop(),
                "printf '{\"restoreMillis\":%s,\"counts\":%s}' \"$(cat " + SCRATCH + "/restore-millis)\" \"$counts\" > /dev/termination-log",
                "cat /dev/termination-log"));
        return String.join("\n", lines);
    }

    /** Stops the server started by {@link #startAndRestore()}, cleanly, so another container can start it again. */
    static String stop() {
        return "pg_ctl -D " + SCRATCH + "/data -m fast -w stop > /dev/null";
    }

    /**
     * The server command; settings that only cost speed on a copy that is thrown away anyway (no fsync).
     *
     * @param listen listen_addresses: empty for the socket only, 127.0.0.1 for the pod's own containers
     */
    static String serverCommand(String binary, String listen) {
        return binary + " -D " + SCRATCH + "/data -k " + SCRATCH + " -p " + PORT + " -c listen_addresses=" + (listen.isEmpty() ? "''" : listen)
                + " -c fsync=off -c full_page_writes=off -c synchronous_commit=off";
    }
}
