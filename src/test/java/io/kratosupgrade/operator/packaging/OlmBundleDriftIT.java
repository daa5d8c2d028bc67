package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.kratosupgrade.operator.packaging.ChartRenderIT.Helm;
import io.kratosupgrade.operator.testsupport.Crds;
import io.kratosupgrade.operator.testsupport.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * bundle/ (the OLM bundle: ClusterServiceVersion, CRDs, metrics Service, metadata) is generated from the Helm chart by
 * hack/update-bundle.sh. This test regenerates it into target/ and fails when the committed tree differs, i.e. when
 * someone changed the chart, crds/, the examples or hack/olm and forgot to run the script; it runs the Operator
 * Framework's validators on it (github.com/operator-framework/api, as {@code operator-sdk bundle validate} with the
 * operatorframework suite does), and checks the CSV installs what the chart installs.
 *
 * <p>kuo-olm (the generator and validator): {@code -Dolm.binary=...} (hack/test.sh passes {@code $(hack/olm.sh)}),
 * else this test runs {@code hack/olm.sh}, which builds it once (cached). helm as in {@link ChartRenderIT}.
 */
class OlmBundleDriftIT {

    static final Path BUNDLE = Path.of("bundle");
    static final Path CSV = BUNDLE.resolve("manifests").resolve("kratos-upgrade-operator.clusterserviceversion.yaml");
    static final List<String> TARGET_NAMESPACES_ENV = List.of("QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSUPGRADE_NAMESPACES",
            "QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSFLEETUPGRADE_NAMESPACES");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static String kuoOlm() {
        return Processes.builtTool("olm.binary", List.of("hack/olm.sh"), Duration.ofMinutes(30));
    }

    @Test
    void bundleIsWhatUpdateBundleGenerates() throws Exception {
        Path out = Path.of("target", "olm-drift", "bundle");
        Processes.Result r = Processes.run(List.of("hack/update-bundle.sh", "--out", out.toString()),
                Map.of("HELM", Helm.binary(), "KUO_OLM", kuoOlm()), Duration.ofMinutes(5));
        assertThat(r.exitCode()).as("hack/update-bundle.sh --out %s\n%s", out, r).isZero();

        Map<String, String> committed = ManifestsDriftIT.tree(BUNDLE);
        Map<String, String> generated = ManifestsDriftIT.tree(out);
        String hint = "bundle/ is out of date with helm/kratos-upgrade-operator, crds/, examples/ or hack/olm: "
                + "run hack/update-bundle.sh and commit the result";
        assertThat(committed.keySet()).as(hint).isEqualTo(generated.keySet());
        List<String> differing = generated.keySet().stream().filter(f -> !generated.get(f).equals(committed.get(f))).toList();
        assertThat(differing).as(hint + " (files that differ)").isEmpty();
    }

    @Test
    void theOperatorFrameworkValidatorsReportNoErrorAndNoWarning() {
        Processes.Result r = Processes.run(List.of(kuoOlm(), "validate", BUNDLE.toString()), Map.of(), Duration.ofMinutes(2));
        // 0: clean; 2: warnings only; 1: errors.
        assertThat(r.exitCode()).as("kuo-olm validate bundle (exit 2: warnings only)\n%s", r).isZero();
        assertThat(r.stdout()).contains("kratos-upgrade-operator.v" + Helm.appVersion() + ": ").contains(" 0 errors, 0 warnings");
    }

