package io.kratosupgrade.operator.api.v1alpha1;

import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.Comparator;
import java.util.List;

/**
 * The CRD generator sorts printer columns by name; {@code kubectl get ku} should read
 * NAME PHASE FROM TO AGE. Run by the Quarkus build (quarkus.operator-sdk.crd.post-processor).
 */
public class PrinterColumnOrder implements CRDPostProcessor {

    static final List<String> ORDER = List.of("Phase", "From", "To", "Age", "Message");

    @Override
    public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
        if (crd instanceof CustomResourceDefinition v1) {
            v1.getSpec().getVersions().forEach(version -> {
                if (version.getAdditionalPrinterColumns() != null) {
                    version.getAdditionalPrinterColumns().sort(Comparator.comparingInt(PrinterColumnOrder::rank));
                }
            });
        }
        return crd;
    }

    private static int rank(CustomResourceColumnDefinition column) {
        int i = ORDER.indexOf(column.getName());
        return i < 0 ? ORDER.size() : i;
    }
}
