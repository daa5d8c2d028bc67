package io.kratosupgrade.operator.fleet;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Which Deployments a fleet selects, and the KratosUpgrade of each. The namespaces in scope are the fleet's own,
 * or those its namespaceSelector selects when the fleet lives in a fleet-admin namespace; anything else is refused,
 * so that creating a fleet in one tenant's namespace never reaches another tenant.
 */
public class FleetObserver {

    private final Set<String> adminNamespaces;

    /** @param adminNamespaces namespaces whose fleets may select other namespaces */
    public FleetObserver(Set<String> adminNamespaces) {
        this.adminNamespaces = Set.copyOf(adminNamespaces);
    }

    /**
     * @param deployments the Deployments of one namespace (from a cache)
     * @param upgrades    the KratosUpgrades of one namespace (from a cache)
     * @param namespaces  the namespaces a label selector selects
     */
    public FleetObservation observe(KratosFleetUpgrade fleet, Function<String, List<Deployment>> deployments,
                                    Function<String, List<KratosUpgrade>> upgrades,
                                    Function<io.fabric8.kubernetes.api.model.LabelSelector, Set<String>> namespaces) {
        String home = fleet.getMetadata().getNamespace();
        Set<String> scope;
        if (fleet.getSpec().getNamespaceSelector() == null) {
            scope = Set.of(home);
        } else if (adminNamespaces.contains(home)) {
            scope = namespaces.apply(fleet.getSpec().getNamespaceSelector());
        } else {
            return new FleetObservation(List.of(), new FleetObservation.Refusal("NamespaceSelectorNotAllowed",
                    "spec.namespaceSelector is honoured only for fleets in the operator's fleet-admin namespaces ("
                            + (adminNamespaces.isEmpty() ? "none are configured: set kratos-upgrade.fleet.admin-namespaces"
                            : String.join(", ", adminNamespaces.stream().sorted().toList()))
                            + "); a fleet in " + home + " selects Deployments of " + home + " only: remove namespaceSelector, "
                            + "or create the fleet in a fleet-admin namespace"));
        }
        String self = home + "/" + fleet.getMetadata().getName();
        List<FleetInstance> instances = scope.stream().sorted().flatMap(ns -> {
            Map<String, KratosUpgrade> own = new HashMap<>();
            Map<String, KratosUpgrade> others = new HashMap<>();
            for (KratosUpgrade ku : upgrades.apply(ns)) {
                boolean mine = self.equals(InstanceState.annotation(ku, FleetLabels.FLEET_ANNOTATION));
                // Several for one Deployment: the oldest, as the engine's lock serves them in that order.
                (mine ? own : others).merge(ku.getSpec().getDeploymentName(), ku, FleetObserver::older);
            }
            return deployments.apply(ns).stream()
                    .filter(d -> Selectors.matches(fleet.getSpec().getSelector(), d.getMetadata().getLabels()))
                    .sorted(Comparator.comparing(d -> d.getMetadata().getName()))
                    .map(d -> {
                        String name = d.getMetadata().getName();
                        // One made by a person (or another fleet) is respected: the fleet never adds its own beside it.
                        KratosUpgrade other = others.get(name);
                        return other != null ? new FleetInstance(ns, name, other, false)
                                : new FleetInstance(ns, name, own.get(name), own.containsKey(name));
                    });
        }).toList();
        return new FleetObservation(instances, null);
    }

    private static KratosUpgrade older(KratosUpgrade a, KratosUpgrade b) {
        String ca = a.getMetadata().getCreationTimestamp();
        String cb = b.getMetadata().getCreationTimestamp();
        if (ca == null || cb == null) return a;
        return ca.compareTo(cb) <= 0 ? a : b;
    }
}
