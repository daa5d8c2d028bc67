package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * crds/ is the one source of truth for the CRD (itself checked against the Java model by CrdDriftIT); the Helm
 * chart and the kustomize base carry copies that hack/update-manifests.sh writes. They must not drift.
 */
class ChartCrdDriftIT {

    static final String CRD = "kratosupgrades.kratos-upgrade.io-v1.yml";
    static final Path SOURCE = Path.of("crds", CRD);

    @Test
    void chartCrdIsACopyOfCrds() throws Exception {
        Path copy = Path.of("helm", "kratos-upgrade-operator", "crds", CRD);
        assertThat(copy).as("the chart's CRD").exists();
        assertThat(Files.readString(copy))
                .as("%s differs from %s: run hack/update-manifests.sh and commit the result", copy, SOURCE)
                .isEqualTo(Files.readString(SOURCE));
    }

    @Test
    void kustomizeBaseCrdIsACopyOfCrds() throws Exception {
        Path copy = Path.of("deploy", "base", "crds", CRD);
        assertThat(copy).as("the kustomize base's CRD").exists();
        assertThat(Files.readString(copy))
                .as("%s differs from %s: run hack/update-manifests.sh and commit the result", copy, SOURCE)
                .isEqualTo(Files.readString(SOURCE));
    }

    @Test
    void chartHasNoOtherCrd() throws Exception {
        try (var files = Files.list(Path.of("helm", "kratos-upgrade-operator", "crds"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly(CRD);
        }
    }
}
