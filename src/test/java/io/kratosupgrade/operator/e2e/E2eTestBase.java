package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.testsupport.Crds;
import io.kratosupgrade.operator.testsupport.OperatorHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * End-to-end tier: a real cluster (the local one from hack/local-cluster.sh, or any kubeconfig), real
 * Kratos images, a real PostgreSQL, real pg_dump, the operator in this JVM. Each test gets a namespace and
 * a database of its own. On failure the operator log, events, the KratosUpgrade and every pod's log are
 * printed and kept under target/e2e-artifacts/.
 */
@Tag("e2e")
abstract class E2eTestBase {

    static final Duration UPGRADE_TIMEOUT = Duration.ofMinutes(8);
    /** Where fleets that select tenants' namespaces live (the operator's fleet-admin namespace in the e2e tier). */
    static final String FLEET_ADMIN_NAMESPACE = "e2e-fleet-admin";

    static E2eEnvironment env;
    static KubernetesClient client;
    static Postgres postgres;
    static OperatorHarness operator;

    String namespace;
    KratosInstallation kratos;

    @RegisterExtension
    final TestWatcher diagnostics = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            dumpDiagnostics(context.getDisplayName());
        }

        /** A passing test's namespace goes (its backup volume is released); a failing one's stays for inspection. */
        @Override
        public void testSuccessful(ExtensionContext context) {
            client.namespaces().withName(namespace).delete();
        }
    };

    @BeforeAll
    static void connect() throws Exception {
        env = E2eEnvironment.load();
        if (env.kubeconfig() == null) {
            throw new IllegalStateException("no kubeconfig: run hack/local-cluster.sh up, or pass -De2e.kubeconfig=...");
        }
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(Path.of(env.kubeconfig())))).build();
        postgres = new Postgres(env);
        Crds.apply(client);
        operator = new OperatorHarness(client, OperatorHarness.settings(env.toolsImage()))
                .fleetAdminNamespaces(FLEET_ADMIN_NAMESPACE).start();
    }

    @AfterAll
    static void disconnect() {
        if (operator != null) operator.close();
        if (client != null) client.close();
    }

    @BeforeEach
    void createNamespace() {
        namespace = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build()).create();
        kratos = new KratosInstallation(client, env, postgres, namespace);
    }

    KratosUpgrade upgrade(String name, String version, Consumer<KratosUpgradeSpec> customize) {
        KratosUpgrade ku = new KratosUpgrade();
        ku.getMetadata().setName(name);
        ku.getMetadata().setNamespace(namespace);
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.setDeploymentName(KratosInstallation.NAME);
        spec.setVersion(version);
        spec.getBackup().setPersistentVolumeClaim(KratosInstallation.PVC);
        customize.accept(spec);
        ku.setSpec(spec);
        return client.resource(ku).create();
    }

    KratosUpgrade get(String name) {
        return client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).get();
    }

    KratosUpgrade awaitPhase(String name, Phase phase, Duration timeout) {
        return awaitUpgrade(name, ku -> ku.getStatus() != null && ku.getStatus().getPhase() == phase, timeout);
    }

    /** Waits for a terminal phase and fails at once, with the status, if it is not the expected one. */
    KratosUpgrade awaitOutcome(String name, Phase expected) {
        KratosUpgrade ku = awaitUpgrade(name, u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), UPGRADE_TIMEOUT);
        if (ku.getStatus().getPhase() != expected) {
            throw new AssertionError("expected " + expected + " but the run ended " + ku.getStatus().getPhase() + ": "
                    + ku.getStatus().getFailureReason() + ": " + ku.getStatus().getMessage());
        }
        return ku;
    }

    /** Waits for {@code phase}; fails at once, with the status, when the run ends before reaching it. */
    KratosUpgrade awaitPhaseOrFail(String name, Phase phase, Duration timeout) {
        return awaitUpgrade(name, ku -> {
            if (ku.getStatus() == null || ku.getStatus().getPhase() == null) return false;
            if (ku.getStatus().getPhase() != phase && ku.getStatus().getPhase().isTerminal()) {
                throw new AssertionError("expected phase " + phase + " but the run ended " + ku.getStatus().getPhase() + ": "
                        + ku.getStatus().getFailureReason() + ": " + ku.getStatus().getMessage());
            }
            return ku.getStatus().getPhase() == phase;
        }, timeout);
    }

    /** Sets an annotation on a KratosUpgrade (how users decide a BlueGreen run's KeepingOld: switch back, finalize). */
    void annotate(String name, String annotation, String value) {
        client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).edit(ku -> {
            if (ku.getMetadata().getAnnotations() == null) ku.getMetadata().setAnnotations(new java.util.HashMap<>());
            ku.getMetadata().getAnnotations().put(annotation, value);
            return ku;
        });
    }

    /** Fails at once, not at the deadline, when the upgrade was seen and then disappeared. */
    KratosUpgrade awaitUpgrade(String name, Predicate<KratosUpgrade> condition, Duration timeout) {
        var seen = new java.util.concurrent.atomic.AtomicReference<KratosUpgrade>();
        await().atMost(timeout).pollInterval(Duration.ofSeconds(1)).until(() -> {
            KratosUpgrade ku = get(name);
            if (ku == null && seen.get() != null) {
                throw new AssertionError("KratosUpgrade " + name + " disappeared; last seen: " + Serialization.asYaml(seen.get().getStatus()));
            }
            seen.set(ku);
            return ku != null && condition.test(ku);
        });
        return get(name);
    }

    /** Both replicas are ready and each answers {@code version} on /admin/version. */
    void assertEveryPodAnswers(String version) throws Exception {
        kratos.awaitReady(2);
        List<Pod> pods = kratos.servingPods();
        assertThat(pods).hasSize(2);
        for (Pod pod : pods) {
            var response = kratos.get(pod, 4434, "/admin/version");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).as(pod.getMetadata().getName()).contains("\"version\":\"" + version + "\"");
        }
    }

    /**
     * Starts steady load through the Kratos Service (see {@link LoadGenerator}).
     *
     * @param restricted whether the namespace enforces PodSecurity restricted
     */
    LoadGenerator startLoad(boolean restricted) {
        String serviceIp = client.services().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getClusterIP();
        LoadGenerator load = new LoadGenerator(client, namespace);
        load.start(serviceIp, env.busyboxImage(), restricted);
        return load;
    }

    /**
     * Starts reads and writes through the Kratos Service, each recorded as one or the other (see
     * {@link MixedLoadGenerator}): {@code rate} requests a second.
     */
    MixedLoadGenerator startMixedLoad(String sessionToken, String identityId, int rate) {
        String serviceIp = client.services().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getClusterIP();
        MixedLoadGenerator load = new MixedLoadGenerator(client, namespace);
        load.start(serviceIp, env.toolsImage(), sessionToken, identityId, rate);
        return load;
    }

    /** Every seeded identity is still there, through the Admin API and in the database. */
    void assertIdentitiesIntact(List<String> emails) throws Exception {
        var response = kratos.get(kratos.servingPods().get(0), 4434, "/admin/identities?per_page=100");
        assertThat(response.statusCode()).isEqualTo(200);
        emails.forEach(email -> assertThat(response.body()).contains(email));
        assertThat(postgres.identities(kratos.database)).isEqualTo(emails.size());
    }

    /** Enforces PodSecurity {@code restricted} on the test's namespace (new pods that do not comply are refused). */
    void enforceRestrictedPodSecurity() {
        client.namespaces().withName(namespace).edit(ns -> {
            ns.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
            ns.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce-version", "latest");
            return ns;
        });
    }

    /**
     * Restores a dump from the backup volume into a fresh database, after checking its checksum; returns the
     * database's name.
     */
    String restoreDump(String file) throws Exception {
        String restoreDb = kratos.database + "_restore";
        postgres.createDatabase(restoreDb, restoreDb, "restore-pw");
        String log = runTool("verify-backup", String.join(" && ",
                        "cd /backup", "sha256sum -c " + file + ".sha256", "pg_restore --list " + file + " > /dev/null",
                        "pg_restore --no-owner --exit-on-error --dbname=" + restoreDb + " " + file, "echo restored"),
                java.util.Map.of("PGHOST", env.pgHostForPods(), "PGPORT", Integer.toString(env.pgPort()), "PGUSER", restoreDb,
                        "PGPASSWORD", "restore-pw"));
        assertThat(log).contains(file + ": OK").contains("restored");
        return restoreDb;
    }

    /** A one-off pod with the tools image, for checks on the backup volume; returns its log after it succeeds. */
    String runTool(String name, String script, java.util.Map<String, String> envVars) {
        var pod = new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                    .addNewContainer().withName("tool").withImage(env.toolsImage()).withImagePullPolicy("IfNotPresent")
                        .withCommand("/bin/sh", "-c", script)
                        .withEnv(envVars.entrySet().stream().map(e -> new io.fabric8.kubernetes.api.model.EnvVar(e.getKey(), e.getValue(), null)).toList())
                        .addNewVolumeMount().withName("backups").withMountPath("/backup").endVolumeMount()
                    .endContainer()
                    .addNewVolume().withName("backups").withNewPersistentVolumeClaim().withClaimName(KratosInstallation.PVC)
                        .endPersistentVolumeClaim().endVolume()
                .endSpec().build();
        // Dumps are readable by their owner only: read them as the user the backup Job ran as, which is the
        // Kratos pod's own (the operator's Jobs take the pod's security context).
        pod.getSpec().setSecurityContext(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get()
                .getSpec().getTemplate().getSpec().getSecurityContext());
        // Admissible in a namespace enforcing PodSecurity restricted too (the tools image runs as a non-root uid).
        io.kratosupgrade.operator.resources.RestrictedPodSecurity.apply(pod.getSpec());
        client.pods().inNamespace(namespace).resource(pod).create();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Pod p = client.pods().inNamespace(namespace).withName(name).get();
            String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
            if ("Failed".equals(phase)) {
                throw new AssertionError("tool pod " + name + " failed: " + client.pods().inNamespace(namespace).withName(name).getLog());
            }
            return "Succeeded".equals(phase);
        });
        return client.pods().inNamespace(namespace).withName(name).getLog();
    }

    /** The log of the operator this test ran against (a class running its own operator says so here). */
    List<String> operatorLog() {
        return operator.log();
    }

    private void dumpDiagnostics(String test) {
        StringBuilder out = new StringBuilder("==== diagnostics for " + test + " (namespace " + namespace + ") ====\n");
        out.append("---- operator log ----\n");
        operatorLog().forEach(l -> out.append(l).append('\n'));
        try {
            out.append("---- KratosUpgrades ----\n");
            client.resources(KratosUpgrade.class).inNamespace(namespace).list().getItems()
                    .forEach(ku -> out.append(Serialization.asYaml(ku)));
            out.append("---- events ----\n");
            client.v1().events().inNamespace(namespace).list().getItems().forEach(e -> out.append(e.getLastTimestamp()).append(' ')
                    .append(e.getType()).append(' ').append(e.getInvolvedObject().getKind()).append('/')
                    .append(e.getInvolvedObject().getName()).append(' ').append(e.getReason()).append(": ").append(e.getMessage()).append('\n'));
            for (Pod p : client.pods().inNamespace(namespace).list().getItems()) {
                for (var c : p.getSpec().getContainers()) {
                    out.append("---- log of pod ").append(p.getMetadata().getName()).append(" container ").append(c.getName()).append(" ----\n");
                    try {
                        out.append(client.pods().inNamespace(namespace).withName(p.getMetadata().getName()).inContainer(c.getName()).getLog());
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
            Files.writeString(dir.resolve(namespace + ".log"), out);
        } catch (Exception ignored) {
            // printed above already
        }
    }
}
