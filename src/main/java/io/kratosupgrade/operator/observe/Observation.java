package io.kratosupgrade.operator.observe;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the cluster looks like for one KratosUpgrade, read before any decision. Some parts are read only
 * in the phases that need them (see {@link ClusterObserver}); they are null elsewhere.
 *
 * @param deployment     the Kratos Deployment, or null when it does not exist
 * @param jobs           this object's Jobs by name
 * @param podsByJob      pods of those Jobs, by Job name
 * @param podCreationFailures by Job name, why the Job controller cannot create the Job's pod (FailedCreate events)
 * @param peers          other KratosUpgrades in the namespace targeting the same Deployment
 * @param lock           the Lease that locks the Deployment for one run, or null when it is free
 * @param backupVolumeExists whether the backup PVC exists (Preflight only)
 * @param dsn            where the DSN is and its value (Preflight, and BackingUp before the Job exists)
 * @param config         the configuration the Kratos container runs with (Preflight only)
 * @param deploymentPods the Deployment's own pods, terminating ones included (ScalingDown and Verifying only)
 * @param migrationSlot  whether the operator-wide bound on concurrent migrations lets this run create its migration Job
 *                       (Migrating, before the Job exists; true elsewhere)
 * @param blueGreen      the new side, the Services and the target database (BlueGreen runs; {@link BlueGreenObservation#NONE}
 *                       elsewhere)
 */
public record Observation(Deployment deployment, Map<String, Job> jobs, Map<String, List<Pod>> podsByJob,
                          Map<String, String> podCreationFailures, List<KratosUpgrade> peers, Lease lock,
                          Boolean backupVolumeExists, DsnResolution dsn, EffectiveConfig config, List<Pod> deploymentPods,
                          boolean migrationSlot, BlueGreenObservation blueGreen) {

    public Optional<Job> job(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(jobs.get(name));
    }

    public List<Pod> podsOf(String jobName) {
        return podsByJob.getOrDefault(jobName, List.of());
    }

    public String podCreationFailure(String jobName) {
        return podCreationFailures.get(jobName);
    }
}
