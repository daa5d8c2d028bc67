package io.kratosupgrade.operator.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;

/**
 * Holds new Kratos pods unready for as long as a test needs, through a pod readiness gate: pods installed with
 * {@link #CONDITION} in {@code spec.readinessGates} are reported Ready by the kubelet only once that condition is
 * True, and this class sets it on every such pod unless a hold is on. A rollout then stays half-way, and a
 * fault injected there cannot be outrun by the rollout finishing, however slowly the fault itself happens.
 */
final class ReadinessHold implements AutoCloseable {

    static final String CONDITION = "e2e.kratos-upgrade.io/admitted";

    private final KubernetesClient client;
    private final String namespace;
    private final SharedIndexInformer<Pod> pods;
    private volatile boolean held;

    ReadinessHold(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.pods = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(Pod pod) { admit(pod); }
            public void onUpdate(Pod old, Pod pod) { admit(pod); }
            public void onDelete(Pod pod, boolean unknown) { }
        });
    }

    /** From now on new pods stay unready; closing the returned hold admits them. */
    AutoCloseable hold() {
        held = true;
        return () -> {
            held = false;
            pods.getStore().list().forEach(this::admit);
        };
    }

    private void admit(Pod pod) {
        if (held || pod.getMetadata().getDeletionTimestamp() != null || !gated(pod) || admitted(pod)) return;
        String condition = "{\"status\":{\"conditions\":[{\"type\":\"" + CONDITION + "\",\"status\":\"True\",\"lastTransitionTime\":\""
                + Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"}]}}";
        try {
            client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).subresource("status")
                    .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), condition);
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 404) throw e; // a pod that just went away needs no admission
        }
    }

    private static boolean gated(Pod pod) {
        return pod.getSpec().getReadinessGates() != null
                && pod.getSpec().getReadinessGates().stream().anyMatch(g -> CONDITION.equals(g.getConditionType()));
    }

    private static boolean admitted(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> CONDITION.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    @Override
    public void close() {
        pods.close();
    }
}
