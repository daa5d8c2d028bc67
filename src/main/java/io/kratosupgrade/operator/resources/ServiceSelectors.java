package io.kratosupgrade.operator.resources;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Service;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BlueGreen's traffic switch, as Service selectors. Both sides' pods carry the old pod template's labels, so the
 * selector a Service had matches both: until the switch it also names the old pods' pod-template-hash (which no
 * new pod has), after it the new side's colour label (which no old pod has). Either way one patch per Service.
 */
public final class ServiceSelectors {

    /** The label the new side's pod template gets, with the new Deployment's name as its value. */
    public static final String COLOUR = KratosUpgrade.GROUP + "/colour";
    /** Set by the Deployment controller on every pod of a ReplicaSet. */
    public static final String POD_TEMPLATE_HASH = "pod-template-hash";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ServiceSelectors() {
    }

    /** Services whose non-empty selector matches the pod template's labels: those that send traffic to Kratos. */
    public static List<Service> selecting(List<Service> services, Map<String, String> podLabels) {
        return services.stream()
                .filter(s -> s.getSpec() != null && s.getSpec().getSelector() != null && !s.getSpec().getSelector().isEmpty())
                .filter(s -> s.getSpec().getSelector().entrySet().stream()
                        .allMatch(e -> e.getValue().equals(podLabels.get(e.getKey()))))
                .toList();
    }

    /** Only the old side's pods: the original selector and their pod-template-hash. */
    public static Map<String, String> oldSide(Map<String, String> original, String podTemplateHash) {
        Map<String, String> selector = new LinkedHashMap<>(original);
        selector.put(POD_TEMPLATE_HASH, podTemplateHash);
        return selector;
    }

    /** Only the new side's pods: the original selector and the colour. */
    public static Map<String, String> newSide(Map<String, String> original, String colour) {
        Map<String, String> selector = new LinkedHashMap<>(original);
        selector.put(COLOUR, colour);
        return selector;
    }

    /** The colour label value for a new Deployment (label values are at most 63 characters). */
    public static String colour(String newDeployment) {
        return Names.bounded(newDeployment, 63);
    }

    /** A JSON patch that replaces the whole selector. */
    public static String patch(Map<String, String> selector) {
        try {
            return JSON.writeValueAsString(List.of(Map.of("op", "replace", "path", "/spec/selector", "value", selector)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
