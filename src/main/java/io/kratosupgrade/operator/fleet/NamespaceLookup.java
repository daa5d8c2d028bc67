package io.kratosupgrade.operator.fleet;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The namespaces a fleet's namespaceSelector selects, listed from the API server and kept for a short while: a fleet
 * reconciles on every change of its instances, and a list per reconcile would cost more than the namespaces change.
 * Only fleets with a namespaceSelector use it, so a namespaced install (which may not list namespaces) never does.
 */
public class NamespaceLookup {

    static final Duration TTL = Duration.ofSeconds(10);

    private record Entry(Set<String> names, Instant listedAt) {
    }

    private final KubernetesClient client;
    private final Clock clock;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    public NamespaceLookup(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    public Set<String> select(LabelSelector selector) {
        String key = client.getKubernetesSerialization().asJson(selector);
        Instant now = clock.instant();
        Entry entry = cache.get(key);
        if (entry == null || entry.listedAt().plus(TTL).isBefore(now)) {
            Set<String> names = client.namespaces().withLabelSelector(selector).list().getItems().stream()
                    .filter(ns -> ns.getMetadata().getDeletionTimestamp() == null)
                    .map(ns -> ns.getMetadata().getName()).collect(Collectors.toUnmodifiableSet());
            entry = new Entry(names, now);
            cache.put(key, entry);
        }
        return entry.names();
    }
}