    @Test
    void theCsvRunsTheChartsDeploymentWatchingTheOperatorGroupsTargetNamespaces() throws IOException {
        JsonNode csv = YAML.readTree(CSV.toFile());
        assertThat(csv.path("spec").path("version").asText()).isEqualTo(Helm.appVersion());
        JsonNode strategy = csv.path("spec").path("install");
        assertThat(strategy.path("strategy").asText()).isEqualTo("deployment");
        JsonNode deployments = strategy.path("spec").path("deployments");
        assertThat(deployments).hasSize(1);

        List<HasMetadata> chart = Helm.template();
        Deployment chartDeployment = ChartRenderIT.one(chart, Deployment.class);
        DeploymentSpec spec = YAML.treeToValue(deployments.get(0).path("spec"), DeploymentSpec.class);
        assertThat(deployments.get(0).path("name").asText()).isEqualTo(chartDeployment.getMetadata().getName());

        Container csvContainer = spec.getTemplate().getSpec().getContainers().get(0);
        Container chartContainer = chartDeployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(csvContainer.getImage()).isEqualTo(chartContainer.getImage());
        assertThat(csvContainer.getResources()).isEqualTo(chartContainer.getResources());
        assertThat(csvContainer.getSecurityContext()).isEqualTo(chartContainer.getSecurityContext());
        assertThat(List.of(csvContainer.getStartupProbe(), csvContainer.getLivenessProbe(), csvContainer.getReadinessProbe()))
                .isEqualTo(List.of(chartContainer.getStartupProbe(), chartContainer.getLivenessProbe(), chartContainer.getReadinessProbe()));
        assertThat(ChartRenderIT.restrictedViolations(spec.getTemplate().getSpec())).as("PodSecurity restricted").isEmpty();
        assertThat(spec.getTemplate().getSpec().getServiceAccountName())
                .isEqualTo(chartDeployment.getSpec().getTemplate().getSpec().getServiceAccountName());

        // The chart's environment, plus the namespaced install's two variables filled from OLM's target namespaces
        // ("" for AllNamespaces: Quarkus then watches every namespace).
        Map<String, String> expected = new TreeMap<>(env(chartContainer));
        TARGET_NAMESPACES_ENV.forEach(n -> expected.put(n, "field:metadata.annotations['olm.targetNamespaces']"));
        assertThat(env(csvContainer)).isEqualTo(expected);
        // The chart sets the same two variables for a namespaced install: same names, so the same operator setting.
        Deployment namespaced = ChartRenderIT.one(Helm.template("--set", "watchNamespaces={a,b}"), Deployment.class);
        assertThat(env(namespaced.getSpec().getTemplate().getSpec().getContainers().get(0))).containsKeys(
                TARGET_NAMESPACES_ENV.toArray(String[]::new));

        // The metrics Service selects the CSV's pods, as the chart's selects the chart's.
        Service service = YAML.readValue(BUNDLE.resolve("manifests").resolve("kratos-upgrade-operator_v1_service.yaml").toFile(),
                Service.class);
        assertThat(service.getSpec()).isEqualTo(ChartRenderIT.one(chart, Service.class).getSpec());
        assertThat(spec.getTemplate().getMetadata().getLabels()).containsAllEntriesOf(service.getSpec().getSelector());
    }

    @Test
    void theCsvGrantsTheNamespacedInstallsRulesAndTheLeaseAndNothingClusterWide() throws IOException {
        JsonNode install = YAML.readTree(CSV.toFile()).path("spec").path("install").path("spec");
        assertThat(install.has("clusterPermissions")).as("no clusterPermissions: OLM lifts permissions cluster-wide for AllNamespaces")
                .isFalse();
        JsonNode permissions = install.path("permissions");
        assertThat(permissions).hasSize(1);
        List<PolicyRule> rules = YAML.convertValue(permissions.get(0).path("rules"), new TypeReference<List<PolicyRule>>() {
        });

        List<HasMetadata> chart = Helm.template();
        Role leaderElection = ChartRenderIT.all(chart, Role.class).stream()
                .filter(r -> r.getMetadata().getName().endsWith("-leader-election")).findFirst().orElseThrow();
        Set<String> expected = new TreeSet<>(ChartRenderIT.expectedOperatorRules(false));
        expected.addAll(ChartRenderIT.rules(leaderElection.getRules()));
        assertThat(ChartRenderIT.rules(rules)).isEqualTo(expected);
        assertThat(permissions.get(0).path("serviceAccountName").asText())
                .isEqualTo(ChartRenderIT.one(chart, io.fabric8.kubernetes.api.model.ServiceAccount.class).getMetadata().getName());
    }

