package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Duration;

/**
 * What every step Job shares: the operator's labels and annotation on the Job and its pods (the
 * informers select on them), no retries (a failed backup or migration is reported, never re-run
 * blindly), restartPolicy Never, the step's timeout as activeDeadlineSeconds, and a pod admissible under
 * the restricted Pod Security Standard ({@link RestrictedPodSecurity}).
 */
final class StepJob {

    private StepJob() {
    }

    static Job wrap(KratosUpgrade upgrade, int run, String step, String jobName, Duration timeout, PodSpec pod) {
        pod.setRestartPolicy("Never");
        RestrictedPodSecurity.apply(pod);
        return new JobBuilder()
                .withNewMetadata()
                    .withName(jobName)
                    .withNamespace(upgrade.getMetadata().getNamespace())
                    .withLabels(Labels.forJob(run, step, jobName))
                    .withAnnotations(Labels.upgradeAnnotation(upgrade))
                .endMetadata()
                .withNewSpec()
                    .withBackoffLimit(0)
                    .withActiveDeadlineSeconds(Math.max(1, timeout.toSeconds()))
                    .withNewTemplate()
                        .withNewMetadata()
                            .withLabels(Labels.forJob(run, step, jobName))
                            .withAnnotations(Labels.upgradeAnnotation(upgrade))
                        .endMetadata()
                        .withSpec(pod)
                    .endTemplate()
                .endSpec()
                .build();
    }
}
