package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The committed CRDs under crds/ (the files users install), and applying them to a test cluster. */
public final class Crds {

    public static final String UPGRADES = "kratosupgrades.kratos-upgrade.io-v1.yml";
    public static final String FLEETS = "kratosfleetupgrades.kratos-upgrade.io-v1.yml";
    public static final List<String> FILES = List.of(UPGRADES, FLEETS);

    private Crds() {
    }

    public static Path committed(String file) {
        return Path.of("crds", file);
    }

    /** Server-side applies every CRD and waits until each is Established. */
    public static void apply(KubernetesClient client) {
        for (String file : FILES) {
            try (FileInputStream in = new FileInputStream(committed(file).toFile())) {
                CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
                client.resource(crd).forceConflicts().serverSideApply();
                client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                        .waitUntilCondition(c -> c.getStatus() != null && c.getStatus().getConditions() != null
                                && c.getStatus().getConditions().stream()
                                        .anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                                60, TimeUnit.SECONDS);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + committed(file) + " (run from the project root)", e);
            }
        }
    }
}
