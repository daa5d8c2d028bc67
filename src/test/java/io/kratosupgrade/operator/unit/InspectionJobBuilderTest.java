package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
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

/** The inspection Job's script, run with a stand-in psql: it must never mistake a failure for an empty database. */
class InspectionJobBuilderTest {

    private static String script() {
        PodSpec pod = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        Job job = InspectionJobBuilder.build(new InspectionJobBuilder.Input(Fixtures.upgrade(), 1, "ku-1-inspect", "ku-1-inspect-db",
                "db-tools:1", Duration.ofMinutes(3), pod, pod.getContainers().get(0), List.of("1"), List.of("1", "2")));
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand().get(2);
    }

    /** Runs the script with {@code psql} replaced by {@code fakePsql}; returns the exit code. */
    private static int run(Path dir, String fakePsql) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path psql = bin.resolve("psql");
        Files.writeString(psql, "#!/bin/sh\n" + fakePsql + "\n");
        assumeTrue(psql.toFile().setExecutable(true));
        String script = script().replace("/dev/termination-log", dir.resolve("termination-log").toString());
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
        pb.environment().put("PATH", bin + File.pathSeparator + pb.environment().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("RUNNING_MIGRATIONS", "1");
        pb.environment().put("TARGET_MIGRATIONS", "1,2");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("script finished: %s", output).isTrue();
        return p.exitValue();
    }

    @Test
    void aDatabaseThatRefusesTheConnectionFailsTheJob(@TempDir Path dir) throws Exception {
        int exit = run(dir, "echo 'psql: error: password authentication failed for user \"kratos\"' >&2; exit 2");

        assertThat(exit).isNotZero();
        assertThat(dir.resolve("termination-log")).as("no report: nothing was inspected").doesNotExist();
    }

    @Test
    void aReachableDatabaseWithoutTablesIsReportedAsNeverMigrated(@TempDir Path dir) throws Exception {
        int exit = run(dir, "case \"$*\" in *to_regclass*) echo f;; *) echo 1;; esac");

        assertThat(exit).isZero();
        assertThat(dir.resolve("termination-log")).hasContent("{\"schemaMigration\":false,\"networks\":null}");
    }
}
