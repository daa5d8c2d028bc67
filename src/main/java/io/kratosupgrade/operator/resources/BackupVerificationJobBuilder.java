package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Job that proves a dump restores, when the migration is not rehearsed (a rehearsal Job's first container does
 * the same and serves as the verification): checksum, restore into a {@link ThrowAwayDatabase} in its own pod, row
 * counts of the product's core tables. It reports {"restoreMillis":N,"counts":{...}} as its termination
 * message; the operator compares the counts with those taken in the dump's snapshot. The pod has no
 * credentials and no route to production it could use: no Secret, no sidecar, no service account token.
 */
public final class BackupVerificationJobBuilder {

    public static final String STEP = "verify";

    private BackupVerificationJobBuilder() {
    }

    public record Input(KratosUpgrade upgrade, int run, String jobName, String pvc, String file, String sha256, String image,
                        Duration timeout, PodSpec kratosPod, List<String> coreTables) {
    }

    public static Job build(Input in) {
        List<EnvVar> env = new ArrayList<>(ThrowAwayDatabase.env(in.file(), in.sha256()));
        env.add(new EnvVar("COUNTS_SQL", BackupJobBuilder.countsSql(in.coreTables()), null));
        Container verify = new ContainerBuilder()
                .withName(STEP)
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", SCRIPT)
                .withEnv(env)
                .withVolumeMounts(ThrowAwayDatabase.backupMount(), ThrowAwayDatabase.scratchMount())
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), STEP, in.jobName(), in.timeout(), OperatorJobs.isolatedPodLike(in.kratosPod())
                .withContainers(verify)
                .withVolumes(ThrowAwayDatabase.backupVolume(in.pvc()), ThrowAwayDatabase.scratchVolume())
                .build());
    }

    static final String SCRIPT = ThrowAwayDatabase.restoreAndReport();
}
