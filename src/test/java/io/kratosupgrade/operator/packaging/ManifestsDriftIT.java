package io.kratosupgrade.operator.packaging;

import io.kratosupgrade.operator.testsupport.Processes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.kratosupgrade.operator.testsupport.Crds;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.kratosupgrade.operator.packaging.ChartRenderIT.Helm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/ (plain manifests for {@code kubectl apply -k}) is generated from the Helm chart by
 * hack/update-manifests.sh. This test regenerates it into target/ and fails when the committed tree differs, i.e.
 * when someone changed the chart (or crds/) and forgot to run the script. It also builds both overlays with
 * {@code kubectl kustomize} and checks they install what the chart installs.
 */
class ManifestsDriftIT {

    static final Path DEPLOY = Path.of("deploy");

    @Test
    void deployIsWhatUpdateManifestsGenerates() throws Exception {
        Path out = Path.of("target", "manifests-drift", "deploy");
        Processes.Result r = Processes.run(List.of("hack/update-manifests.sh", "--out", out.toString()), Map.of("HELM", Helm.binary()),
                Duration.ofMinutes(5));
        assertThat(r.exitCode()).as("hack/update-manifests.sh --out %s\n%s", out, r).isZero();

        Map<String, String> committed = tree(DEPLOY);
        Map<String, String> generated = tree(out);
        String hint = "deploy/ is out of date with helm/kratos-upgrade-operator: run hack/update-manifests.sh and commit the result";
        assertThat(committed.keySet()).as(hint).isEqualTo(generated.keySet());
        List<String> differing = generated.keySet().stream().filter(f -> !generated.get(f).equals(committed.get(f))).toList();
        assertThat(differing).as(hint + " (files that differ)").isEmpty();
    }

    @Test
    void clusterWideOverlayBuildsAndInstallsWhatTheChartInstalls() {
        List<HasMetadata> built = kustomize("deploy/overlays/cluster-wide");
        List<HasMetadata> chart = Helm.template();
        assertThat(ids(built)).isEqualTo(withNamespaceAndCrd(ids(chart)));
        assertThat(built).filteredOn(ClusterRole.class::isInstance).singleElement()
                .satisfies(cr -> assertThat(ChartRenderIT.rules(((ClusterRole) cr).getRules()))
                        .isEqualTo(ChartRenderIT.expectedOperatorRules(true)));
        assertThat(env(built)).isEqualTo(env(chart));
        Namespace ns = built.stream().filter(Namespace.class::isInstance).map(Namespace.class::cast).findFirst().orElseThrow();
        assertThat(ns.getMetadata().getLabels()).containsEntry("pod-security.kubernetes.io/enforce", "restricted");
    }

    @Test
    void namespacedOverlayBuildsAndInstallsWhatTheChartInstallsWithWatchNamespaces() {
        List<HasMetadata> built = kustomize("deploy/overlays/namespaced");
        List<HasMetadata> chart = Helm.template("--set", "watchNamespaces={kratos}");
        assertThat(ids(built)).isEqualTo(withNamespaceAndCrd(ids(chart)));
        assertThat(built).noneMatch(ClusterRole.class::isInstance);
        assertThat(env(built)).isEqualTo(env(chart))
                .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSUPGRADE_NAMESPACES", "kratos");
        assertThat(built).filteredOn(o -> o instanceof Role && "kratos".equals(o.getMetadata().getNamespace())).singleElement()
                .satisfies(r -> assertThat(ChartRenderIT.rules(((Role) r).getRules())).isEqualTo(ChartRenderIT.expectedOperatorRules(false)));
    }

    // ---------------------------------------------------------------------------------------------------

    static Set<String> withNamespaceAndCrd(Set<String> ids) {
        Set<String> out = new TreeSet<>(ids);
        out.add("Namespace//" + ChartRenderIT.NAMESPACE);
        out.add("CustomResourceDefinition//kratosupgrades.kratos-upgrade.io");
        out.add("CustomResourceDefinition//kratosfleetupgrades.kratos-upgrade.io");
        return out;
    }

    static Set<String> ids(List<HasMetadata> objects) {
        return objects.stream().map(o -> o.getKind() + "/" + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace())
                + "/" + o.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The operator container's environment, by name. */
    static Map<String, String> env(List<HasMetadata> objects) {
        Deployment d = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow();
        Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, String> env = new TreeMap<>();
        for (EnvVar e : c.getEnv()) {
            env.put(e.getName(), e.getValue() != null ? e.getValue() : String.valueOf(e.getValueFrom()));
        }
        return env;
    }

    static List<HasMetadata> kustomize(String dir) {
        String kubectl = kubectl();
        assumeTrue(kubectl != null, "no kubectl (hack/k8s-binaries.sh builds one); kustomize checks skipped");
        Processes.Result r = Processes.run(List.of(kubectl, "kustomize", dir), Map.of(), Duration.ofMinutes(2));
        assertThat(r.exitCode()).as("kubectl kustomize %s\n%s", dir, r).isZero();
        List<HasMetadata> objects = Helm.parse(r.stdout());
        assertThat(objects).filteredOn(CustomResourceDefinition.class::isInstance).hasSize(Crds.FILES.size());
        return objects;
    }

    /** -Dkubectl.binary, KUBECTL of the local cluster's env file, hack/k8s-binaries.sh's, or kubectl on PATH. */
    static String kubectl() {
        List<String> candidates = new ArrayList<>();
        candidates.add(System.getProperty("kubectl.binary", ""));
        try {
            Path envFile = Path.of(System.getProperty("e2e.envFile", "/var/lib/kratos-upgrade-operator/cluster/env"));
            if (Files.isReadable(envFile)) {
                Files.readAllLines(envFile).stream().filter(l -> l.startsWith("KUBECTL=")).map(l -> l.substring(8).strip())
                        .forEach(candidates::add);
            }
        } catch (IOException ignored) {
            // next candidate
        }
        Processes.Result bin = Processes.run(List.of("hack/k8s-binaries.sh", "--print-bin-dir"), Map.of(), Duration.ofSeconds(30));
        if (bin.exitCode() == 0 && !bin.stdout().isBlank()) {
            candidates.add(bin.stdout().strip() + "/kubectl");
        }
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).map(p -> p + "/kubectl").forEach(candidates::add);
        return candidates.stream().filter(c -> !c.isBlank() && Files.isExecutable(Path.of(c))).findFirst().orElse(null);
    }

    static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Files.readString(p));
            }
        }
        return files;
    }
}
