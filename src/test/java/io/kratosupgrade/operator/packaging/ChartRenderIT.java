package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.kratosupgrade.operator.testsupport.Processes;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kratosupgrade.operator.reconciler.KratosFleetUpgradeReconciler;
import io.kratosupgrade.operator.reconciler.KratosUpgradeReconciler;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Helm chart as users get it: {@code helm lint --strict}, and what {@code helm template} renders, parsed
 * with fabric8: a Deployment that passes PodSecurity "restricted", RBAC that is exactly what the reconciler
 * declares (its {@link RBACRule}s) plus the KratosUpgrade resources and the leader-election Lease, the
 * cluster-wide and the namespaced variants, and a values schema that rejects bad values.
 *
 * <p>helm: {@code -Dhelm.binary=...} (hack/test.sh passes {@code $(hack/helm.sh)}), else this test runs
 * {@code hack/helm.sh}, which builds it once (cached).
 */
public class ChartRenderIT {

    static final String RELEASE = "kratos-upgrade-operator";
    static final String NAMESPACE = "kratos-upgrade-system";

    @Test
    void lintStrictPassesForTheDefaultAndTheNamespacedValues() {
        Processes.Result lint = Helm.helm("lint", "--strict", Helm.CHART.toString());
        assertThat(lint.exitCode()).as("helm lint --strict:\n%s", lint).isZero();
        Processes.Result namespaced = Helm.helm("lint", "--strict", Helm.CHART.toString(), "--set", "watchNamespaces={team-a,team-b}",
                "--set", "serviceMonitor.enabled=true", "--set", "podScrapeAnnotations=true", "--set", "replicaCount=2");
        assertThat(namespaced.exitCode()).as("helm lint --strict (namespaced values):\n%s", namespaced).isZero();
    }

