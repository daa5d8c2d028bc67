package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.kube.PodImages;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Ory Hydra installed the way its Helm chart would in one test's namespace: a database of its own on the test's
 * PostgreSQL server, the initial migration as a Job, a Deployment {@value #NAME} (two replicas, readiness on
 * {@code /health/ready} of the admin port, which answers 503 until the schema is the release's) and a Service with
 * the public (4444) and admin (4445) ports. Configuration by environment, as the chart's values end up: the DSN from
 * a Secret, the system secret, the issuer; {@code serve all --dev} (plain HTTP inside the cluster).
 */
final class HydraInstallation {

    static final String NAME = "hydra";
    static final String PVC = "hydra-backups";
    static final String DB_SECRET = "hydra-db";
    static final String PASSWORD = "hydr@ p/w#% 7";

    private final KubernetesClient client;
    private final E2eEnvironment env;
    private final Postgres postgres;
    private final String namespace;
    final String database;

    HydraInstallation(KubernetesClient client, E2eEnvironment env, Postgres postgres, String namespace) {
        this.client = client;
        this.env = env;
        this.postgres = postgres;
        this.namespace = namespace;
        this.database = namespace.replace('-', '_') + "_hydra";
    }

    /** Installs Hydra at {@code version} and waits until both replicas are ready. */
    void install(String version) throws Exception {
        postgres.createDatabase(database, database, PASSWORD);
        String dsn = "postgres://" + database + ":" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8).replace("+", "%20") + "@"
                + env.pgHostForPods() + ":" + env.pgPort() + "/" + database + "?sslmode=disable&max_conns=20&max_idle_conns=4";
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(DB_SECRET).endMetadata()
                .withStringData(Map.of("dsn", dsn, "system-secret", "e2e-system-secret-of-at-least-32-chars")).build()).create();
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(PVC).endMetadata()
                .withNewSpec().withStorageClassName(env.storageClass()).withAccessModes("ReadWriteOnce")
                    .withNewResources().withRequests(Map.of("storage", new Quantity("1Gi"))).endResources()
                .endSpec().build()).create();

        // The initial schema, as the chart's migration Job creates it (v2.1.2 has no `migrate sql up`).
        Job initial = client.batch().v1().jobs().inNamespace(namespace).resource(new JobBuilder()
                .withNewMetadata().withName("hydra-initial-migrate").endMetadata()
                .withNewSpec().withBackoffLimit(0)
                    .withNewTemplate().withNewSpec().withRestartPolicy("Never")
                        .addNewContainer().withName("migrate").withImage(env.hydraImage(version)).withImagePullPolicy("IfNotPresent")
                            .withArgs("migrate", "sql", "-e", "--yes")
                            .addNewEnv().withName("DSN").withNewValueFrom().withNewSecretKeyRef().withName(DB_SECRET).withKey("dsn")
                                .endSecretKeyRef().endValueFrom().endEnv()
                        .endContainer()
                    .endSpec().endTemplate()
                .endSpec().build()).create();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Job j = client.batch().v1().jobs().inNamespace(namespace).withName(initial.getMetadata().getName()).get();
            if (j.getStatus() != null && j.getStatus().getFailed() != null && j.getStatus().getFailed() > 0) {
                throw new AssertionError("Hydra's initial migration failed");
            }
            return j.getStatus() != null && j.getStatus().getSucceeded() != null && j.getStatus().getSucceeded() > 0;
        });

        // One replica first, as for Kratos: the network row is created by the first start.
        Deployment first = deployment(version);
        first.getSpec().setReplicas(1);
        client.apps().deployments().inNamespace(namespace).resource(first).create();
        awaitReady(1);
        client.apps().deployments().inNamespace(namespace).withName(NAME).scale(2);
        client.services().inNamespace(namespace).resource(new ServiceBuilder()
                .withNewMetadata().withName(NAME).endMetadata()
                .withNewSpec().withSelector(Map.of("app", NAME))
                    .addNewPort().withName("public").withPort(4444).withTargetPort(new IntOrString(4444)).endPort()
                    .addNewPort().withName("admin").withPort(4445).withTargetPort(new IntOrString(4445)).endPort()
                .endSpec().build()).create();
        awaitReady(2);
    }

    private Deployment deployment(String version) {
        return new DeploymentBuilder()
                .withNewMetadata().withName(NAME).withLabels(Map.of("app.kubernetes.io/name", NAME)).endMetadata()
                .withNewSpec()
                    .withReplicas(2)
                    .withNewSelector().withMatchLabels(Map.of("app", NAME)).endSelector()
                    .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate()
                        .withMaxUnavailable(new IntOrString(0)).withMaxSurge(new IntOrString(1)).endRollingUpdate().endStrategy()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(Map.of("app", NAME)).endMetadata()
                        .withNewSpec()
                            .withTerminationGracePeriodSeconds(30L)
                            .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10000L).endSecurityContext()
                            .addNewContainer()
                                .withName("hydra")
                                .withImage(env.hydraImage(version))
                                .withImagePullPolicy("IfNotPresent")
                                .withArgs("serve", "all", "--dev")
                                .addNewEnv().withName("DSN").withNewValueFrom().withNewSecretKeyRef().withName(DB_SECRET).withKey("dsn")
                                    .endSecretKeyRef().endValueFrom().endEnv()
                                .addNewEnv().withName("SECRETS_SYSTEM").withNewValueFrom().withNewSecretKeyRef().withName(DB_SECRET)
                                    .withKey("system-secret").endSecretKeyRef().endValueFrom().endEnv()
                                .addNewEnv().withName("URLS_SELF_ISSUER").withValue("http://" + NAME + ":4444/").endEnv()
                                .addNewPort().withName("public").withContainerPort(4444).endPort()
                                .addNewPort().withName("admin").withContainerPort(4445).endPort()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/health/ready").withNewPort(4445).endHttpGet()
                                    .withPeriodSeconds(1).withFailureThreshold(2).endReadinessProbe()
                                .withNewLivenessProbe().withNewHttpGet().withPath("/health/alive").withNewPort(4445).endHttpGet()
                                    .withInitialDelaySeconds(5).withPeriodSeconds(5).endLivenessProbe()
                                // Let endpoints and kube-proxy forget a pod before Hydra stops accepting connections.
                                .withNewLifecycle().withNewPreStop().withNewSleep().withSeconds(5L).endSleep().endPreStop().endLifecycle()
                                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                                    .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                            .endContainer()
                        .endSpec()
                    .endTemplate()
                .endSpec().build();
    }

    void awaitReady(int replicas) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> servingPods().size() >= replicas);
    }

    /** Ready, not terminating Hydra pods. */
    List<Pod> servingPods() {
        return client.pods().inNamespace(namespace).withLabel("app", NAME).list().getItems().stream()
                .filter(PodImages::isReady).filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    String serviceIp() {
        return client.services().inNamespace(namespace).withName(NAME).get().getSpec().getClusterIP();
    }
}
