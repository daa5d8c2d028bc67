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
import java.util.List;

/**
 * The backup Job: the dump tool with the connection taken from the run's credentials Secret, writing to the
 * backup volume. It writes to a temporary name and renames at the end, so a file under the final name is
 * always a complete dump; it refuses to overwrite an existing dump; it reports size and SHA-256 through its
 * termination message.
 */
public final class BackupJobBuilder {

    public static final String BACKUP_MOUNT = "/backup";
    static final String BACKUP_VOLUME = "kratos-upgrade-backup";

    private BackupJobBuilder() {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, String credentialsSecret, String pvc,
                        String file, DatabaseKind kind, String image, Duration timeout,
                        PodSpec kratosPod, Container kratosContainer) {
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

        Container dump = new ContainerBuilder()
                .withName("backup")
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", script(in.kind()))
                .withEnv(new EnvVar("BACKUP_FILE", in.file(), null))
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                .withVolumeMounts(mounts)
                .withTerminationMessagePolicy("File")
                .build();

        return OperatorJobs.wrap(in.upgrade(), in.run(), "backup", in.jobName(), in.timeout(), OperatorJobs.podLike(in.kratosPod())
                .withContainers(dump)
                .withVolumes(volumes)
                .build());
    }

    /** POSIX sh; every value comes from the environment, nothing secret is on the command line. */
    static String script(DatabaseKind kind) {
        String dump = switch (kind) {
            case POSTGRES -> "pg_dump --format=custom --no-password --file=\"$partial\"";
            case MYSQL -> "mysqldump --single-transaction --routines --triggers --host=\"$DB_HOST\" --port=\"$DB_PORT\" "
                    + "${DB_USER:+--user=\"$DB_USER\"} \"$DB_NAME\" > \"$partial\"";
            default -> throw new IllegalArgumentException("no dump tool for " + kind.id());
        };
        return String.join("\n",
                "set -eu",
                "out=\"" + BACKUP_MOUNT + "/$BACKUP_FILE\"",
                "partial=\"$out.partial\"",
                "if [ -e \"$out\" ]; then echo \"refusing to overwrite existing backup $out\" >&2; exit 1; fi",
                "rm -f \"$partial\"",
                dump,
                "mv \"$partial\" \"$out\"",
                "bytes=$(wc -c < \"$out\" | tr -d ' ')",
                "sha=$(sha256sum \"$out\" | cut -d' ' -f1)",
                "echo \"$sha  $BACKUP_FILE\" > \"$out.sha256\"",
                "echo \"backup written: $out ($bytes bytes, sha256 $sha)\"",
                "printf '{\"bytes\":%s,\"sha256\":\"%s\"}' \"$bytes\" \"$sha\" > /dev/termination-log");
    }
}