    @Test
    void installModesCrdsExamplesAndIcon() throws IOException {
        JsonNode csv = YAML.readTree(CSV.toFile());
        Map<String, Boolean> modes = new TreeMap<>();
        csv.path("spec").path("installModes").forEach(m -> modes.put(m.path("type").asText(), m.path("supported").asBoolean()));
        assertThat(modes).isEqualTo(Map.of("OwnNamespace", true, "SingleNamespace", true, "MultiNamespace", true, "AllNamespaces", true));

        // Every CRD of crds/ is in the bundle as it is, and owned by the CSV.
        Set<String> owned = new TreeSet<>();
        csv.path("spec").path("customresourcedefinitions").path("owned")
                .forEach(o -> owned.add(o.path("name").asText() + "/" + o.path("version").asText()));
        Set<String> crds = new TreeSet<>();
        for (String file : Crds.FILES) {
            assertThat(BUNDLE.resolve("manifests").resolve(file)).hasSameTextualContentAs(Crds.committed(file));
            JsonNode crd = YAML.readTree(Crds.committed(file).toFile());
            crd.path("spec").path("versions").forEach(v -> crds.add(crd.path("metadata").path("name").asText() + "/" + v.path("name").asText()));
        }
        assertThat(owned).isEqualTo(crds);

        // alm-examples: the custom resources of two examples (ExamplesIT applies those to an API server).
        List<GenericKubernetesResource> examples = new ArrayList<>();
        for (String file : List.of("examples/upgrade-rolling.yaml", "examples/fleet-tenants.yaml")) {
            try (var docs = YAML.readerFor(GenericKubernetesResource.class).<GenericKubernetesResource>readValues(Path.of(file).toFile())) {
                for (GenericKubernetesResource r : docs.readAll()) {
                    if (r.getApiVersion().startsWith("kratos-upgrade.io/")) {
                        r.getMetadata().setNamespace(null);
                        examples.add(r);
                    }
                }
            }
        }
        List<GenericKubernetesResource> alm = new ObjectMapper().readValue(csv.path("metadata").path("annotations").path("alm-examples").asText(),
                new TypeReference<List<GenericKubernetesResource>>() {
                });
        assertThat(alm).extracting(GenericKubernetesResource::getKind).containsExactly("KratosUpgrade", "KratosFleetUpgrade");
        assertThat(alm).isEqualTo(examples);

        JsonNode icon = csv.path("spec").path("icon").get(0);
        assertThat(icon.path("mediatype").asText()).isEqualTo("image/svg+xml");
        assertThat(Base64.getDecoder().decode(icon.path("base64data").asText())).isEqualTo(Files.readAllBytes(Path.of("hack", "olm", "icon.svg")));
    }

    /**
     * What OLM's olm.targetNamespaces annotation gives the two variables: "" for an AllNamespaces OperatorGroup, which
     * must mean every namespace (Quarkus takes an empty value as unset), and "a,b" for the others. The packaged
     * operator is started with each and its controllers' registrations read from its log; its API server is an
     * address on this machine where nothing listens (the registration comes before any request).
     */
    @ParameterizedTest
    @CsvSource({"'', all namespaces", "'team-a,team-b', team-a|team-b"})
    void thePackagedOperatorWatchesWhatTheTargetNamespacesSay(String targetNamespaces, String expected) throws Exception {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
        assertThat(jar).as("the failsafe tier runs after mvn package").isRegularFile();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dquarkus.profile=chaos", "-Dquarkus.http.port=0", "-jar", jar.toString()).redirectErrorStream(true);
        TARGET_NAMESPACES_ENV.forEach(n -> pb.environment().put(n, targetNamespaces));
        pb.environment().put("KUBERNETES_MASTER", "https://127.0.0.1:1");
        pb.environment().remove("KUBECONFIG");
        Process p = pb.start();
        Map<String, String> registered = new TreeMap<>();
        List<String> log = new ArrayList<>();
        Pattern line = Pattern.compile("Registered reconciler: '(\\w+)' .* for namespace\\(s\\): \\[(.*)\\]");
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            String l;
            while (registered.size() < 2 && System.nanoTime() < deadline && (l = in.readLine()) != null) {
                log.add(l);
                Matcher m = line.matcher(l);
                if (m.find()) {
                    registered.put(m.group(1), Stream.of(m.group(2).split(", ")).sorted().collect(Collectors.joining("|")));
                }
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertThat(registered).as("controller registrations in the operator's log:\n%s", String.join("\n", log))
                .isEqualTo(Map.of("kratosupgrade", expected, "kratosfleetupgrade", expected));
    }

    /** A container's environment: name to value, or to "field:PATH" for a downward API field. */
    static Map<String, String> env(Container c) {
        Map<String, String> env = new TreeMap<>();
        c.getEnv().forEach(e -> env.put(e.getName(), e.getValue() != null ? e.getValue()
                : e.getValueFrom().getFieldRef() != null ? "field:" + e.getValueFrom().getFieldRef().getFieldPath() : String.valueOf(e.getValueFrom())));
        return env;
    }
}
