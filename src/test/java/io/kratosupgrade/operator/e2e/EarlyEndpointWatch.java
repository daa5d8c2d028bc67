package io.kratosupgrade.operator.e2e;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches a Service's EndpointSlices for pods that must not get traffic yet: each time a slice lists one of them as a
 * ready endpoint, the Service's selector is read at once (from the API server), and if it does not carry
 * {@code requiredLabel} yet the sighting is recorded. The endpoints controller builds slices from the selector, so a
 * slice listing such a pod while the selector lacks the label means the pod got traffic by the selector that was
 * meant to exclude it (BlueGreen: new pods serving before the switch, when the Services were not pinned to the old
 * pods). Close it before the selector is meant to lose the label again.
 */
final class EarlyEndpointWatch implements AutoCloseable {

    private final KubernetesClient client;
    private final String namespace;
    private final String service;
    private final String podPrefix;
    private final String requiredLabel;
    private final SharedIndexInformer<EndpointSlice> informer;
    private final SharedIndexInformer<io.fabric8.kubernetes.api.model.Service> services;
    /** "time: pod (selector ...)" for every early sighting. */
    final List<String> early = new CopyOnWriteArrayList<>();
    /** When this watch first saw the Service's selector carry {@code requiredLabel} (null: not yet). */
    volatile Instant labelledAt;

    /**
     * @param podPrefix     names of the pods that must wait (a Deployment's name and "-")
     * @param requiredLabel the selector key that admits them
     */
    EarlyEndpointWatch(KubernetesClient client, String namespace, String service, String podPrefix, String requiredLabel) {
        this.client = client;
        this.namespace = namespace;
        this.service = service;
        this.podPrefix = podPrefix;
        this.requiredLabel = requiredLabel;
        this.informer = client.discovery().v1().endpointSlices().inNamespace(namespace)
                .withLabel("kubernetes.io/service-name", service).inform(new ResourceEventHandler<>() {
                    public void onAdd(EndpointSlice slice) { check(slice); }
                    public void onUpdate(EndpointSlice old, EndpointSlice slice) { check(slice); }
                    public void onDelete(EndpointSlice slice, boolean unknown) { }
                });
        this.services = client.services().inNamespace(namespace).withField("metadata.name", service).inform(new ResourceEventHandler<>() {
            public void onAdd(io.fabric8.kubernetes.api.model.Service s) { labelled(s); }
            public void onUpdate(io.fabric8.kubernetes.api.model.Service old, io.fabric8.kubernetes.api.model.Service s) { labelled(s); }
            public void onDelete(io.fabric8.kubernetes.api.model.Service s, boolean unknown) { }
        });
    }

    private void labelled(io.fabric8.kubernetes.api.model.Service s) {
        if (labelledAt == null && s.getSpec().getSelector() != null && s.getSpec().getSelector().containsKey(requiredLabel)) {
            labelledAt = Instant.now();
        }
    }

    private void check(EndpointSlice slice) {
        if (slice.getEndpoints() == null) return;
        List<String> waiting = slice.getEndpoints().stream()
                .filter(e -> e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady()))
                .filter(e -> e.getTargetRef() != null && e.getTargetRef().getName() != null && e.getTargetRef().getName().startsWith(podPrefix))
                .map(e -> e.getTargetRef().getName()).toList();
        if (waiting.isEmpty()) return;
        Map<String, String> selector = client.services().inNamespace(namespace).withName(service).get().getSpec().getSelector();
        if (selector == null || !selector.containsKey(requiredLabel)) {
            early.add(Instant.now() + ": " + waiting + " (selector " + selector + ")");
        }
    }

    @Override
    public void close() {
        informer.close();
        services.close();
    }
}
