package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.kratos.MigrateCommand;
import java.time.Duration;
import java.util.List;

/**
 * The migration Job, made from the Deployment's own pod template so the migration sees exactly what the
 * server sees: env and envFrom (the DSN), volumes and mounts (config files), service account, security
 * contexts, image pull secrets, node selection. Changed: the target image, the migrate command, no probes
 * or ports, restartPolicy Never and no retries (a migration is not retried blindly), and none of the
 * template's labels, so Services never route to the migration pod.
 */
public final class MigrationJobBuilder {

    private MigrationJobBuilder() {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, PodSpec kratosPod, Container kratosContainer,
                        String targetImage, List<String> migrateArgs, Duration timeout) {
    }

    /** The Jobs' step label of the data migration, a migration Job with the product's data migration command. */
    public static final String DATA_MIGRATION_STEP = "migrate-data";

    public static Job build(Input in) {
        return build(in, "migrate", migrateContainer("migrate", in.kratosContainer(), in.targetImage(), in.migrateArgs()));
    }

    /**
     * The data migration some upgrades need after the schema migration (Keto's legacy namespace migration): the same
     * Job with that command. The end of its log is its termination message even on failure: the operator reads the
     * records it could not move there.
     */
    public static Job buildDataMigration(Input in) {
        Container container = migrateContainer(DATA_MIGRATION_STEP, in.kratosContainer(), in.targetImage(), in.migrateArgs());
        container.setTerminationMessagePolicy("FallbackToLogsOnError");
        return build(in, DATA_MIGRATION_STEP, container);
    }

    private static Job build(Input in, String step, Container container) {
        PodSpec template = in.kratosPod();
        return OperatorJobs.wrap(in.upgrade(), in.run(), step, in.jobName(), in.timeout(), OperatorJobs.podLike(template)
                .withContainers(container)
                .withVolumes(template.getVolumes())
                .build());
    }

    /** The server container turned into the migrate command of {@code image}: same env, mounts, security context. */
    static Container migrateContainer(String name, Container server, String image, List<String> migrateArgs) {
        // Config flags may sit in command (["kratos", "serve", "-c", ...]) or in args.
        List<String> serverArgs = new java.util.ArrayList<>();
        if (server.getCommand() != null && server.getCommand().size() > 1) {
            serverArgs.addAll(server.getCommand().subList(1, server.getCommand().size()));
        }
        if (server.getArgs() != null) {
            serverArgs.addAll(server.getArgs());
        }
        // No command on the server: the image's entrypoint is the binary (kratos, hydra, keto in Ory's images), as for it.
        List<String> binary = server.getCommand() != null && !server.getCommand().isEmpty() ? List.of(server.getCommand().get(0)) : null;
        return new ContainerBuilder()
                .withName(name)
                .withImage(image)
                .withImagePullPolicy(server.getImagePullPolicy())
                .withCommand(binary)
                .withArgs(MigrateCommand.args(migrateArgs, serverArgs))
                .withEnv(server.getEnv())
                .withEnvFrom(server.getEnvFrom())
                .withVolumeMounts(server.getVolumeMounts())
                .withWorkingDir(server.getWorkingDir())
                .withResources(server.getResources())
                .withSecurityContext(server.getSecurityContext())
                .build();
    }
}