    @Test
    void deploymentPassesPodSecurityRestricted() {
        Deployment deployment = one(Helm.template(), Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        assertThat(restrictedViolations(pod)).as("PodSecurity restricted").isEmpty();

        Container operator = pod.getContainers().get(0);
        SecurityContext sc = operator.getSecurityContext();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        // The read-only root file system needs a writable /tmp (JVM, Vert.x).
        assertThat(operator.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getMountPath()).isEqualTo("/tmp");
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow();
            assertThat(v.getEmptyDir()).isNotNull();
        });
    }

    @Test
    void deploymentRunsTheOperatorWithProbesResourcesAndSettings() {
        List<HasMetadata> objects = Helm.template("--set", "backupImage=registry.example.org/tools:15", "--set", "replicaCount=2");
        Deployment deployment = one(objects, Deployment.class);
        assertThat(deployment.getMetadata().getName()).isEqualTo(RELEASE);
        assertThat(deployment.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo(one(objects, ServiceAccount.class).getMetadata().getName());

        Container operator = pod.getContainers().get(0);
        assertThat(operator.getImage()).isEqualTo("kratos-upgrade-operator:" + Helm.appVersion());
        assertThat(operator.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(env(operator, "KRATOS_UPGRADE_BACKUP_IMAGE")).isEqualTo("registry.example.org/tools:15");
        assertThat(env(operator, "KRATOS_UPGRADE_LEADER_ELECTION_LEASE")).isEqualTo(RELEASE);
        assertThat(env(operator, "KRATOS_UPGRADE_MAX_CONCURRENT_MIGRATIONS")).isEqualTo("10");
        assertThat(operator.getEnv()).extracting(EnvVar::getName)
                .as("cluster-wide: the operator watches every namespace")
                .doesNotContain("QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSUPGRADE_NAMESPACES");
        assertThat(operator.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(8080));
        assertThat(operator.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
        assertThat(operator.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(operator.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(operator.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(operator.getResources().getLimits()).containsKey("memory");

        assertThat(Helm.template("--set", "image.tag=9.9.9", "--set", "image.repository=example.org/kuo"))
                .filteredOn(Deployment.class::isInstance).singleElement()
                .satisfies(d -> assertThat(((Deployment) d).getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                        .isEqualTo("example.org/kuo:9.9.9"));
    }

    @Test
    void clusterWideRbacIsExactlyWhatTheReconcilerDeclares() {
        List<HasMetadata> objects = Helm.template();
        ClusterRole role = one(objects, ClusterRole.class);
        assertThat(rules(role.getRules())).isEqualTo(expectedOperatorRules(true));
        assertThat(role.getRules()).allSatisfy(r -> {
            assertThat(r.getResourceNames()).as("no resourceNames").isNullOrEmpty();
            assertThat(r.getNonResourceURLs()).isNullOrEmpty();
        });
        ClusterRoleBinding binding = one(objects, ClusterRoleBinding.class);
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(one(objects, ServiceAccount.class).getMetadata().getName());
            assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
        });
        // Namespaced RBAC: the leader-election Role only.
        assertThat(all(objects, Role.class)).extracting(r -> r.getMetadata().getName()).containsExactly(RELEASE + "-leader-election");
    }

    @Test
    void namespacedInstallHasNoClusterWidePermissionAndWatchesOnlyItsNamespaces() {
        List<HasMetadata> objects = Helm.template("--set", "watchNamespaces={team-a,team-b}");
        assertThat(objects).as("no ClusterRole or ClusterRoleBinding")
                .noneMatch(o -> o instanceof ClusterRole || o instanceof ClusterRoleBinding);
        assertThat(objects).as("every object is namespaced")
                .allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind() + "/" + o.getMetadata().getName()).isNotBlank());

        Container operator = one(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(operator, "QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSUPGRADE_NAMESPACES")).isEqualTo("team-a,team-b");
        assertThat(env(operator, "QUARKUS_OPERATOR_SDK_CONTROLLERS_KRATOSFLEETUPGRADE_NAMESPACES")).isEqualTo("team-a,team-b");

        List<Role> operatorRoles = all(objects, Role.class).stream()
                .filter(r -> !r.getMetadata().getName().endsWith("-leader-election")).toList();
        assertThat(operatorRoles).extracting(r -> r.getMetadata().getNamespace()).containsExactlyInAnyOrder("team-a", "team-b");
        assertThat(operatorRoles).allSatisfy(r -> assertThat(rules(r.getRules())).isEqualTo(expectedOperatorRules(false)));
        List<RoleBinding> bindings = all(objects, RoleBinding.class).stream()
                .filter(r -> !r.getMetadata().getName().endsWith("-leader-election")).toList();
        assertThat(bindings).extracting(b -> b.getMetadata().getNamespace()).containsExactlyInAnyOrder("team-a", "team-b");
        assertThat(bindings).allSatisfy(b -> {
            assertThat(b.getRoleRef().getKind()).isEqualTo("Role");
            assertThat(b.getSubjects()).singleElement().satisfies(s -> assertThat(s.getNamespace()).isEqualTo(NAMESPACE));
        });
    }

    @Test
    void leaderElectionMayOnlyTouchItsOwnLease() {
        List<HasMetadata> objects = Helm.template();
        Role role = all(objects, Role.class).stream().filter(r -> r.getMetadata().getName().endsWith("-leader-election"))
                .findFirst().orElseThrow();
        assertThat(role.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
        assertThat(rules(role.getRules())).isEqualTo(Set.of(
                "coordination.k8s.io/leases:create",
                "coordination.k8s.io/leases[" + RELEASE + "]:get",
                "coordination.k8s.io/leases[" + RELEASE + "]:update",
                "coordination.k8s.io/leases[" + RELEASE + "]:patch"));
        RoleBinding binding = all(objects, RoleBinding.class).stream()
                .filter(r -> r.getMetadata().getName().endsWith("-leader-election")).findFirst().orElseThrow();
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());

        // Another release in the same namespace gets a Lease of its own.
        List<HasMetadata> other = Helm.templateAs("team-a-operator", "--set", "watchNamespaces={team-a}");
        Container operator = one(other, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(operator, "KRATOS_UPGRADE_LEADER_ELECTION_LEASE")).isEqualTo("team-a-operator-kratos-upgrade-operator");
    }

    @Test
    void metricsServiceServiceMonitorAndScrapeAnnotations() {
        List<HasMetadata> objects = Helm.template();
        Service service = one(objects, Service.class);
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(8080);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
        });
        assertThat(service.getSpec().getSelector())
                .isEqualTo(one(objects, Deployment.class).getSpec().getSelector().getMatchLabels());
        assertThat(objects).noneMatch(o -> "ServiceMonitor".equals(o.getKind()));
        assertThat(one(objects, Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations()).isNullOrEmpty();

        List<HasMetadata> monitored = Helm.template("--set", "serviceMonitor.enabled=true", "--set", "podScrapeAnnotations=true");
        GenericKubernetesResource monitor = monitored.stream().filter(o -> "ServiceMonitor".equals(o.getKind()))
                .map(GenericKubernetesResource.class::cast).findFirst().orElseThrow();
        assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
        assertThat(endpoints).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("port", "http").containsEntry("path", "/q/metrics");
        });
        assertThat(one(monitored, Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "8080")
                .containsEntry("prometheus.io/path", "/q/metrics");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "replicaCount=two      | --set-string | /replicaCount",
            "replicaCount=-1       | --set        | /replicaCount",
            "image.pullPolicy=Sometimes | --set   | /image/pullPolicy",
            "watchNamespaces={Team_A}   | --set   | /watchNamespaces/0",
            "logLevel=LOUD         | --set        | /logLevel",
            "replicas=2            | --set        | replicas",
            "service.port=http     | --set-string | /service/port",
    })
    void valuesSchemaRejectsBadValues(String value, String flag, String where) {
        Processes.Result result = Helm.helm("template", RELEASE, Helm.CHART.toString(), "-n", NAMESPACE, flag.trim(), value.trim());
        assertThat(result.exitCode()).as("helm template %s %s must fail", flag, value).isNotZero();
        assertThat(result.stderr()).contains("values don't meet the specifications of the schema").contains(where.trim());
    }

    @Test
    void chartCarriesTheCrd() {
        Processes.Result result = Helm.helm("show", "crds", Helm.CHART.toString());
        assertThat(result.exitCode()).as("%s", result).isZero();
        assertThat(result.stdout()).contains("name: \"kratosupgrades.kratos-upgrade.io\"", "name: \"kratosfleetupgrades.kratos-upgrade.io\"");
    }

    // ---------------------------------------------------------------------------------------------------

    /**
     * The operator's rules: the reconcilers' {@link RBACRule}s and what JOSDK needs on the primary resources; a Role (a
     * namespaced install) leaves out the cluster-scoped namespaces, which only fleets spanning namespaces list.
     */
    static Set<String> expectedOperatorRules(boolean clusterWide) {
        Set<String> expected = new TreeSet<>();
        for (Class<?> reconciler : List.of(KratosUpgradeReconciler.class, KratosFleetUpgradeReconciler.class)) {
            RBACRule[] declared = reconciler.getAnnotationsByType(RBACRule.class);
            assertThat(declared).as("@RBACRule annotations on " + reconciler.getSimpleName()).isNotEmpty();
            for (RBACRule rule : declared) {
                assertThat(rule.resourceNames()).as("resourceNames in @RBACRule: the chart needs a rule of its own").isEmpty();
                for (String group : rule.apiGroups()) {
                    for (String resource : rule.resources()) {
                        for (String verb : rule.verbs()) {
                            if (clusterWide || !resource.equals("namespaces")) expected.add(group + "/" + resource + ":" + verb);
                        }
                    }
                }
            }
        }
        for (String primary : List.of("kratosupgrades", "kratosfleetupgrades")) {
            Stream.of("get", "list", "watch", "update", "patch").forEach(v -> expected.add("kratos-upgrade.io/" + primary + ":" + v));
            Stream.of("update", "patch").forEach(v -> expected.add("kratos-upgrade.io/" + primary + "/status:" + v));
        }
        expected.add("kratos-upgrade.io/kratosupgrades/finalizers:update");
        return expected;
    }

    /** Rules as "group/resource[names]:verb" strings, one per combination. */
    static Set<String> rules(Collection<PolicyRule> rules) {
        Set<String> out = new TreeSet<>();
        for (PolicyRule rule : rules) {
            String names = rule.getResourceNames() == null || rule.getResourceNames().isEmpty() ? ""
                    : rule.getResourceNames().stream().sorted().collect(Collectors.joining(",", "[", "]"));
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        out.add(group + "/" + resource + names + ":" + verb);
                    }
                }
            }
        }
        return out;
    }

    /** What the PodSecurity admission's "restricted" profile (Kubernetes 1.25+) would refuse in this pod. */
    static List<String> restrictedViolations(PodSpec pod) {
        List<String> violations = new ArrayList<>();
        PodSecurityContext psc = pod.getSecurityContext();
        if (Boolean.TRUE.equals(pod.getHostNetwork()) || Boolean.TRUE.equals(pod.getHostPID()) || Boolean.TRUE.equals(pod.getHostIPC())) {
            violations.add("host namespaces");
        }
        Set<String> allowedVolumes = Set.of("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                "projected", "secret");
        for (Volume v : Objects.requireNonNullElse(pod.getVolumes(), List.<Volume>of())) {
            String type = volumeType(v);
            if (!allowedVolumes.contains(type)) violations.add("volume " + v.getName() + " of type " + type);
        }
        boolean podNonRoot = psc != null && Boolean.TRUE.equals(psc.getRunAsNonRoot());
        boolean podSeccomp = psc != null && psc.getSeccompProfile() != null
                && List.of("RuntimeDefault", "Localhost").contains(psc.getSeccompProfile().getType());
        if (psc != null && Long.valueOf(0).equals(psc.getRunAsUser())) violations.add("pod runAsUser 0");
        List<Container> containers = new ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) containers.addAll(pod.getInitContainers());
        for (Container c : containers) {
            SecurityContext sc = c.getSecurityContext();
            String n = "container " + c.getName() + ": ";
            if (sc == null) {
                violations.add(n + "no securityContext");
                continue;
            }
            if (Boolean.TRUE.equals(sc.getPrivileged())) violations.add(n + "privileged");
            if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) violations.add(n + "allowPrivilegeEscalation != false");
            Capabilities caps = sc.getCapabilities();
            if (caps == null || caps.getDrop() == null || !caps.getDrop().contains("ALL")) violations.add(n + "capabilities not dropping ALL");
            if (caps != null && caps.getAdd() != null && !Set.of("NET_BIND_SERVICE").containsAll(caps.getAdd())) {
                violations.add(n + "adds capabilities " + caps.getAdd());
            }
            boolean nonRoot = sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : podNonRoot;
            if (!nonRoot) violations.add(n + "runAsNonRoot not true");
            if (Long.valueOf(0).equals(sc.getRunAsUser())) violations.add(n + "runAsUser 0");
            boolean seccomp = sc.getSeccompProfile() != null
                    ? List.of("RuntimeDefault", "Localhost").contains(sc.getSeccompProfile().getType()) : podSeccomp;
            if (!seccomp) violations.add(n + "seccompProfile not RuntimeDefault/Localhost");
            if (c.getPorts() != null && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null && p.getHostPort() != 0)) {
                violations.add(n + "hostPort");
            }
        }
        return violations;
    }

    private static String volumeType(Volume v) {
        Map<String, Object> fields = new KubernetesSerialization().convertValue(v, Map.class);
        return fields.keySet().stream().filter(k -> !k.equals("name")).findFirst().orElse("?");
    }

    static String env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.getEnv()));
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = all(objects, type);
        assertThat(found).as("exactly one %s", type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /**
     * Running helm and the repository's scripts. Shared with the other packaging tests and the e2e tests that
     * install the chart (HelmInstallE2E, NamespacedInstallE2E).
     */
    public static final class Helm {

        public static final Path CHART = Path.of("helm", "kratos-upgrade-operator");
        private Helm() {
        }

        /** helm from -Dhelm.binary, else the one hack/helm.sh builds (once; cached afterwards). */
        public static String binary() {
            return Processes.builtTool("helm.binary", List.of("hack/helm.sh"), Duration.ofMinutes(20));
        }

        public static Processes.Result helm(String... args) {
            return helm(Map.of(), Duration.ofMinutes(2), args);
        }

        public static Processes.Result helm(Map<String, String> env, Duration timeout, String... args) {
            List<String> command = new ArrayList<>();
            command.add(binary());
            command.addAll(Arrays.asList(args));
            return Processes.run(command, env, timeout);
        }

        /** {@code helm template kratos-upgrade-operator <chart> -n kratos-upgrade-system ARGS}, parsed. */
        public static List<HasMetadata> template(String... args) {
            return templateAs(RELEASE, args);
        }

        public static List<HasMetadata> templateAs(String release, String... args) {
            List<String> all = new ArrayList<>(List.of("template", release, CHART.toString(), "-n", NAMESPACE));
            all.addAll(Arrays.asList(args));
            Processes.Result r = helm(all.toArray(String[]::new));
            assertThat(r.exitCode()).as("helm %s\n%s", all, r).isZero();
            return parse(r.stdout());
        }

        public static List<HasMetadata> parse(String yaml) {
            Object parsed = new KubernetesSerialization().unmarshal(yaml);
            List<HasMetadata> out = new ArrayList<>();
            if (parsed instanceof List<?> list) {
                list.stream().filter(Objects::nonNull).map(HasMetadata.class::cast).forEach(out::add);
            } else if (parsed instanceof io.fabric8.kubernetes.api.model.KubernetesList list) {
                out.addAll(list.getItems());
            } else if (parsed != null) {
                out.add((HasMetadata) parsed);
            }
            return out;
        }

        public static String appVersion() {
            try {
                return Files.readAllLines(CHART.resolve("Chart.yaml")).stream().filter(l -> l.startsWith("appVersion:"))
                        .map(l -> l.substring("appVersion:".length()).replace("\"", "").strip()).findFirst().orElseThrow();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
