package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import io.kratosupgrade.operator.testsupport.Crds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * crds/ is the one source of truth for the CRD (itself checked against the Java model by CrdDriftIT); the Helm
 * chart and the kustomize base carry copies that hack/update-manifests.sh writes. They must not drift.
 */
class ChartCrdDriftIT {

    @ParameterizedTest
    @ValueSource(strings = {Crds.UPGRADES, Crds.FLEETS})
    void chartCrdIsACopyOfCrds(String crd) throws Exception {
        Path copy = Path.of("helm", "kratos-upgrade-operator", "crds", crd);
        assertThat(copy).as("the chart's CRD").exists();
        assertThat(Files.readString(copy))
                .as("%s differs from %s: run hack/update-manifests.sh and commit the result", copy, Crds.committed(crd))
                .isEqualTo(Files.readString(Crds.committed(crd)));
    }

    @ParameterizedTest
    @ValueSource(strings = {Crds.UPGRADES, Crds.FLEETS})
    void kustomizeBaseCrdIsACopyOfCrds(String crd) throws Exception {
        Path copy = Path.of("deploy", "base", "crds", crd);
        assertThat(copy).as("the kustomize base's CRD").exists();
        assertThat(Files.readString(copy))
                .as("%s differs from %s: run hack/update-manifests.sh and commit the result", copy, Crds.committed(crd))
                .isEqualTo(Files.readString(Crds.committed(crd)));
    }

    @Test
    void chartHasNoOtherCrd() throws Exception {
        try (var files = Files.list(Path.of("helm", "kratos-upgrade-operator", "crds"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(Crds.FILES);
        }
    }
}
