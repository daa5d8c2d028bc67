package io.kratosupgrade.operator.observe;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import java.util.Optional;

/**
 * What a BlueGreen run reads besides what every run reads: the new Deployment and its pods, the namespace's
 * Services, and the target database's DSN (only where a Job that connects to it is about to be created).
 *
 * @param newSide      the new Deployment, or null when it does not exist
 * @param newSidePods  its pods, terminating ones included
 * @param services     every Service of the namespace
 * @param targetDsn    spec.blueGreen.targetDatabase's value, or null when not read in this phase
 * @param publisherDsn spec.blueGreen.replication.publisherDatabase's value, or null when not set or not read
 * @param subscriberDsn spec.blueGreen.replication.subscriberDatabase's value, or null when not set or not read
 */
public record BlueGreenObservation(Deployment newSide, List<Pod> newSidePods, List<Service> services, DsnResolution targetDsn,
                                   DsnResolution publisherDsn, DsnResolution subscriberDsn) {

    public static final BlueGreenObservation NONE = new BlueGreenObservation(null, List.of(), List.of(), null, null, null);

    public Optional<Service> service(String name) {
        return services.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst();
    }
}
