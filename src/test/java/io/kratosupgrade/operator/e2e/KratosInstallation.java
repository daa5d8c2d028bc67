package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
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
import io.fabric8.kubernetes.client.LocalPortForward;
import io.kratosupgrade.operator.kube.PodImages;
import io.kratosupgrade.operator.resources.RestrictedPodSecurity;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kratos installed the way a platform team runs it: a database and role of its own, the DSN (with a
 * password that needs URL escaping and Kratos-only pool parameters) in a Secret, the config file and
 * identity schema from a ConfigMap, the initial migration as a Job, 2 replicas with readiness on
 * /admin/health/ready, a graceful rolling update, a Service, and a PVC for backups.
 */
final class KratosInstallation {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    static final String NAME = "kratos";
    static final String PVC = "kratos-backups";
    static final String SETTINGS_SECRET = "kratos-settings";
    /** Needs escaping in a URL: '@', '/', '#', '%' and a space. */
    static final String PASSWORD = "p@ss/w#rd% 42";
    static final Path DEMO_CONFIG = Path.of("hack", "images", "kratos-demo");

    final KubernetesClient client;
    final E2eEnvironment env;
    final Postgres postgres;
    final String namespace;
    final String database;
    /** How long each Kratos pod keeps serving after it is told to stop (its preStop sleep). */
    long drainSeconds = 5;
    /**
     * Pods as a namespace enforcing PodSecurity {@code restricted} requires, with seccomp set on each
     * container rather than on the pod (as many charts do).
     */
    boolean restricted;
    /** Seconds before a new Kratos pod may report ready (a slow starter: rollouts take a while). */
    int readinessDelaySeconds;
    /** Pods report ready only once a {@link ReadinessHold} admits them (its readiness gate in the pod template). */
    boolean readinessGated;
    /** Kratos on this MySQL-dialect server instead of PostgreSQL (null: PostgreSQL). */
    MariaDb mysql;

    KratosInstallation(KubernetesClient client, E2eEnvironment env, Postgres postgres, String namespace) {
        this.client = client;
        this.env = env;
        this.postgres = postgres;
        this.namespace = namespace;
        this.database = namespace.replace('-', '_');
    }

    String dsn(String password) {
        return dsn(database, password);
    }

    /** The DSN Kratos uses for {@code db} (owned by a role of the same name with {@code password}), as in {@link #install}. */
    String dsn(String db, String password) {
        if (mysql != null) {
            // Go's MySQL driver form, as Kratos's docs give it. Unlike a URL, the password is written as it is:
            // the driver never percent-decodes it.
            return "mysql://" + db + ":" + password + "@tcp(" + env.mysqlHostForPods() + ":" + env.mysqlPort() + ")/" + db
                    + "?parseTime=true&multiStatements=true&max_conns=20&max_idle_conns=4";
        }
        return "postgres://" + db + ":" + URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20")
                + "@" + env.pgHostForPods() + ":" + env.pgPort() + "/" + db
                + "?sslmode=disable&max_conns=20&max_idle_conns=4&max_conn_lifetime=1h";
    }

    /** Installs Kratos at {@code version} and waits until both replicas are ready. */
    void install(String version) throws Exception {
        install(version, config -> config);
    }

