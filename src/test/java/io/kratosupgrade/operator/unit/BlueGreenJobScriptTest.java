package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.resources.BlueGreenJobBuilder;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BlueGreen's scripts run for real by /bin/sh, with stand-ins for psql, pg_dump and pg_restore: the replication
 * against a server whose tables finish their initial copy one after the other, the copy's rehearsal against servers
 * that take what they are sent.
 */
class BlueGreenJobScriptTest {

    @Test
    void replicationWaitsForEveryPublishedTableNotOneFewer(@TempDir Path dir) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Job job = BlueGreenJobBuilder.build(new BlueGreenJobBuilder.Input(Fixtures.upgrade(), 1, BlueGreenJobBuilder.Operation.REPLICATE,
                "kratos-upgrade-1-replicate", "kratos-upgrade-1-replicate-db", "db-tools", Duration.ofMinutes(5),
                Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE), Fixtures.kratosContainer(Fixtures.OLD_IMAGE), null, null, null, null,
                List.of("identities"), false, false, "kratos_upgrade_abc_1", false));
        Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path synced = dir.resolve("synced");
        // Three tables published; each sync query finds one more ready, up to three.
        write(bin.resolve("psql"), String.join("\n", "#!/bin/sh",
                "case \"$*\" in",
                "  *string_agg*) echo 'public.a, public.b, public.c';;",
                "  *server_version_num*TARGET_OBJECTS*|*\"||\"*) echo '15 0';;",
                "  *server_version_num*) echo 15;;",
                "  *srsubstate*) n=$(( $(cat " + synced + " 2>/dev/null || echo 0) + 1 )); [ $n -gt 3 ] && n=3; echo $n > " + synced
                        + "; echo $n;;",
                "  *pg_stat_subscription_stats*) echo 0;;",
                "  *-c*) echo 0;;",
                "  *) cat > /dev/null;;",
                "esac"));
        write(bin.resolve("pg_dump"), "#!/bin/sh\necho '-- schema'\n");
        String script = container.getCommand().get(2).replace("/dev/termination-log", dir.resolve("termination-log").toString());

        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PATH", bin + File.pathSeparator + env.getOrDefault("PATH", "/usr/bin:/bin"));
        container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        env.put("PUB_CONNINFO", "host='db'"); // from the credentials Secret in a real Job
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();

        assertThat(p.exitValue()).as(output).isZero();
        assertThat(Files.readString(dir.resolve("termination-log"))).contains("\"tables\":3");
        assertThat(Files.readString(synced).strip()).as("asked until all three were copied").isEqualTo("3");
    }

    /**
     * The copy's rehearsal: psql stands in for both servers (the target's calls come with TARGET_PG* as PG*), pg_dump
     * writes 4242 bytes, pg_restore prints a table's SQL; the target's psql keeps what it was sent.
     */
    private static Path rehearsalStandIns(Path dir, String restoreFails) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        write(bin.resolve("psql"), String.join("\n", "#!/bin/sh",
                "case \"$*\" in",
                "  *server_version_num*TARGET_OBJECTS*|*\"||\"*) echo '15 0';;",
                "  *server_version_num*) echo 15;;",
                "  *-c*) echo 0;;",
                "  *) cat > " + dir.resolve("sent.sql") + "; " + (restoreFails != null ? restoreFails
                        : "echo 'COUNTS {\"identities\" : 7, \"schema_migration\" : 282}'") + ";;",
                "esac"));
        write(bin.resolve("pg_dump"), "#!/bin/sh\nfor a; do case $a in --file=*) head -c 4242 /dev/zero > \"${a#--file=}\";; esac; done\n");
        write(bin.resolve("pg_restore"), "#!/bin/sh\necho 'CREATE TABLE public.identities (id uuid);'\n");
        return bin;
    }

    private static Process rehearsal(Path dir, Path bin) throws Exception {
        Job job = BlueGreenJobBuilder.build(new BlueGreenJobBuilder.Input(Fixtures.upgrade(), 1, BlueGreenJobBuilder.Operation.REHEARSE_COPY,
                "kratos-upgrade-1-rehearse-copy", "kratos-upgrade-1-rehearse-copy-db", "db-tools", Duration.ofMinutes(5),
                Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE), Fixtures.kratosContainer(Fixtures.OLD_IMAGE), null, null, null, null,
                List.of("identities", "schema_migration"), false, false, null, false));
        Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/scratch"));
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        String script = container.getCommand().get(2).replace("/dev/termination-log", dir.resolve("termination-log").toString())
                .replace("/scratch/", scratch + "/");
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PATH", bin + File.pathSeparator + env.getOrDefault("PATH", "/usr/bin:/bin"));
        container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        env.put("PGDATABASE", "kratos"); // from the credentials Secret in a real Job
        env.put("TARGET_PGDATABASE", "kratos_green");
        return pb.start();
    }

    @Test
    void theCopyRehearsalTimesTheDumpAndTheRestoreAndRollsTheRestoreBack(@TempDir Path dir) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Process p = rehearsal(dir, rehearsalStandIns(dir, null));
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();

        assertThat(p.exitValue()).as(output).isZero();
        String report = Files.readString(dir.resolve("termination-log"));
        assertThat(report).matches("\\{\"dumpMillis\":\\d+,\"restoreMillis\":\\d+,\"bytes\":4242,"
                + "\"counts\":\\{\"identities\" : 7, \"schema_migration\" : 282}}");
        List<String> sent = Files.readAllLines(dir.resolve("sent.sql"));
        assertThat(sent.get(0)).isEqualTo("begin;");
        assertThat(sent).contains("CREATE TABLE public.identities (id uuid);");
        assertThat(sent.get(sent.size() - 1)).as("the target keeps nothing").isEqualTo("rollback;");
        assertThat(sent).noneMatch(line -> line.contains("commit"));
    }

    @Test
    void aFailedRehearsedRestoreLeavesTheRowsItQuotesOutOfTheLog(@TempDir Path dir) throws Exception {
        assumeTrue(new File("/bin/sh").canExecute(), "needs /bin/sh");
        Process p = rehearsal(dir, rehearsalStandIns(dir, "echo 'psql:<stdin>:9: ERROR:  value too long for type character varying(8)' >&2; "
                + "echo 'CONTEXT:  COPY identities, line 1, column traits: \"ada@example.org\"' >&2; exit 3"));
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();

        assertThat(p.exitValue()).as(output).isNotZero();
        assertThat(output).contains("value too long", "rolled back").doesNotContain("ada@example.org");
        assertThat(dir.resolve("termination-log")).doesNotExist();
    }

    private static void write(Path file, String content) throws Exception {
        Files.writeString(file, content + "\n");
        assumeTrue(file.toFile().setExecutable(true));
    }
}
