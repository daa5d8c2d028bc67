package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Keeps, from a watch, the first stored version of a KratosUpgrade in each phase it went through: every status
 * write of the operator is a watch event, so no phase is missed however short. Objects are kept as the API server
 * serves them (generic, not through the Java model, which would add its own defaults). A Succeeded object whose
 * Deployment was put back is kept apart, as "Succeeded-ImageReverted", and so is an object whose spec changed
 * before the operator saw it ("GenerationNotObserved"), and one without status yet ("NoStatus").
 */
public final class PhaseRecorder implements AutoCloseable {

    private final Map<String, GenericKubernetesResource> firstByPhase = new ConcurrentSkipListMap<>();
    private final SharedIndexInformer<GenericKubernetesResource> informer;

    public PhaseRecorder(KubernetesClient client, String namespace) {
        informer = client.genericKubernetesResources(KratosUpgrade.GROUP + "/" + KratosUpgrade.VERSION, "KratosUpgrade")
                .inNamespace(namespace).inform(new ResourceEventHandler<>() {
                    public void onAdd(GenericKubernetesResource ku) { record(ku); }
                    public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource ku) { record(ku); }
                    public void onDelete(GenericKubernetesResource ku, boolean unknown) { }
                });
    }

    @SuppressWarnings("unchecked")
    private void record(GenericKubernetesResource ku) {
        Map<String, Object> status = (Map<String, Object>) ku.getAdditionalProperties().get("status");
        if (status == null || status.get("phase") == null) {
            firstByPhase.putIfAbsent("NoStatus", ku);
            return;
        }
        Object observed = status.get("observedGeneration");
        if (observed instanceof Number n && n.longValue() < ku.getMetadata().getGeneration()) {
            firstByPhase.putIfAbsent("GenerationNotObserved", ku);
            return;
        }
        List<Map<String, Object>> conditions = (List<Map<String, Object>>) status.getOrDefault("conditions", List.of());
        boolean reverted = conditions.stream().anyMatch(c -> ConditionTypes.IMAGE_REVERTED.equals(c.get("type"))
                && Objects.equals("True", c.get("status")));
        String key = (String) status.get("phase");
        firstByPhase.putIfAbsent(reverted ? key + "-ImageReverted" : key, ku);
    }

    /** Phase (or one of the special keys above) -> the first object seen in it. */
    public Map<String, GenericKubernetesResource> samples() {
        return Map.copyOf(firstByPhase);
    }

    @Override
    public void close() {
        informer.close();
    }
}