    /** Installs Kratos at {@code version}, its config edited by {@code configEdit}, and waits until both replicas are ready. */
    void install(String version, java.util.function.UnaryOperator<String> configEdit) throws Exception {
        if (mysql != null) {
            mysql.createDatabase(database, database, PASSWORD);
        } else {
            postgres.createDatabase(database, database, PASSWORD);
        }
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                .withNewMetadata().withName("kratos-db").endMetadata()
                .withStringData(Map.of("dsn", dsn(PASSWORD))).build()).create();
        // Settings passed as environment from a Secret, as many teams do (Kratos reads SERVE_ADMIN_PORT
        // over serve.admin.port). Running pods keep the value they started with.
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                .withNewMetadata().withName(SETTINGS_SECRET).endMetadata()
                .withStringData(Map.of("serve-admin-port", "4434")).build()).create();
        String config = configEdit.apply(Files.readString(DEMO_CONFIG.resolve("kratos.yaml")));
        client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
                .withNewMetadata().withName("kratos-config").endMetadata()
                .withData(Map.of("kratos.yaml", config,
                        "identity.schema.json", Files.readString(DEMO_CONFIG.resolve("identity.schema.json"))))
                .build()).create();
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(PVC).endMetadata()
                .withNewSpec().withStorageClassName(env.storageClass()).withAccessModes("ReadWriteOnce")
                    .withNewResources().withRequests(Map.of("storage", new Quantity("1Gi"))).endResources()
                .endSpec().build()).create();

        // The initial schema, as the Helm chart's migration Job would create it.
        Job initial = initialMigration(version);
        if (restricted) RestrictedPodSecurity.apply(initial.getSpec().getTemplate().getSpec());
        Job migrate = client.batch().v1().jobs().inNamespace(namespace).resource(initial).create();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Job j = client.batch().v1().jobs().inNamespace(namespace).withName(migrate.getMetadata().getName()).get();
            if (j.getStatus() != null && j.getStatus().getFailed() != null && j.getStatus().getFailed() > 0) {
                throw new AssertionError("initial migration failed: " + jobLogs(j.getMetadata().getName()));
            }
            return j.getStatus() != null && j.getStatus().getSucceeded() != null && j.getStatus().getSucceeded() > 0;
        });

        // First start on an empty database with ONE replica: Kratos creates its network row on first start,
        // and two replicas starting together can each create one, splitting identities between them
        // (seen here: identities created through one pod were invisible through the other).
        Deployment first = deployment(version);
        first.getSpec().setReplicas(1);
        client.apps().deployments().inNamespace(namespace).resource(first).create();
        awaitReady(1);
        client.apps().deployments().inNamespace(namespace).withName(NAME).scale(2);
        client.services().inNamespace(namespace).resource(new ServiceBuilder()
                .withNewMetadata().withName(NAME).endMetadata()
                .withNewSpec().withSelector(Map.of("app", NAME))
                    .addNewPort().withName("public").withPort(4433).withTargetPort(new IntOrString(4433)).endPort()
                    .addNewPort().withName("admin").withPort(4434).withTargetPort(new IntOrString(4434)).endPort()
                .endSpec().build()).create();
        awaitReady(2);
    }

    /** The Secret (key {@code dsn}) that {@link #createTargetDatabase} creates for strategy BlueGreen. */
    static final String TARGET_SECRET = "kratos-target-db";

    /**
     * An empty second database on the same PostgreSQL server, for strategy BlueGreen's new side: database and role
     * {@code <database>_target} (same password as Kratos's own, it needs URL escaping too), its DSN, built like
     * Kratos's own, in Secret {@link #TARGET_SECRET} under key {@code dsn}. Returns the database's name.
     */
    String createTargetDatabase() throws Exception {
        String target = database + "_target";
        postgres.createDatabase(target, target, PASSWORD);
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                .withNewMetadata().withName(TARGET_SECRET).endMetadata()
                .withStringData(Map.of("dsn", dsn(target, PASSWORD))).build()).create();
        return target;
    }

    /** The Secrets (key {@code dsn}) {@link #createReplicationUsers} creates for BlueGreen's copy Replication. */
    static final String PUBLISHER_SECRET = "kratos-publisher-db";
    static final String SUBSCRIBER_SECRET = "kratos-subscriber-db";

    /**
     * The users BlueGreen's copy Replication needs, as a DBA would create them, after {@link #install} and {@link
     * #createTargetDatabase}: {@code <database>_pub} with the REPLICATION attribute and SELECT on Kratos's tables (the
     * initial copy reads them), its DSN on the old database in {@link #PUBLISHER_SECRET}; {@code <database>_sub}, a
     * superuser (PostgreSQL 15 lets no one else create a subscription), its DSN on the target database in {@link
     * #SUBSCRIBER_SECRET}.
     */
    void createReplicationUsers() throws Exception {
        String publisher = database + "_pub";
        String subscriber = database + "_sub";
        postgres.execute("postgres", "CREATE ROLE " + publisher + " LOGIN REPLICATION PASSWORD '" + PASSWORD.replace("'", "''") + "'");
        postgres.execute(database, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + publisher);
        postgres.execute("postgres", "CREATE ROLE " + subscriber + " LOGIN SUPERUSER PASSWORD '" + PASSWORD.replace("'", "''") + "'");
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(PUBLISHER_SECRET).endMetadata()
                .withStringData(Map.of("dsn", dsn(database, PASSWORD).replace("://" + database + ":", "://" + publisher + ":"))).build()).create();
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(SUBSCRIBER_SECRET).endMetadata()
                .withStringData(Map.of("dsn", dsn(database + "_target", PASSWORD).replace("://" + database + "_target:", "://" + subscriber + ":")))
                .build()).create();
    }

    /** The selector of the Kratos Service. */
    Map<String, String> serviceSelector() {
        return client.services().inNamespace(namespace).withName(NAME).get().getSpec().getSelector();
    }

    /** The pods the Kratos Service sends traffic to: the ready endpoints of its EndpointSlices, by pod name. */
    java.util.Set<String> serviceEndpointPods() {
        java.util.Set<String> pods = new java.util.TreeSet<>();
        client.discovery().v1().endpointSlices().inNamespace(namespace).withLabel("kubernetes.io/service-name", NAME).list().getItems()
                .forEach(slice -> (slice.getEndpoints() == null ? List.<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>of() : slice.getEndpoints())
                        .stream()
                        .filter(e -> e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady()))
                        .filter(e -> e.getTargetRef() != null && "Pod".equals(e.getTargetRef().getKind()))
                        .forEach(e -> pods.add(e.getTargetRef().getName())));
        return pods;
    }

    /** Pods of Kratos with {@code label}={@code value} (any state), by name. */
    java.util.Set<String> podNames(String label, String value) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        client.pods().inNamespace(namespace).withLabel("app", NAME).withLabel(label, value).list().getItems()
                .forEach(p -> names.add(p.getMetadata().getName()));
        return names;
    }

    private Job initialMigration(String version) {
        return new JobBuilder()
                .withNewMetadata().withName("kratos-initial-migrate").endMetadata()
                .withNewSpec().withBackoffLimit(0)
                    .withNewTemplate().withNewSpec().withRestartPolicy("Never")
                        .addNewContainer().withName("migrate").withImage(env.kratosImage(version)).withImagePullPolicy("IfNotPresent")
                            .withArgs(version.startsWith("v1.") || version.startsWith("v0.")
                                    ? List.of("migrate", "sql", "-e", "--yes", "--config", "/etc/config/kratos/kratos.yaml")
                                    : List.of("migrate", "sql", "up", "-e", "--yes", "--config", "/etc/config/kratos/kratos.yaml"))
                            .addNewEnv().withName("DSN").withNewValueFrom().withNewSecretKeyRef().withName("kratos-db").withKey("dsn")
                                .endSecretKeyRef().endValueFrom().endEnv()
                            .addNewVolumeMount().withName("config").withMountPath("/etc/config/kratos").endVolumeMount()
                        .endContainer()
                        .addNewVolume().withName("config").withNewConfigMap().withName("kratos-config").endConfigMap().endVolume()
                    .endSpec().endTemplate()
                .endSpec().build();
    }

    /** The Deployment as a team keeps it in Git: what {@link #install} creates, at {@code version}, as YAML. */
    String deploymentManifest(String version) {
        return io.fabric8.kubernetes.client.utils.Serialization.asYaml(deployment(version));
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
                            .withReadinessGates(readinessGated ? List.of(new io.fabric8.kubernetes.api.model.PodReadinessGate(ReadinessHold.CONDITION)) : List.of())
                            .withTerminationGracePeriodSeconds(drainSeconds + 25)
                            .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10000L).endSecurityContext()
                            .addNewContainer()
                                .withName("kratos")
                                .withImage(env.kratosImage(version))
                                .withImagePullPolicy("IfNotPresent")
                                .withArgs("serve", "all", "--config", "/etc/config/kratos/kratos.yaml")
                                .addNewEnv().withName("DSN").withNewValueFrom().withNewSecretKeyRef().withName("kratos-db").withKey("dsn")
                                    .endSecretKeyRef().endValueFrom().endEnv()
                                .addNewEnv().withName("SERVE_ADMIN_PORT").withNewValueFrom().withNewSecretKeyRef()
                                    .withName(SETTINGS_SECRET).withKey("serve-admin-port").endSecretKeyRef().endValueFrom().endEnv()
                                .addNewPort().withName("public").withContainerPort(4433).endPort()
                                .addNewPort().withName("admin").withContainerPort(4434).endPort()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/admin/health/ready").withNewPort(4434).endHttpGet()
                                    .withInitialDelaySeconds(readinessDelaySeconds).withPeriodSeconds(1).withFailureThreshold(2)
                                .endReadinessProbe()
                                .withNewLivenessProbe().withNewHttpGet().withPath("/admin/health/alive").withNewPort(4434).endHttpGet()
                                    .withInitialDelaySeconds(5).withPeriodSeconds(5).endLivenessProbe()
                                // Let endpoints and kube-proxy forget a pod before Kratos stops accepting connections.
                                .withNewLifecycle().withNewPreStop().withNewSleep().withSeconds(drainSeconds).endSleep().endPreStop().endLifecycle()
                                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                                    .withNewCapabilities().withDrop("ALL").endCapabilities()
                                    .withSeccompProfile(restricted ? new io.fabric8.kubernetes.api.model.SeccompProfile(null, "RuntimeDefault") : null)
                                .endSecurityContext()
                                .addNewVolumeMount().withName("config").withMountPath("/etc/config/kratos").endVolumeMount()
                            .endContainer()
                            .addNewVolume().withName("config").withNewConfigMap().withName("kratos-config").endConfigMap().endVolume()
                        .endSpec()
                    .endTemplate()
                .endSpec().build();
    }

    void awaitReady(int replicas) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> servingPods().size() >= replicas);
    }

    /** Ready, not terminating Kratos pods. */
    List<Pod> servingPods() {
        return client.pods().inNamespace(namespace).withLabel("app", NAME).list().getItems().stream()
                .filter(PodImages::isReady).toList();
    }

    String deploymentImage() {
        return client.apps().deployments().inNamespace(namespace).withName(NAME).get()
                .getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    }

    /**
     * GET on a pod's port through the API server (port-forward), so it works against any cluster. A port-forward
     * through an API server busy with parallel scenarios now and then stalls its first exchange; a GET is safe to
     * repeat, so a timed-out one is tried again on a new port-forward, three times at most.
     */
    HttpResponse<String> get(Pod pod, int port, String path) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return getOnce(pod, port, path);
            } catch (HttpTimeoutException e) {
                if (attempt == 3) throw e;
            }
        }
    }

    private HttpResponse<String> getOnce(Pod pod, int port, String path) throws IOException, InterruptedException {
        try (LocalPortForward pf = client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).portForward(port)) {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pf.getLocalPort() + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private HttpResponse<String> postOnce(Pod pod, int port, String path, String json) throws IOException, InterruptedException {
        try (LocalPortForward pf = client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).portForward(port)) {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pf.getLocalPort() + path))
                    .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /**
     * Creates identities through the admin API and returns their emails. A POST whose port-forward stalled (see
     * {@link #get}) is sent again; the first may have reached Kratos, so on a repeat a 409 (the email exists) means
     * the identity was created.
     */
    List<String> seedIdentities(int count) throws Exception {
        Pod pod = servingPods().get(0);
        List<String> emails = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String email = "user" + i + "@" + namespace + ".example.org";
            String json = "{\"schema_id\":\"default\",\"traits\":{\"email\":\"" + email + "\"},"
                    + "\"credentials\":{\"password\":{\"config\":{\"password\":\"correct-horse-battery-" + i + "\"}}}}";
            for (int attempt = 1; ; attempt++) {
                HttpResponse<String> r;
                try {
                    r = postOnce(pod, 4434, "/admin/identities", json);
                } catch (HttpTimeoutException e) {
                    if (attempt == 3) throw e;
                    continue;
                }
                if (r.statusCode() == 201 || (r.statusCode() == 409 && attempt > 1)) break;
                throw new AssertionError("creating identity " + email + " answered " + r.statusCode() + ": " + r.body());
            }
            emails.add(email);
        }
        return emails;
    }

    /**
     * Logs seeded identity {@code index} in through the public API as a native app does (an API login flow, then
     * the password method) and returns the session's identity id; fails unless Kratos answers 200. A login whose
     * port-forward stalled starts again with a new flow (logging in twice is harmless).
     */
    String logIn(int index) throws Exception {
        return logInSession(index).at("/session/identity/id").asText();
    }

    /** Like {@link #logIn}, and returns the session token (for X-Session-Token); the caller must not print it. */
    String sessionToken(int index) throws Exception {
        return logInSession(index).get("session_token").asText();
    }

    private com.fasterxml.jackson.databind.JsonNode logInSession(int index) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return logInOnce(index);
            } catch (HttpTimeoutException e) {
                if (attempt == 3) throw e;
            }
        }
    }

    private com.fasterxml.jackson.databind.JsonNode logInOnce(int index) throws Exception {
        Pod pod = servingPods().get(0);
        HttpResponse<String> flow = get(pod, 4433, "/self-service/login/api");
        if (flow.statusCode() != 200) throw new AssertionError("creating a login flow answered " + flow.statusCode() + ": " + flow.body());
        String flowId = JSON.readTree(flow.body()).get("id").asText();
        HttpResponse<String> login = postOnce(pod, 4433, "/self-service/login?flow=" + flowId, "{\"method\":\"password\",\"identifier\":\"user"
                + index + "@" + namespace + ".example.org\",\"password\":\"correct-horse-battery-" + index + "\"}");
        if (login.statusCode() != 200) throw new AssertionError("logging in answered " + login.statusCode() + ": " + login.body());
        return JSON.readTree(login.body());
    }

    String jobLogs(String job) {
        StringBuilder out = new StringBuilder();
        for (Pod p : client.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems()) {
            try {
                out.append(client.pods().inNamespace(namespace).withName(p.getMetadata().getName()).getLog());
            } catch (RuntimeException e) {
                out.append("(no log: ").append(e.getMessage()).append(")");
            }
        }
        return out.toString();
    }
}
