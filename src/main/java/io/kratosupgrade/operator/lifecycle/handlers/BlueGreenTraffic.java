package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.ServiceSelection;
import io.kratosupgrade.operator.kube.PodImages;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Where the Services recorded in preflight send traffic, and the patches that move it. */
final class BlueGreenTraffic {

    private BlueGreenTraffic() {
    }

    /** Selectors that still differ from {@code wanted} (a Service deleted meanwhile is left alone). */
    static List<Action> towards(RunContext ctx, Function<ServiceSelection, Map<String, String>> wanted) {
        List<Action> actions = new ArrayList<>();
        for (ServiceSelection recorded : ctx.status().getBlueGreen().getServices()) {
            Optional<Service> service = ctx.observed().blueGreen().service(recorded.getName());
            Map<String, String> selector = wanted.apply(recorded);
            if (service.isPresent() && !selector.equals(service.get().getSpec().getSelector())) {
                actions.add(new Action.SetServiceSelector(recorded.getName(), selector));
            }
        }
        return actions;
    }

    static List<Action> toOldSide(RunContext ctx) {
        String hash = ctx.status().getBlueGreen().getOldPodTemplateHash();
        return towards(ctx, s -> ServiceSelectors.oldSide(s.getSelector(), hash));
    }

    static List<Action> toNewSide(RunContext ctx) {
        String colour = ServiceSelectors.colour(ctx.status().getBlueGreen().getNewDeployment());
        return towards(ctx, s -> ServiceSelectors.newSide(s.getSelector(), colour));
    }

    static List<Action> toOriginal(RunContext ctx) {
        return towards(ctx, ServiceSelection::getSelector);
    }

    static String names(BlueGreenStatus blueGreen) {
        return blueGreen.getServices().stream().map(ServiceSelection::getName).collect(Collectors.joining(", "));
    }

    /**
     * The pod-template-hash of the old side's ready pods: the one their Services keep selecting until the switch;
     * empty when they do not agree on one (the old Deployment is rolling) or none is ready.
     */
    static Optional<String> oldPodTemplateHash(List<Pod> oldPods) {
        List<String> hashes = oldPods.stream().filter(PodImages::isReady)
                .map(p -> p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(ServiceSelectors.POD_TEMPLATE_HASH))
                .distinct().toList();
        return hashes.size() == 1 && hashes.get(0) != null ? Optional.of(hashes.get(0)) : Optional.empty();
    }
}
