package io.kratosupgrade.operator.observe;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.processing.event.source.filter.GenericFilter;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.preflight.GitOpsOwnership;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Keeps of each cached object only what the operator reads: with a thousand tenants the informer caches were most
 * of the heap, and most of that was what nobody reads (managedFields, the scripts in the pod templates of
 * finished Jobs).
 *
 * <p>The pruning runs as the informers' generic event filter (which always lets the event through), because that
 * sees the very instance the informer has just stored. An item store would be the obvious place, but JOSDK gives
 * one item store instance to the informers of every watched namespace, and they would then overwrite each
 * other's contents. An object whose event JOSDK skips (the echo of the operator's own create) stays whole until
 * its next change.
 */
public final class CachePruning {

    private static final KubernetesSerialization VIEW = new KubernetesSerialization();
    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private CachePruning() {
    }

    /** KratosUpgrades: everything but their managedFields (which repeat the shape of the whole status). */
    public static class KratosUpgrades implements GenericFilter<KratosUpgrade> {
        @Override
        public boolean accept(KratosUpgrade ku) {
            metadata(ku.getMetadata());
            return true;
        }
    }

    /**
     * A fleet's view of KratosUpgrades (its own informer, its own objects): the spec, and of the status only what
     * tells the instance's state (phase, the generation and retry the run took up, the failure).
     */
    public static class FleetUpgrades implements GenericFilter<KratosUpgrade> {
        @Override
        public boolean accept(KratosUpgrade ku) {
            metadata(ku.getMetadata());
            KratosUpgradeStatus status = ku.getStatus();
            if (status != null) {
                KratosUpgradeStatus kept = new KratosUpgradeStatus();
                kept.setPhase(status.getPhase());
                kept.setRunGeneration(status.getRunGeneration());
                kept.setRetryToken(status.getRetryToken());
                kept.setFailureReason(status.getFailureReason());
                kept.setFailureMessage(status.getFailureMessage());
                ku.setStatus(kept);
            }
            return true;
        }
    }

    /** A fleet's view of Deployments: it selects them by their labels and names, and reads nothing else. */
    public static GenericFilter<Deployment> fleetDeployments() {
        return pruning(d -> {
            metadata(d.getMetadata());
            d.setSpec(null);
            d.setStatus(null);
        });
    }

    /**
     * For the fleet's informers: whether an update changed what the pruned view keeps. Most updates of a
     * KratosUpgrade (progress) or a Deployment (its status) change nothing a fleet reads, and need not wake it.
     */
    public static <R extends HasMetadata> OnUpdateFilter<R> viewChanged() {
        return (newer, older) -> !VIEW.asJson(view(newer)).equals(VIEW.asJson(view(older)));
    }

    private static Object view(HasMetadata r) {
        ObjectMeta m = r.getMetadata();
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("generation", m.getGeneration());
        view.put("labels", m.getLabels());
        view.put("annotations", m.getAnnotations());
        view.put("deletionTimestamp", m.getDeletionTimestamp());
        view.put("object", r instanceof KratosUpgrade ku ? Arrays.asList(ku.getSpec(), ku.getStatus()) : null);
        return view;
    }

    /** Deployments: only the managedFields of GitOps controllers, which preflight reads to find who owns the image. */
    public static GenericFilter<Deployment> deployments() {
        return pruning(d -> {
            if (d.getMetadata().getManagedFields() != null) {
                d.getMetadata().getManagedFields().removeIf(f -> !GitOpsOwnership.isGitOpsManager(f.getManager()));
            }
            if (d.getMetadata().getAnnotations() != null) d.getMetadata().getAnnotations().remove(LAST_APPLIED);
        });
    }

    /** The operator's Jobs: their status and spec.suspend; the pod template (its scripts) is never read again. */
    public static GenericFilter<Job> jobs() {
        return pruning(job -> {
            metadata(job.getMetadata());
            if (job.getSpec() != null) job.getSpec().setTemplate(null);
        });
    }

    /**
     * The pods of the operator's Jobs: metadata, and of the status what a step reads (the phase, the conditions that
     * say why a pod is not scheduled, each container's name and state with its exit code and termination message).
     * Images, IDs, addresses, resources and volume mounts go: a thousand tenants keep three such pods each.
     */
    public static GenericFilter<Pod> jobPods() {
        return pruning(pod -> {
            metadata(pod.getMetadata());
            pod.setSpec(null);
            PodStatus status = pod.getStatus();
            if (status == null) return;
            PodStatus kept = new PodStatus();
            kept.setPhase(status.getPhase());
            if (status.getConditions() != null) {
                kept.setConditions(status.getConditions().stream().map(c -> {
                    PodCondition condition = new PodCondition();
                    condition.setType(c.getType());
                    condition.setStatus(c.getStatus());
                    condition.setReason(c.getReason());
                    condition.setMessage(c.getMessage());
                    condition.setLastTransitionTime(c.getLastTransitionTime());
                    return condition;
                }).toList());
            }
            kept.setInitContainerStatuses(states(status.getInitContainerStatuses()));
            kept.setContainerStatuses(states(status.getContainerStatuses()));
            pod.setStatus(kept);
        });
    }

    private static List<ContainerStatus> states(List<ContainerStatus> statuses) {
        if (statuses == null) return null;
        return statuses.stream().map(cs -> {
            ContainerStatus kept = new ContainerStatus();
            kept.setName(cs.getName());
            kept.setState(cs.getState());
            return kept;
        }).toList();
    }

    private static <R extends HasMetadata> GenericFilter<R> pruning(Consumer<R> prune) {
        return r -> {
            prune.accept(r);
            return true;
        };
    }

    private static void metadata(ObjectMeta metadata) {
        metadata.setManagedFields(null);
        if (metadata.getAnnotations() != null) metadata.getAnnotations().remove(LAST_APPLIED);
    }
}
