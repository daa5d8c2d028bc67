package io.kratosupgrade.operator.apiserver;

import io.kratosupgrade.operator.testsupport.OperatorHarness;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.resources.InspectionJobBuilder;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Each test gets its own namespace with a Kratos Deployment (2 replicas, DSN from a Secret with an
 * escaped password and Kratos-only pool parameters, config from a ConfigMap), a backup PVC, and the fake
 * controllers. The operator runs in this JVM for the whole class.
 */
abstract class ApiServerTestBase {

    static final String OLD_IMAGE = "oryd/kratos:v1.1.0";
    static final String TOOLS_IMAGE = "test/db-tools:1";
    /** A password that needs URL escaping, and the DSN as Kratos reads it. */
    static final String DB_PASSWORD = "s3cr#t/p@ss";
    static final String DSN = "postgres://kratos:s3cr%23t%2Fp%40ss@db.example.internal:5432/kratos"
            + "?sslmode=disable&max_conns=20&max_idle_conns=4&max_conn_lifetime=1h";
    static final Duration WAIT = Duration.ofSeconds(60);

    static KubernetesClient client;
    static OperatorHarness operator;

    String namespace;
    FakeControllers controllers;

    /** On a test class that starts an operator of its own (in its own @BeforeAll, into {@link #operator}). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface OwnOperator {
    }

    @BeforeAll
    static void startOperator(TestInfo info) {
        client = TestApiServer.client();
        if (!info.getTestClass().orElseThrow().isAnnotationPresent(OwnOperator.class)) {
            operator = new OperatorHarness(client, OperatorHarness.settings(TOOLS_IMAGE)).start();
        }
    }

    @AfterAll
    static void stopOperator() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    @BeforeEach
    void createNamespace() {
        namespace = "ku-" + UUID.randomUUID().toString().substring(0, 8);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build()).create();
        controllers = new FakeControllers(client, namespace);
    }

    @AfterEach
    void stopControllers() {
        controllers.close();
        // A test that stops the shared operator and fails before starting it again must not take the next tests with it.
        if (operator != null && !operator.running()) operator.start();
    }

    /** The Kratos installation a platform team would have, at {@link #OLD_IMAGE}. */
    void installKratos() {
        installKratos(namespace);
    }

