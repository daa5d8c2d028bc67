package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.PodImages;
import io.kratosupgrade.operator.packaging.ChartRenderIT.Helm;
import io.kratosupgrade.operator.testsupport.Processes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The operator installed the way users install it: the operator image (hack/operator-image.sh) in the cluster,
 * {@code helm install} of helm/kratos-upgrade-operator into kratos-upgrade-system (PodSecurity "restricted"
 * enforced), cluster-wide. Then a real rolling upgrade of Kratos, carried out by that in-cluster operator with
 * nothing but its ServiceAccount's RBAC; no operator runs in this JVM. {@code helm uninstall} at the end.
 */
@Tag("e2e")
class HelmInstallE2E {

    static final String RELEASE = "kratos-upgrade-operator";

    static E2eEnvironment env;
    static KubernetesClient client;
    static Postgres postgres;
    static InClusterOperator operator;

    String namespace;

    @RegisterExtension
    final TestWatcher diagnostics = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            operator.dumpDiagnostics(context.getDisplayName(), namespace);
        }
    };

    @BeforeAll
    static void installWithHelm() {
        env = E2eEnvironment.load();
        client = InClusterOperator.connect(env);
        postgres = new Postgres(env);
        operator = new InClusterOperator(client, env, RELEASE);
        operator.install();
    }

    @AfterAll
    static void uninstall() {
        try {
            if (operator != null) operator.uninstall();
        } finally {
            if (client != null) client.close();
        }
    }

    @AfterEach
    void deleteNamespace() {
        if (namespace != null) operator.deleteTestNamespace(namespace);
    }

    @Test
    void rollingUpgradeByTheInClusterOperator() throws Exception {
        namespace = operator.createTestNamespace("helm-e2e");
        // Cluster-wide install: the ServiceAccount may watch KratosUpgrades in every namespace.
        assertThat(operator.allowed("list", "kratos-upgrade.io", "kratosupgrades", null)).isTrue();
        assertThat(operator.allowed("get", "", "secrets", namespace)).isTrue();
        assertThat(operator.allowed("list", "", "secrets", namespace)).as("least privilege: no listing of Secrets").isFalse();
        // BlueGreen creates and deletes Deployments and patches Services; it never deletes a Service.
        assertThat(operator.allowed("delete", "apps", "deployments", namespace)).isTrue();
        assertThat(operator.allowed("delete", "", "services", namespace)).as("least privilege: Services are only patched").isFalse();

        operator.happyPath(postgres, namespace);
    }

    /**
     * The in-cluster operator of one Helm release: install, uninstall, logs, checks; and the happy-path run both
     * Helm e2e tests perform through it.
     */
    static final class InClusterOperator {

        static final String OPERATOR_NAMESPACE = System.getProperty("e2e.helm.namespace", "kratos-upgrade-system");
        static final String TO_VERSION = System.getProperty("e2e.helm.toVersion", "v1.3.1");
        static final Duration UPGRADE_TIMEOUT = Duration.ofMinutes(8);
        private static boolean imageReady;

        final KubernetesClient client;
        final E2eEnvironment env;
        final String release;
        final String[] helmArgs;
        Duration installTook;

        InClusterOperator(KubernetesClient client, E2eEnvironment env, String release, String... helmArgs) {
            this.client = client;
            this.env = env;
            this.release = release;
            this.helmArgs = helmArgs;
        }

        static KubernetesClient connect(E2eEnvironment env) {
            if (env.kubeconfig() == null) {
                throw new IllegalStateException("no kubeconfig: run hack/local-cluster.sh up, or pass -De2e.kubeconfig=...");
            }
            try {
                return new KubernetesClientBuilder()
                        .withConfig(Config.fromKubeconfig(Files.readString(Path.of(env.kubeconfig())))).build();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /**
         * The operator image in the local cluster: hack/operator-image.sh --load, from the application Maven has
         * just packaged (failsafe runs after the package phase). -De2e.operatorImage.build=false skips it, for a
         * cluster that already has the image; so does -De2e.kubeconfig=... (another cluster pulls the image:
         * -De2e.helm.set=image.repository=registry.example.org/kratos-upgrade-operator,image.tag=...).
         */
        static synchronized void ensureImage() {
            boolean localCluster = System.getProperty("e2e.kubeconfig", "").isEmpty();
            if (imageReady || !Boolean.parseBoolean(System.getProperty("e2e.operatorImage.build", String.valueOf(localCluster)))) return;
            List<String> command = new ArrayList<>(List.of("hack/operator-image.sh", "--load"));
            if (Files.exists(Path.of("target", "quarkus-app", "quarkus-run.jar"))) command.add(1, "--no-build");
            long start = System.nanoTime();
            Processes.Result r = Processes.run(command, Map.of(), Duration.ofMinutes(30));
            if (r.exitCode() != 0) throw new IllegalStateException(String.join(" ", command) + " failed: " + r);
            System.out.printf("operator image: %s took %ds%n", String.join(" ", command), (System.nanoTime() - start) / 1_000_000_000);
            imageReady = true;
        }

        Processes.Result helm(Duration timeout, String... args) {
            List<String> all = new ArrayList<>(Arrays.asList(args));
            all.addAll(List.of("--kubeconfig", env.kubeconfig()));
            return Helm.helm(Map.of(), timeout, all.toArray(String[]::new));
        }

        void install() {
            ensureImage();
            // Leftovers of an interrupted run.
            helm(Duration.ofMinutes(3), "uninstall", release, "-n", OPERATOR_NAMESPACE, "--ignore-not-found", "--wait");
            awaitNoOperatorPods();
            // Users' namespaces for operators enforce PodSecurity "restricted": the chart must pass it.
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OPERATOR_NAMESPACE)
                    .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
                    .addToLabels("pod-security.kubernetes.io/warn", "restricted")
                    .endMetadata().build()).serverSideApply();

            List<String> args = new ArrayList<>(List.of("install", release, Helm.CHART.toString(), "-n", OPERATOR_NAMESPACE,
                    "--wait", "--timeout", "5m", "--set", "backupImage=" + env.toolsImage()));
            for (String set : System.getProperty("e2e.helm.set", "").split(",")) {
                if (!set.isBlank()) args.addAll(List.of("--set", set.strip()));
            }
            args.addAll(Arrays.asList(helmArgs));
            long start = System.nanoTime();
            Processes.Result r = helm(Duration.ofMinutes(6), args.toArray(String[]::new));
            if (r.exitCode() != 0) {
                dumpDiagnostics("helm install " + release, null);
                throw new AssertionError("helm " + args + " failed: " + r);
            }
            // Available, and one pod holds the Lease: the operator reconciles.
            Deployment d = deployment();
            assertThat(d.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Available");
                assertThat(c.getStatus()).isEqualTo("True");
            });
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> leader() != null);
            installTook = Duration.ofNanos(System.nanoTime() - start);
            System.out.printf("helm install %s: Available and leader %s elected after %.1fs%n", release, leader(),
                    installTook.toMillis() / 1000.0);
        }

        void uninstall() {
            long start = System.nanoTime();
            Processes.Result r = helm(Duration.ofMinutes(3), "uninstall", release, "-n", OPERATOR_NAMESPACE, "--wait");
            assertThat(r.exitCode()).as("helm uninstall %s\n%s", release, r).isZero();
            // The operator must not outlive the test class: its pods are gone, not only the Deployment.
            awaitNoOperatorPods();
            // Helm does not own the Lease the operator created.
            client.resources(Lease.class).inNamespace(OPERATOR_NAMESPACE).withName(leaseName()).delete();
            System.out.printf("helm uninstall %s: operator pods gone after %.1fs%n", release, (System.nanoTime() - start) / 1e9);
        }

        private void awaitNoOperatorPods() {
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> operatorPods().isEmpty());
        }

        List<Pod> operatorPods() {
            return client.pods().inNamespace(OPERATOR_NAMESPACE).withLabel("app.kubernetes.io/instance", release).list().getItems();
        }

        Deployment deployment() {
            List<Deployment> ds = client.apps().deployments().inNamespace(OPERATOR_NAMESPACE)
                    .withLabel("app.kubernetes.io/instance", release).list().getItems();
            assertThat(ds).as("Deployments of release %s", release).hasSize(1);
            return ds.get(0);
        }

        String leaseName() {
            return release.contains("kratos-upgrade-operator") ? release : release + "-kratos-upgrade-operator";
        }

        String serviceAccount() {
            return deployment().getSpec().getTemplate().getSpec().getServiceAccountName();
        }

        /** The pod holding the Lease, if it is one of this release's running pods. */
        String leader() {
            Lease lease = client.resources(Lease.class).inNamespace(OPERATOR_NAMESPACE).withName(leaseName()).get();
            if (lease == null || lease.getSpec() == null || lease.getSpec().getHolderIdentity() == null) return null;
            String holder = lease.getSpec().getHolderIdentity();
            return operatorPods().stream().anyMatch(p -> p.getMetadata().getName().equals(holder)
                    && "Running".equals(p.getStatus().getPhase())) ? holder : null;
        }

        /** What the operator's ServiceAccount may do, as the API server's authorizer answers. */
        boolean allowed(String verb, String group, String resource, String inNamespace) {
            SubjectAccessReview review = new SubjectAccessReviewBuilder().withNewSpec()
                    .withUser("system:serviceaccount:" + OPERATOR_NAMESPACE + ":" + serviceAccount())
                    .withGroups("system:serviceaccounts", "system:serviceaccounts:" + OPERATOR_NAMESPACE, "system:authenticated")
                    .withNewResourceAttributes().withVerb(verb).withGroup(group).withResource(resource).withNamespace(inNamespace)
                    .endResourceAttributes().endSpec().build();
            return client.resource(review).create().getStatus().getAllowed();
        }

        /** All containers' logs of the release's pods. */
        List<String> logs() {
            List<String> lines = new ArrayList<>();
            for (Pod p : operatorPods()) {
                try {
                    String log = client.pods().inNamespace(OPERATOR_NAMESPACE).withName(p.getMetadata().getName()).getLog();
                    for (String l : log.split("\n")) lines.add(p.getMetadata().getName() + " | " + l);
                } catch (RuntimeException e) {
                    lines.add(p.getMetadata().getName() + " | (no log: " + e.getMessage() + ")");
                }
            }
            return lines;
        }

        String createTestNamespace(String prefix) {
            String ns = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            return ns;
        }

        /** KratosUpgrades first (their finalizer needs the operator), then the namespace and its backup volume. */
        void deleteTestNamespace(String ns) {
            try {
                client.resources(KratosUpgrade.class).inNamespace(ns).delete();
                client.resources(KratosUpgrade.class).inNamespace(ns).waitUntilCondition(ku -> ku == null, 2, TimeUnit.MINUTES);
            } catch (RuntimeException e) {
                System.out.println("KratosUpgrades in " + ns + " not deleted: " + e.getMessage());
            }
            client.namespaces().withName(ns).delete();
            String pv = "kuo-" + ns;
            if (client.persistentVolumes().withName(pv).get() != null) {
                client.persistentVolumeClaims().inNamespace(ns).delete();
                client.persistentVolumes().withName(pv).delete();
                try {
                    client.persistentVolumes().withName(pv).waitUntilCondition(v -> v == null, 2, TimeUnit.MINUTES);
                    Path dir = localVolumesDir().resolve(pv);
                    if (Files.isDirectory(dir)) {
                        try (var files = Files.walk(dir)) {
                            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                        }
                    }
                } catch (Exception e) {
                    System.out.println("backup volume " + pv + " not removed: " + e.getMessage());
                }
            }
        }

        /**
         * On the local cluster (hack/local-cluster.sh), a PersistentVolume of this test's own, pre-bound to the
         * backup PVC: the cluster's shared pool of local-backup volumes may be taken by other test namespaces.
         * Elsewhere (-De2e.kubeconfig) the PVC is provisioned by the cluster.
         */
        void reserveBackupVolume(String ns) throws java.io.IOException {
            Path volumes = localVolumesDir();
            if (volumes == null || !Files.isDirectory(volumes)) return;
            String pv = "kuo-" + ns;
            Path dir = volumes.resolve(pv);
            Files.createDirectories(dir);
            // The backup Job runs as a non-root user.
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            client.persistentVolumes().resource(new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder()
                    .withNewMetadata().withName(pv).addToLabels("app.kubernetes.io/part-of", "kratos-upgrade-operator-e2e").endMetadata()
                    .withNewSpec().withCapacity(Map.of("storage", new io.fabric8.kubernetes.api.model.Quantity("1Gi")))
                        .withAccessModes("ReadWriteOnce").withPersistentVolumeReclaimPolicy("Retain")
                        .withStorageClassName(env.storageClass()).withVolumeMode("Filesystem")
                        .withNewClaimRef().withNamespace(ns).withName(KratosInstallation.PVC).endClaimRef()
                        .withNewHostPath().withPath(dir.toString()).withType("Directory").endHostPath()
                    .endSpec().build()).create();
        }

        /** KUO_STATE/volumes of the local cluster's env file, when the tests run against that cluster. */
        Path localVolumesDir() {
            if (!System.getProperty("e2e.kubeconfig", "").isEmpty()) return null;
            try {
                Path envFile = Path.of(System.getProperty("e2e.envFile", E2eEnvironment.DEFAULT_ENV_FILE));
                if (!Files.isReadable(envFile)) return null;
                return Files.readAllLines(envFile).stream().filter(l -> l.startsWith("KUO_STATE="))
                        .map(l -> Path.of(l.substring("KUO_STATE=".length()).strip(), "volumes")).findFirst().orElse(null);
            } catch (java.io.IOException e) {
                return null;
            }
        }

        /**
         * Kratos at the oldest release the cluster has, a rolling upgrade to {@link #TO_VERSION} through the
         * in-cluster operator: it must succeed with a backup, the newest migration, every pod on the new release,
         * events written, and not one RBAC refusal in the operator's log.
         */
        void happyPath(Postgres postgres, String ns) throws Exception {
            String from = fromVersion();
            KratosInstallation kratos = new KratosInstallation(client, env, postgres, ns);
            reserveBackupVolume(ns);
            kratos.install(from);
            List<String> emails = kratos.seedIdentities(2);

            KratosUpgrade ku = new KratosUpgrade();
            ku.getMetadata().setName("to-" + TO_VERSION.replace(".", ""));
            ku.getMetadata().setNamespace(ns);
            KratosUpgradeSpec spec = new KratosUpgradeSpec();
            spec.setDeploymentName(KratosInstallation.NAME);
            spec.setVersion(TO_VERSION);
            spec.getBackup().setPersistentVolumeClaim(KratosInstallation.PVC);
            ku.setSpec(spec);
            long start = System.nanoTime();
            client.resource(ku).create();

            String name = ku.getMetadata().getName();
            await().atMost(UPGRADE_TIMEOUT).pollInterval(Duration.ofSeconds(1)).until(() -> {
                KratosUpgrade k = client.resources(KratosUpgrade.class).inNamespace(ns).withName(name).get();
                return k != null && k.getStatus() != null && k.getStatus().getPhase() != null && k.getStatus().getPhase().isTerminal();
            });
            KratosUpgrade done = client.resources(KratosUpgrade.class).inNamespace(ns).withName(name).get();
            assertThat(done.getStatus().getPhase()).as("run ended %s: %s: %s", done.getStatus().getPhase(),
                    done.getStatus().getFailureReason(), done.getStatus().getMessage()).isEqualTo(Phase.Succeeded);
            System.out.printf("%s -> %s through the in-cluster operator (%s): Succeeded after %.1fs%n", from, TO_VERSION, release,
                    (System.nanoTime() - start) / 1e9);

            assertThat(done.getStatus().getFromVersion()).isEqualTo(from);
            assertThat(done.getStatus().getBackup().getFile()).isNotBlank();
            assertThat(done.getStatus().getBackup().getSha256()).hasSize(64);
            assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage(TO_VERSION));
            kratos.awaitReady(2);
            for (Pod pod : kratos.servingPods()) {
                assertThat(PodImages.isReady(pod)).isTrue();
                var version = kratos.get(pod, 4434, "/admin/version");
                assertThat(version.body()).as(pod.getMetadata().getName()).contains("\"version\":\"" + TO_VERSION + "\"");
            }
            var identities = kratos.get(kratos.servingPods().get(0), 4434, "/admin/identities?per_page=100");
            emails.forEach(email -> assertThat(identities.body()).contains(email));

            // The in-cluster operator did it, every step, and its RBAC was enough for every call it made.
            List<String> log = logs();
            for (String phase : List.of("Preflight", "BackingUp", "Migrating", "RollingOut", "Verifying", "Succeeded")) {
                assertThat(log).as("the in-cluster operator's log has %s/%s entering %s (if not: is another operator"
                                + " running against this cluster, e.g. a leftover hack/run.sh?)", ns, name, phase)
                        .anyMatch(l -> l.contains(ns + "/" + name + " run 1: ") && l.endsWith("-> " + phase));
            }
            assertThat(log).as("operator log: RBAC refusals").noneMatch(l -> l.contains("is forbidden") || l.contains("code=403"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .as("events written by the operator (events create; in the background, so waited for)")
                    .anyMatch(e -> name.equals(e.getInvolvedObject().getName()) && "Verified".equals(e.getReason())));

            // Metrics of that run on /q/metrics of the leader.
            String metrics = operatorGet(leader(), "/q/metrics");
            assertThat(Pattern.compile("kratos_upgrade_runs_total\\{[^}]*result=\"Succeeded\"[^}]*} [1-9]").matcher(metrics).find())
                    .as("kratos_upgrade_runs_total{result=Succeeded} on the leader's /q/metrics").isTrue();
        }

        /** v1.1.0 if the local images include it, else the newest Kratos release hack/images.sh built below the target. */
        String fromVersion() {
            String configured = System.getProperty("e2e.helm.fromVersion", "");
            if (!configured.isBlank()) return configured;
            Processes.Result r = Processes.run(List.of("hack/images.sh", "list", "--refs", "kratos"), Map.of(), Duration.ofMinutes(1));
            List<String> releases = r.stdout().lines().map(l -> l.split("\t")[0]).filter(ref -> ref.startsWith("oryd/kratos:v"))
                    .map(ref -> ref.substring("oryd/kratos:".length())).filter(v -> !v.equals(TO_VERSION)).toList();
            if (releases.contains("v1.1.0") || releases.isEmpty()) return "v1.1.0";
            return releases.get(releases.size() - 1);
        }

        String operatorGet(String pod, String path) throws Exception {
            try (LocalPortForward pf = client.pods().inNamespace(OPERATOR_NAMESPACE).withName(pod).portForward(8080)) {
                HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + pf.getLocalPort() + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("GET %s on %s", path, pod).isEqualTo(200);
                return response.body();
            }
        }

        void dumpDiagnostics(String what, String ns) {
            StringBuilder out = new StringBuilder("==== diagnostics for " + what + " (release " + release + ", namespace " + ns + ") ====\n");
            try {
                out.append("---- operator pods ----\n");
                operatorPods().forEach(p -> out.append(Serialization.asYaml(p.getStatus())));
                out.append("---- operator log ----\n");
                logs().forEach(l -> out.append(l).append('\n'));
                out.append("---- events in ").append(OPERATOR_NAMESPACE).append(" ----\n");
                client.v1().events().inNamespace(OPERATOR_NAMESPACE).list().getItems().forEach(e -> out.append(e.getType()).append(' ')
                        .append(e.getInvolvedObject().getName()).append(' ').append(e.getReason()).append(": ").append(e.getMessage()).append('\n'));
                if (ns != null) {
                    out.append("---- KratosUpgrades ----\n");
                    client.resources(KratosUpgrade.class).inNamespace(ns).list().getItems().forEach(k -> out.append(Serialization.asYaml(k)));
                    out.append("---- events in ").append(ns).append(" ----\n");
                    client.v1().events().inNamespace(ns).list().getItems().forEach(e -> out.append(e.getType()).append(' ')
                            .append(e.getInvolvedObject().getKind()).append('/').append(e.getInvolvedObject().getName()).append(' ')
                            .append(e.getReason()).append(": ").append(e.getMessage()).append('\n'));
                    for (Pod p : client.pods().inNamespace(ns).list().getItems()) {
                        out.append("---- log of pod ").append(p.getMetadata().getName()).append(" ----\n");
                        try {
                            out.append(client.pods().inNamespace(ns).withName(p.getMetadata().getName()).getLog()).append('\n');
                        } catch (RuntimeException e) {
                            out.append("(no log: ").append(e.getMessage()).append(")\n");
                        }
                    }
                }
            } catch (RuntimeException e) {
                out.append("(could not collect: ").append(e).append(")\n");
            }
            System.out.println(out);
            try {
                Path dir = Path.of("target", "e2e-artifacts");
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(release + (ns == null ? "" : "-" + ns) + ".log"), out);
            } catch (Exception ignored) {
                // printed above already
            }
        }

        /** The release's objects as Helm installed them. */
        List<HasMetadata> manifest() {
            Processes.Result r = helm(Duration.ofMinutes(1), "get", "manifest", release, "-n", OPERATOR_NAMESPACE);
            assertThat(r.exitCode()).as("helm get manifest\n%s", r).isZero();
            return Helm.parse(r.stdout());
        }
    }
}
