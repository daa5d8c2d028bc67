package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.List;
import java.util.Optional;

/** Picks the product's container of a pod spec (Kratos's, Hydra's or Keto's). */
public final class Containers {

    private Containers() {
    }

    /**
     * The named container; without a name, the only container, or the one named {@code defaultName} (the product's:
     * "kratos", "hydra", "keto"). Empty when none (or no single one) matches.
     */
    public static Optional<Container> of(PodSpec spec, String name, String defaultName) {
        List<Container> containers = spec.getContainers() == null ? List.of() : spec.getContainers();
        if (name != null) {
            return containers.stream().filter(c -> name.equals(c.getName())).findFirst();
        }
        if (containers.size() == 1) {
            return Optional.of(containers.get(0));
        }
        List<Container> named = containers.stream().filter(c -> defaultName.equals(c.getName())).toList();
        return named.size() == 1 ? Optional.of(named.get(0)) : Optional.empty();
    }

    public static int indexOf(PodSpec spec, String name) {
        for (int i = 0; i < spec.getContainers().size(); i++) {
            if (spec.getContainers().get(i).getName().equals(name)) return i;
        }
        return -1;
    }
}
