package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.resources.BackupJobBuilder;
import io.kratosupgrade.operator.resources.Labels;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupJobBuilderTest {

    private static final String JOB = "kratos-upgrade-1-backup";
    private static final String SECRET = "kratos-upgrade-1-backup-db";
    private static final String FILE = "kratos-upgrade-run1-v1.1.0-0f1e2d3c.pgdump";

    private static Job build(DatabaseKind kind) {
        return build(kind, null);
    }

    private static Job build(DatabaseKind kind, BackupJobBuilder.Inspection inspection) {
        PodSpec pod = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        return BackupJobBuilder.build(new BackupJobBuilder.Input(Fixtures.upgrade(), 1, JOB, SECRET, "backups", FILE, kind,
                "db-tools:1", Duration.ofMinutes(30), pod, pod.getContainers().get(0), Kratos.INSTANCE.coreTables(), inspection));
    }

    private static Container dumpContainer(Job job) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    private static String script(Job job) {
        List<String> command = dumpContainer(job).getCommand();
        assertThat(command).hasSize(3).startsWith("/bin/sh", "-c");
        return command.get(2);
    }

    @Test
    void reachesTheDatabaseTheWayKratosDoesThroughItsServiceAccountAndProxySidecar() {
        PodSpec pod = build(DatabaseKind.POSTGRES).getSpec().getTemplate().getSpec();

        assertThat(pod.getServiceAccountName()).isEqualTo("kratos");
        assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("regcred");
        // The native sidecar (a database proxy) comes along; the auto-migrate init container does not.
        assertThat(pod.getInitContainers()).extracting(Container::getName).containsExactly("cloud-sql-proxy");
    }

    @Test
    void mountsTheBackupClaimAtSlashBackup() {
        Job job = build(DatabaseKind.POSTGRES);
        PodSpec pod = job.getSpec().getTemplate().getSpec();

        Volume claim = pod.getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null).findFirst().orElseThrow();
        assertThat(claim.getPersistentVolumeClaim().getClaimName()).isEqualTo("backups");
        VolumeMount mount = dumpContainer(job).getVolumeMounts().stream()
                .filter(m -> m.getName().equals(claim.getName())).findFirst().orElseThrow();
        assertThat(mount.getMountPath()).isEqualTo("/backup");
        assertThat(mount.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    }

    @Test
    void keepsTheKratosVolumesSoSslFilesResolve() {
        Job job = build(DatabaseKind.POSTGRES);

        assertThat(job.getSpec().getTemplate().getSpec().getVolumes()).extracting(Volume::getName).contains("kratos-config-volume");
        assertThat(dumpContainer(job).getVolumeMounts()).extracting(VolumeMount::getMountPath).contains("/etc/config", "/backup");
    }

    @Test
    void connectionComesFromTheCredentialsSecretAndTheFileFromBackupFile() {
        Container dump = dumpContainer(build(DatabaseKind.POSTGRES));

        assertThat(dump.getEnvFrom()).hasSize(1);
        assertThat(dump.getEnvFrom().get(0).getSecretRef().getName()).isEqualTo(SECRET);
        assertThat(dump.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("BACKUP_FILE");
            assertThat(e.getValue()).isEqualTo(FILE);
        });
        assertThat(dump.getImage()).isEqualTo("db-tools:1");
        assertThat(dump.getCommand().get(2)).doesNotContain("PGPASSWORD", "MYSQL_PWD");
    }

    @Test
    void runsOnceWithinTheTimeoutAndIsLabelledForTheInformers() {
        Job job = build(DatabaseKind.POSTGRES);

        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(1800L);
        assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(job.getSpec().getTemplate().getSpec().getImagePullSecrets()).extracting("name").containsExactly("regcred");
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry(Labels.MANAGED_BY, Labels.OPERATOR).containsEntry(Labels.JOB, JOB).doesNotContainKey("app");
    }

    @Test
    void postgresScriptUsesCustomFormatPgDump() {
        String script = script(build(DatabaseKind.POSTGRES));

        assertThat(script).contains("pg_dump --format=custom").doesNotContain("mysqldump");
    }

    @Test
    void mysqlScriptUsesASingleTransaction() {
        String script = script(build(DatabaseKind.MYSQL));

        assertThat(script).contains("mysqldump --single-transaction").doesNotContain("pg_dump");
    }

    @Test
    void scriptRefusesToOverwriteAndRenamesAPartialFileAtTheEnd() {
        String script = script(build(DatabaseKind.POSTGRES));
        List<String> lines = script.lines().toList();

        int check = indexOf(lines, "if [ -e \"$out\" ]");
        int dump = indexOf(lines, "pg_dump");
        int rename = indexOf(lines, "mv \"$partial\" \"$out\"");
        assertThat(script).contains("partial=\"$out.partial\"", "exit 1");
        assertThat(lines.get(dump)).contains("--file=\"$partial\"");
        assertThat(check).isLessThan(dump);
        assertThat(dump).isLessThan(rename);
        assertThat(lines.get(0)).contains("set -e");
    }

    @Test
    void nonDumpableKindsHaveNoBackupJob() {
        assertThatThrownBy(() -> build(DatabaseKind.COCKROACH)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Runs the real script with stand-ins for psql (the snapshot session: it answers a snapshot id and the counts)
     * and pg_dump (which must be handed that snapshot), in a temporary directory instead of /backup and /tmp.
     */
    @Test
    void scriptWritesOnceThenRefuses(@TempDir Path dir) throws Exception {
        Path bin = fakeTools(dir, "exit 9");
        Path backup = Files.createDirectories(dir.resolve("backup"));
        String script = inDirectory(script(build(DatabaseKind.POSTGRES)), dir);

        assertThat(runScript(script, bin)).isZero();
        Path out = backup.resolve(FILE);
        assertThat(out).hasContent("DUMP");
        assertThat(backup.resolve(FILE + ".partial")).doesNotExist();
        assertThat(backup.resolve(FILE + ".sha256")).exists();
        assertThat(Files.readString(dir.resolve("termination-log"))).matches("\\{\"bytes\":4,\"dumpMillis\":\\d+,\"sha256\":\"[0-9a-f]{64}\","
                + "\"counts\":\\{ \"identities\" : 2, \"sessions\" : 5 },\"inspection\":null}");
        assertThat(Files.getPosixFilePermissions(out)).as("the dump is readable by its owner only")
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        Files.writeString(out, "KEEP");
        assertThat(runScript(script, bin)).isNotZero();
        assertThat(out).hasContent("KEEP");
    }

    /** A database without schema_migration, as psql's one-off queries see it. */
    private static final String EMPTY_DATABASE = "case \"$*\" in *to_regclass*) echo 'f null';; *) exit 9;; esac";

    @Test
    void scriptInspectsBeforeItDumpsAndReportsBoth(@TempDir Path dir) throws Exception {
        Path bin = fakeTools(dir, EMPTY_DATABASE);
        String script = inDirectory(script(build(DatabaseKind.POSTGRES, new BackupJobBuilder.Inspection(List.of("1"), List.of("1", "2")))), dir);

        StringBuilder output = new StringBuilder();
        assertThat(runScript(script, bin, output)).as(() -> output.toString()).isZero();
        assertThat(dir.resolve("backup").resolve(FILE)).hasContent("DUMP");
        assertThat(Files.readString(dir.resolve("termination-log")))
                .endsWith(",\"inspection\":{\"schemaMigration\":false,\"networks\":null}}");
    }

    @Test
    void anInspectionThatFailsEndsTheScriptBeforeTheDumpWithTheLineTheOperatorRecognises(@TempDir Path dir) throws Exception {
        Path bin = fakeTools(dir, "echo 'psql: error: connection refused' >&2; exit 2");
        String script = inDirectory(script(build(DatabaseKind.POSTGRES, new BackupJobBuilder.Inspection(List.of("1"), List.of("1", "2")))), dir);

        StringBuilder output = new StringBuilder();
        assertThat(runScript(script, bin, output)).isNotZero();
        assertThat(output.toString().strip()).endsWith("psql: error: connection refused\n" + BackupJobBuilder.INSPECTION_FAILED);
        assertThat(dir.resolve("backup").resolve(FILE)).doesNotExist();
        assertThat(dir.resolve("backup").resolve(FILE + ".partial")).doesNotExist();
    }

    /**
     * Stand-ins for psql (the snapshot session, on stdin: it answers a snapshot id and the counts; a one-off query
     * with -c runs {@code oneOffQuery}) and pg_dump (which must be handed that snapshot).
     */
    private static Path fakeTools(Path dir, String oneOffQuery) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path fakeDump = bin.resolve("pg_dump");
        Files.writeString(fakeDump, "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --snapshot=00000003-0000001B-1) snap=ok;; "
                + "--file=*) file=\"${a#--file=}\";; esac; done\n[ \"$snap\" = ok ] || { echo 'no snapshot' >&2; exit 3; }\n"
                + "printf 'DUMP' > \"$file\"\n");
        assumeTrue(fakeDump.toFile().setExecutable(true));
        Path fakePsql = bin.resolve("psql");
        Files.writeString(fakePsql, "#!/bin/sh\noneoff() {\n" + oneOffQuery + "\n}\ncase \"$*\" in *-c*) oneoff \"$@\"; exit $?;; esac\n"
                + "read begin; read timeout; read export; read count\n"
                + "case \"$export\" in *pg_export_snapshot*) echo 00000003-0000001B-1;; esac\n"
                + "case \"$count\" in *query_to_xml*identities*) echo '{ \"identities\" : 2, \"sessions\" : 5 }';; esac\n"
                + "read commit; [ \"$commit\" = 'commit;' ]\n");
        assumeTrue(fakePsql.toFile().setExecutable(true));
        return bin;
    }

    /** The script with /backup, /tmp and the termination log in {@code dir}. */
    private static String inDirectory(String script, Path dir) throws Exception {
        Path scratch = Files.createDirectories(dir.resolve("tmp"));
        Path backup = Files.createDirectories(dir.resolve("backup"));
        return script.replace("/tmp/", scratch + "/")
                .replace("/backup", backup.toString())
                .replace("/dev/termination-log", dir.resolve("termination-log").toString());
    }

    private static int runScript(String script, Path bin) throws Exception {
        return runScript(script, bin, new StringBuilder());
    }

    private static int runScript(String script, Path bin, StringBuilder output) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PATH", bin + File.pathSeparator + env.getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("BACKUP_FILE", FILE);
        Process p = pb.start();
        output.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("script finished: %s", output).isTrue();
        return p.exitValue();
    }

    private static int indexOf(List<String> lines, String fragment) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(fragment)) return i;
        }
        throw new AssertionError("no line contains " + fragment);
    }
}
