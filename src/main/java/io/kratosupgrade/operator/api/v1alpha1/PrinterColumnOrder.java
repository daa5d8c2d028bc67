package io.kratosupgrade.operator.api.v1alpha1;

import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.Comparator;
import java.util.List;

/**
 * The CRD generator sorts printer columns by name; {@code kubectl get ku} should read
 * NAME PHASE FROM TO AGE, and {@code kubectl get kfu} NAME TARGET DONE FAILED WAVE PHASE AGE. Run by the Quarkus build (quarkus.operator-sdk.crd.post-processor).
 */
public class PrinterColumnOrder implements CRDPostProcessor {

    static final List<String> ORDER = List.of("Phase", "From", "To", "Age", "Product", "Message");
    /** kubectl get kfu: NAME TARGET DONE FAILED WAVE PHASE AGE. */
    static final List<String> FLEET_ORDER = List.of("Target", "Done", "Failed", "Wave", "Phase", "Age", "Message");

    @Override
    public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
        if (crd instanceof CustomResourceDefinition v1) {
            List<String> order = "KratosFleetUpgrade".equals(v1.getSpec().getNames().getKind()) ? FLEET_ORDER : ORDER;
            v1.getSpec().getVersions().forEach(version -> {
                if (version.getAdditionalPrinterColumns() != null) {
                    version.getAdditionalPrinterColumns().sort(Comparator.comparingInt(c -> rank(order, c)));
                }
            });
        }
        return crd;
    }

    private static int rank(List<String> order, CustomResourceColumnDefinition column) {
        int i = order.indexOf(column.getName());
        return i < 0 ? order.size() : i;
    }
}