    /** {@link #installKratos()} in another namespace (a fleet's tenant). */
    void installKratos(String namespace) {
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                .withNewMetadata().withName("kratos-db").endMetadata()
                .withStringData(Map.of("dsn", DSN)).build()).create();
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("kratos-backups").endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce")
                    .withNewResources().withRequests(Map.of("storage", new Quantity("1Gi"))).endResources()
                .endSpec().build()).create();
        client.apps().deployments().inNamespace(namespace).resource(kratosDeployment()).create();
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(namespace).withName("kratos").get().getStatus() != null);
    }

    /**
     * {@link #installKratos()} with a Keto Deployment of {@code image} in place of Kratos's: Keto's config file, its read
     * port's readiness probe and an Envoy sidecar beside it.
     */
    void installKeto(String image) {
        installKratos();
        client.apps().deployments().inNamespace(namespace).withName("kratos").delete();
        client.apps().deployments().inNamespace(namespace).resource(ketoDeployment(image)).create();
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(namespace).withName("keto").get().getStatus() != null);
    }

    static Deployment ketoDeployment(String image) {
        return new DeploymentBuilder()
                .withNewMetadata().withName("keto").endMetadata()
                .withNewSpec()
                    .withReplicas(2)
                    .withNewSelector().withMatchLabels(Map.of("app", "keto")).endSelector()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(Map.of("app", "keto")).endMetadata()
                        .withNewSpec()
                            .addNewContainer()
                                .withName("keto")
                                .withImage(image)
                                .withArgs("serve", "-c", "/etc/config/keto/keto.yaml")
                                .addNewEnv().withName("DSN").withNewValueFrom()
                                    .withNewSecretKeyRef().withName("kratos-db").withKey("dsn").endSecretKeyRef()
                                .endValueFrom().endEnv()
                                .addNewVolumeMount().withName("config").withMountPath("/etc/config/keto").endVolumeMount()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/health/ready").withNewPort(4466).endHttpGet().endReadinessProbe()
                            .endContainer()
                            .addNewContainer().withName("proxy").withImage("envoyproxy/envoy:v1.31.0").endContainer()
                            .addNewVolume().withName("config").withNewConfigMap().withName("keto-config").endConfigMap().endVolume()
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    /**
     * A BlueGreen target: Secret kratos-green-db (key dsn) naming an empty database, and the Services that select
     * app={@code app}, each on its port (name -> port).
     */
    void installBlueGreenTarget(String app, Map<String, Integer> services) {
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName("kratos-green-db").endMetadata()
                .withStringData(Map.of("dsn", DSN.replace("/kratos", "/kratos_green"))).build()).create();
        services.forEach((name, port) -> client.services().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.ServiceBuilder()
                .withNewMetadata().withName(name).endMetadata().withNewSpec().withSelector(Map.of("app", app)).addNewPort().withPort(port).endPort()
                .endSpec().build()).create());
    }

    static void blueGreen(KratosUpgradeSpec spec) {
        spec.setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.BlueGreen);
        spec.setBlueGreen(new io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec());
        spec.getBlueGreen().setTargetDatabase(new io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference("kratos-green-db", "dsn"));
    }

    static Deployment kratosDeployment() {
        return new DeploymentBuilder()
                .withNewMetadata().withName("kratos").withLabels(Map.of("app.kubernetes.io/name", "kratos")).endMetadata()
                .withNewSpec()
                    .withReplicas(2)
                    .withNewSelector().withMatchLabels(Map.of("app", "kratos")).endSelector()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(Map.of("app", "kratos")).endMetadata()
                        .withNewSpec()
                            .withServiceAccountName("kratos")
                            .addNewContainer()
                                .withName("kratos")
                                .withImage(OLD_IMAGE)
                                .withArgs("serve", "all", "--config", "/etc/config/kratos.yaml")
                                .addNewEnv().withName("DSN").withNewValueFrom()
                                    .withNewSecretKeyRef().withName("kratos-db").withKey("dsn").endSecretKeyRef()
                                .endValueFrom().endEnv()
                                .addNewVolumeMount().withName("config").withMountPath("/etc/config").endVolumeMount()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/admin/health/ready")
                                    .withNewPort(4434).endHttpGet().endReadinessProbe()
                            .endContainer()
                            .addNewVolume().withName("config").withNewConfigMap().withName("kratos-config").endConfigMap().endVolume()
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    KratosUpgrade upgrade(String name, String version, Consumer<KratosUpgradeSpec> customize) {
        KratosUpgrade ku = new KratosUpgrade();
        ku.getMetadata().setName(name);
        ku.getMetadata().setNamespace(namespace);
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.setDeploymentName("kratos");
        spec.setVersion(version);
        spec.getBackup().setPersistentVolumeClaim("kratos-backups");
        customize.accept(spec);
        ku.setSpec(spec);
        return client.resource(ku).create();
    }

    KratosUpgrade get(String name) {
        return client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).get();
    }

    KratosUpgrade awaitPhase(String name, Phase phase) {
        return awaitUpgrade(name, ku -> ku.getStatus() != null && ku.getStatus().getPhase() == phase);
    }

    KratosUpgrade awaitUpgrade(String name, Predicate<KratosUpgrade> condition) {
        return awaitUpgrade(name, condition, WAIT);
    }

    KratosUpgrade awaitUpgrade(String name, Predicate<KratosUpgrade> condition, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> {
            KratosUpgrade ku = get(name);
            return ku != null && condition.test(ku);
        });
        return get(name);
    }

    Deployment deployment() {
        return client.apps().deployments().inNamespace(namespace).withName("kratos").get();
    }

    String deploymentImage() {
        return deployment().getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    }

    /** The Jobs that change something (backup, migration); the read-only inspection Job is left out. */
    List<Job> jobs() {
        return client.batch().v1().jobs().inNamespace(namespace).list().getItems().stream()
                .filter(j -> !InspectionJobBuilder.STEP.equals(j.getMetadata().getLabels().get(Labels.STEP))).toList();
    }

    List<Event> events() {
        return client.v1().events().inNamespace(namespace).list().getItems();
    }

    /** Events are recorded after the status write that a test usually waits for: wait for them too. */
    void awaitEvents(String... reasons) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> org.assertj.core.api.Assertions.assertThat(eventReasons()).contains(reasons));
    }

    List<String> eventReasons() {
        return events().stream().map(Event::getReason).toList();
    }
}
