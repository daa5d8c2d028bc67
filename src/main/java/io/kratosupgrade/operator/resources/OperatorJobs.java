package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Duration;
import java.util.List;

/**
 * What every step Job shares: the operator's labels and annotation on the Job and its pods (the
 * informers select on them), no retries (a failed backup or migration is reported, never re-run
 * blindly), restartPolicy Never, the step's timeout as activeDeadlineSeconds, and a pod admissible under
 * the restricted Pod Security Standard ({@link RestrictedPodSecurity}).
 */
final class OperatorJobs {

    private OperatorJobs() {
    }

    /**
     * The pod-level settings a step's pod takes from the Kratos pod template, so it reaches the database the
     * way Kratos does: service account (workload identity), security context, pull secrets, node selection,
     * priority, host aliases and DNS (how the database host resolves), and native sidecars (restartPolicy
     * Always: a database proxy). Other init containers (an auto-migrate initContainer!) are left out, and so
     * is affinity: anti-affinity aimed at the Kratos pods could leave a small cluster with no node for the step.
     */
    static PodSpecBuilder podLike(PodSpec template) {
        return new PodSpecBuilder()
                .withServiceAccountName(template.getServiceAccountName())
                .withAutomountServiceAccountToken(template.getAutomountServiceAccountToken())
                .withSecurityContext(template.getSecurityContext())
                .withImagePullSecrets(template.getImagePullSecrets())
                .withNodeSelector(template.getNodeSelector())
                .withTolerations(template.getTolerations())
                .withPriorityClassName(template.getPriorityClassName())
                .withHostAliases(template.getHostAliases())
                .withDnsPolicy(template.getDnsPolicy())
                .withDnsConfig(template.getDnsConfig())
                .withInitContainers(template.getInitContainers() == null ? List.of()
                        : template.getInitContainers().stream().filter(c -> "Always".equals(c.getRestartPolicy())).toList());
    }

    /**
     * {@link #podLike} for a pod that must not reach production: no sidecars of the template (a database proxy
     * would connect it) and no service account token. It keeps the security context, so it runs as the same user
     * as the backup Job that wrote the dump (dumps are readable by their owner only).
     */
    static PodSpecBuilder isolatedPodLike(PodSpec template) {
        return podLike(template).withInitContainers(List.of()).withAutomountServiceAccountToken(false);
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
