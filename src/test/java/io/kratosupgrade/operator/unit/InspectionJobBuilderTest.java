package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.resources.InspectionJobBuilder;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inspection Job's scripts, run with a stand-in psql or mysql: they must never mistake a failure for an empty
 * database. (The e2e tier runs both against real servers.)
 */
class InspectionJobBuilderTest {

    private static String script(DatabaseKind kind) {
        PodSpec pod = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        Job job = InspectionJobBuilder.build(new InspectionJobBuilder.Input(Fixtures.upgrade(), 1, "ku-1-inspect", "ku-1-inspect-db", kind,
                "db-tools:1", Duration.ofMinutes(3), pod, pod.getContainers().get(0), List.of("1"), List.of("1", "2"), null));
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand().get(2);
    }

    /** Runs the script for {@code kind} with its client replaced by {@code fakeClient}; returns the exit code. */
    private static int run(Path dir, DatabaseKind kind, String fakeClient) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path client = bin.resolve(kind == DatabaseKind.MYSQL ? "mysql" : "psql");
        Files.writeString(client, "#!/bin/sh\n" + fakeClient + "\n");
        assumeTrue(client.toFile().setExecutable(true));
        String script = script(kind).replace("/dev/termination-log", dir.resolve("termination-log").toString());
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
        pb.environment().put("PATH", bin + File.pathSeparator + pb.environment().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("RUNNING_MIGRATIONS", "1");
        pb.environment().put("TARGET_MIGRATIONS", "1,2");
        // What DumpToolEnvironment puts in the credentials Secret for MySQL (the password travels as MYSQL_PWD).
        pb.environment().putAll(java.util.Map.of("DB_HOST", "db.example", "DB_PORT", "3306", "DB_NAME", "kratos"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("script finished: %s", output).isTrue();
        return p.exitValue();
    }

    @Test
    void aDatabaseThatRefusesTheConnectionFailsTheJob(@TempDir Path dir) throws Exception {
        int exit = run(dir, DatabaseKind.POSTGRES, "echo 'psql: error: password authentication failed for user \"kratos\"' >&2; exit 2");

        assertThat(exit).isNotZero();
        assertThat(dir.resolve("termination-log")).as("no report: nothing was inspected").doesNotExist();
    }

    @Test
    void aReachableDatabaseWithoutTablesIsReportedAsNeverMigrated(@TempDir Path dir) throws Exception {
        int exit = run(dir, DatabaseKind.POSTGRES, "case \"$*\" in *to_regclass*) echo 'f null';; *) exit 9;; esac");

        assertThat(exit).isZero();
        assertThat(dir.resolve("termination-log")).hasContent("{\"schemaMigration\":false,\"networks\":null}");
    }

    @Test
    void anAnswerThatIsNotWhatTheQueryReturnsFailsTheJob(@TempDir Path dir) throws Exception {
        int exit = run(dir, DatabaseKind.POSTGRES, "echo");

        assertThat(exit).isNotZero();
        assertThat(dir.resolve("termination-log")).as("an empty answer is not an empty database").doesNotExist();
    }

    @Test
    void aPostgresDatabaseIsComparedWithBothReleasesListsInOneQuery(@TempDir Path dir) throws Exception {
        // The comparison itself is SQL (run on a real database by the e2e tier); here: what reaches the query.
        int exit = run(dir, DatabaseKind.POSTGRES, "case \"$*\" in *to_regclass*) echo 't 2';; "
                + "*'running=1 '*'target=1,2 '*'networks=2'*) cat > /dev/null; echo '{\"schemaMigration\":true}';; *) exit 9;; esac");

        assertThat(exit).isZero();
        assertThat(dir.resolve("termination-log")).hasContent("{\"schemaMigration\":true}");
    }

    @Test
    void aMySqlDatabaseThatRefusesTheConnectionFailsTheJob(@TempDir Path dir) throws Exception {
        int exit = run(dir, DatabaseKind.MYSQL, "echo \"ERROR 1045 (28000): Access denied for user 'kratos'@'10.88.0.7'\" >&2; exit 1");

        assertThat(exit).isNotZero();
        assertThat(dir.resolve("termination-log")).as("no report: nothing was inspected").doesNotExist();
    }

    @Test
    void aMySqlQueryThatFailsAfterConnectingFailsTheJob(@TempDir Path dir) throws Exception {
        int exit = run(dir, DatabaseKind.MYSQL, "case \"$*\" in *information_schema*) echo 1;; *'from schema_migration'*) exit 1;; *) echo 1;; esac");

        assertThat(exit).isNotZero();
        assertThat(dir.resolve("termination-log")).doesNotExist();
    }

    @Test
    void aMySqlDatabaseIsComparedWithBothReleasesLists(@TempDir Path dir) throws Exception {
        // Applied: 1 (both lists) and 3 (neither): 2 is pending for the target, 3 is unknown to both.
        int exit = run(dir, DatabaseKind.MYSQL, "case \"$*\" in *information_schema*) echo 1;; *'from schema_migration'*) printf '3\\n1\\n';; "
                + "*'from networks'*) echo 2;; *) echo 1;; esac");

        assertThat(exit).isZero();
        assertThat(dir.resolve("termination-log")).hasContent("{\"schemaMigration\":true,\"applied\":2,\"newest\":\"3\","
                + "\"pendingForTarget\":1,\"missingForRunning\":0,\"unknownToRunning\":1,\"unknownToTarget\":1,"
                + "\"aheadExamples\":[\"3\"],\"missingExamples\":[],\"networks\":2}");
    }
}
