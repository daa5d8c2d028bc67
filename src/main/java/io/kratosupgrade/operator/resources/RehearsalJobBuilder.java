package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
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
 * The Job that rehearses the migration on a copy: one pod whose containers run in order.
 * <ol>
 * <li>{@code restore} (init): restores the dump into a {@link ThrowAwayDatabase}, counts the core tables and
 *     reports them (this is the backup's verification: no second restore), counts schema_migration, stops the
 *     server;</li>
 * <li>{@code database} (native sidecar): serves that copy on 127.0.0.1 for the rest of the pod's life; its
 *     startup probe holds the next container back until it accepts connections;</li>
 * <li>{@code migrate-1} ... {@code migrate-N} (init): each hop's migrate command, built from the Deployment's own
 *     container like the production migration (config files, env), with DSN pointing at the copy;</li>
 * <li>{@code report}: counts schema_migration again and reports {"before":N,"after":M,"restoreMillis":R}.</li>
 * </ol>
 * A failing container fails the pod, and the Job, at once (no retries); a migrate container's log tail is its
 * termination message. The template's sidecars (a database proxy) and its service account token are left out,
 * and the DSN variable is replaced, so nothing in the pod is pointed at production.
 */
public final class RehearsalJobBuilder {

    public static final String STEP = "rehearse";
    public static final String RESTORE_CONTAINER = "restore";
    public static final String DATABASE_CONTAINER = "database";
    public static final String MIGRATE_CONTAINER_PREFIX = "migrate-";
    public static final String REPORT_CONTAINER = "report";

    private RehearsalJobBuilder() {
    }

    /** One migration to rehearse: the hop's image and its migrate command's arguments. */
    public record Migration(String image, List<String> migrateArgs) {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, String pvc, String file, String sha256, String toolsImage,
                        Duration timeout, PodSpec kratosPod, Container kratosContainer, List<Migration> migrations,
                        List<String> coreTables) {
    }

    public static Job build(Input in) {
        List<VolumeMount> toolMounts = List.of(ThrowAwayDatabase.backupMount(), ThrowAwayDatabase.scratchMount());
        List<EnvVar> toolEnv = ThrowAwayDatabase.env(in.file(), in.sha256());
        List<EnvVar> restoreEnv = new ArrayList<>(toolEnv);
        restoreEnv.add(new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null));
        List<Container> init = new ArrayList<>();
        init.add(tool(RESTORE_CONTAINER, in.toolsImage(), restoreEnv, toolMounts, ThrowAwayDatabase.restoreAndReport()));
        init.add(new ContainerBuilder(tool(DATABASE_CONTAINER, in.toolsImage(), toolEnv, toolMounts,
                "exec " + ThrowAwayDatabase.serverCommand("postgres", "127.0.0.1")))
                .withRestartPolicy("Always")
                .withTerminationMessagePolicy("File")
                .withNewStartupProbe()
                    .withNewExec().withCommand("pg_isready", "-q").endExec()
                    .withPeriodSeconds(1)
                    .withFailureThreshold(120)
                .endStartupProbe()
                .build());
        for (int i = 0; i < in.migrations().size(); i++) {
            Migration m = in.migrations().get(i);
            Container migrate = MigrationJobBuilder.migrateContainer(MIGRATE_CONTAINER_PREFIX + (i + 1), in.kratosContainer(), m.image(),
                    m.migrateArgs());
            List<EnvVar> env = new ArrayList<>(migrate.getEnv() == null ? List.of()
                    : migrate.getEnv().stream().filter(e -> !"DSN".equals(e.getName())).toList());
            // An explicit variable wins over envFrom and over the config file's dsn: the copy, never production.
            env.add(new EnvVar("DSN", ThrowAwayDatabase.DSN, null));
            migrate.setEnv(env);
            migrate.setTerminationMessagePolicy("FallbackToLogsOnError");
            init.add(migrate);
        }
        Container report = tool(REPORT_CONTAINER, in.toolsImage(), toolEnv, toolMounts, String.join("\n",
                "set -eu",
                "after=$(PGUSER=" + ThrowAwayDatabase.OWNER + " PGDATABASE=" + ThrowAwayDatabase.OWNER
                        + " psql -X -At -v ON_ERROR_STOP=1 -c 'select count(*) from schema_migration')",
                "printf '{\"before\":%s,\"after\":%s,\"restoreMillis\":%s}' \"$(cat " + ThrowAwayDatabase.SCRATCH + "/before)\" \"$after\" "
                        + "\"$(cat " + ThrowAwayDatabase.SCRATCH + "/restore-millis)\" > /dev/termination-log",
                "cat /dev/termination-log"));

        List<Volume> volumes = new ArrayList<>();
        if (in.kratosPod().getVolumes() != null) volumes.addAll(in.kratosPod().getVolumes());
        volumes.add(ThrowAwayDatabase.backupVolume(in.pvc()));
        volumes.add(ThrowAwayDatabase.scratchVolume());
        PodSpec pod = OperatorJobs.isolatedPodLike(in.kratosPod())
                .withInitContainers(init)
                .withContainers(report)
                .withVolumes(volumes)
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), STEP, in.jobName(), in.timeout(), pod);
    }

    private static Container tool(String name, String image, List<EnvVar> env, List<VolumeMount> mounts, String script) {
        return new ContainerBuilder()
                .withName(name)
                .withImage(image)
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", script)
                .withEnv(env)
                .withVolumeMounts(mounts)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
    }
}
