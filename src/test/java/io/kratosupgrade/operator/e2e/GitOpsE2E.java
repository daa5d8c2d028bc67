package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.testsupport.FluxPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real GitOps pipeline: Flux's source-controller and kustomize-controller (built from the Go module proxy) apply a
 * Git repository served from this machine to the cluster, and the tests commit to it the way a team does. Gate mode
 * with the shipped healthCheckExprs and dependsOn must migrate before Flux rolls Kratos out, with no failed request;
 * a Managed-mode KratosUpgrade for a Flux-owned Deployment must be refused; an old image put back in Git must be
 * reported and never fought.
 */
class GitOpsE2E extends E2eTestBase {

    static final Path HEALTH_CHECK_EXPRS = Path.of("gitops/flux/health-check-exprs.yaml");
    static FluxPipeline flux;

    @BeforeAll
    static void startFlux() throws Exception {
        flux = FluxPipeline.start(client, env.kubeconfig());
    }

    @AfterAll
    static void stopFlux() {
        if (flux != null) flux.close();
    }

    @Test
    void gateModeMigratesBeforeFluxRollsKratosOutAndAnOldImagePutBackIsNeverFought() throws Exception {
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(3);
        FluxPipeline.GitRepo repo = flux.repository(namespace);
        repo.commit("Kratos v1.0.0, gated by the operator", Map.of(
                "app/deployment.yaml", kratos.deploymentManifest("v1.0.0"),
                "upgrade/kratosupgrade.yaml", gateUpgrade("v1.0.0")));
        String pipeline = pipeline(repo, true);
        flux.apply(pipeline);
        try {
            awaitUpgrade("kratos", ku -> ku.getStatus() != null && ku.getStatus().getPhase() == Phase.Succeeded, UPGRADE_TIMEOUT);
            await().atMost(Duration.ofMinutes(2)).until(() -> managedBy(deployment(), "kustomize-controller"));

            LoadGenerator load = startLoad(false);
            Instant start = Instant.now();
            repo.commit("Kratos v1.3.1", Map.of(
                    "app/deployment.yaml", kratos.deploymentManifest("v1.3.1"),
                    "upgrade/kratosupgrade.yaml", gateUpgrade("v1.3.1")));
            KratosUpgrade ku = awaitUpgrade("kratos", u -> u.getStatus() != null && "v1.3.1".equals(u.getStatus().getToVersion())
                    && u.getStatus().getPhase() != null && u.getStatus().getPhase().isTerminal(), UPGRADE_TIMEOUT);
            LoadGenerator.Result result = load.stop();
            assertThat(ku.getStatus().getPhase()).as(ku.getStatus().getMessage()).isEqualTo(Phase.Succeeded);

            Instant migrated = Instant.parse(ku.getStatus().getMigration().getFinishedAt());
            Instant rolled = newReplicaSet("v1.3.1").map(rs -> Instant.parse(rs.getMetadata().getCreationTimestamp()))
                    .orElseThrow(() -> new AssertionError("no ReplicaSet of v1.3.1"));
            System.out.printf("gitops (Flux, Gate): commit -> migrated %ds, -> Flux rolled the Deployment %ds, -> Succeeded %ds; "
                            + "%d requests ok, %d failed%n", Duration.between(start, migrated).toSeconds(),
                    Duration.between(start, rolled).toSeconds(),
                    Duration.between(start, Instant.parse(ku.getStatus().getFinishedAt())).toSeconds(), result.ok(), result.failed());
            assertThat(rolled).as("Flux rolled the Deployment only after the migration finished").isAfterOrEqualTo(migrated);
            assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
            assertThat(result.ok()).isGreaterThan(20);
            assertEveryPodAnswers("v1.3.1");
            assertIdentitiesIntact(emails);

            // Someone puts the old image back in Git: reported, and the Deployment changes exactly once.
            long generation = deployment().getMetadata().getGeneration();
            repo.commit("back to v1.0.0", Map.of("app/deployment.yaml", kratos.deploymentManifest("v1.0.0")));
            awaitUpgrade("kratos", u -> Conditions.get(u.getStatus(), ConditionTypes.IMAGE_REVERTED)
                    .filter(c -> "True".equals(c.getStatus())).isPresent(), Duration.ofMinutes(3));
            List<Long> generations = new ArrayList<>();
            Instant until = Instant.now().plus(Duration.ofMinutes(2));
            // An observation window over many Flux reconciles (interval 5s), not a wait for a condition.
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                generations.add(deployment().getMetadata().getGeneration());
                return Instant.now().isAfter(until);
            });
            assertThat(generations).as("the Deployment's generation over two minutes").allMatch(g -> g == generation + 1);
            assertThat(get("kratos").getStatus().getPhase()).isEqualTo(Phase.Succeeded);
            assertThat(client.v1().events().inNamespace(namespace).list().getItems()).as("one ImageReverted Event, not one per sync")
                    .filteredOn(e -> "ImageReverted".equals(e.getReason())).singleElement()
                    .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
        } finally {
            flux.delete(pipeline);
        }
    }

    @Test
    void aManagedUpgradeOfAFluxOwnedDeploymentIsRefusedAndNothingIsPatched() throws Exception {
        kratos.install("v1.0.0");
        FluxPipeline.GitRepo repo = flux.repository(namespace);
        repo.commit("Kratos v1.0.0", Map.of("app/deployment.yaml", kratos.deploymentManifest("v1.0.0")));
        String pipeline = pipeline(repo, false);
        flux.apply(pipeline);
        try {
            await().atMost(Duration.ofMinutes(2)).until(() -> managedBy(deployment(), "kustomize-controller"));
            long generation = deployment().getMetadata().getGeneration();

            upgrade("managed", "v1.3.1", spec -> { });
            KratosUpgrade ku = awaitOutcome("managed", Phase.Failed);

            assertThat(ku.getStatus().getFailureReason()).isEqualTo("ManagedByGitOps");
            assertThat(ku.getStatus().getMessage()).contains("kustomize-controller").contains("spec.mode: Gate");
            assertThat(deployment().getMetadata().getGeneration()).as("nothing patched").isEqualTo(generation);
            assertThat(ku.getStatus().getBackup()).as("nothing backed up").isNull();
        } finally {
            flux.delete(pipeline);
        }
    }

    private Deployment deployment() {
        return client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get();
    }

    private static boolean managedBy(Deployment d, String manager) {
        return d.getMetadata().getManagedFields().stream().anyMatch(f -> manager.equals(f.getManager()));
    }

    private java.util.Optional<ReplicaSet> newReplicaSet(String version) {
        return client.apps().replicaSets().inNamespace(namespace).list().getItems().stream()
                .filter(rs -> rs.getSpec().getTemplate().getSpec().getContainers().get(0).getImage().endsWith(":" + version))
                .findFirst();
    }

    private static String gateUpgrade(String version) {
        return """
                apiVersion: kratos-upgrade.io/v1alpha1
                kind: KratosUpgrade
                metadata:
                  name: kratos
                spec:
                  deploymentName: %s
                  version: %s
                  mode: Gate
                  backup:
                    persistentVolumeClaim: %s
                    verify: false
                """.formatted(KratosInstallation.NAME, version, KratosInstallation.PVC);
    }

    /**
     * The GitRepository and the Kustomizations a team writes (docs/gitops.md): with {@code gated}, one for the
     * KratosUpgrade that waits on its health through the shipped healthCheckExprs, and one for Kratos that dependsOn it.
     */
    private String pipeline(FluxPipeline.GitRepo repo, boolean gated) throws Exception {
        String name = namespace;
        String exprs = Files.readString(HEALTH_CHECK_EXPRS).lines().filter(l -> !l.startsWith("#"))
                .map(l -> "    " + l).reduce("", (a, b) -> a + b + "\n");
        String source = """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: GitRepository
                metadata: {name: %1$s, namespace: flux-system}
                spec:
                  interval: 5s
                  url: %2$s
                  ref: {branch: main}
                """.formatted(name, repo.url());
        String upgrade = """
                ---
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: %1$s-upgrade, namespace: flux-system}
                spec:
                  interval: 5s
                  retryInterval: 5s
                  path: ./upgrade
                  targetNamespace: %1$s
                  sourceRef: {kind: GitRepository, name: %1$s}
                  prune: true
                  wait: true
                  timeout: 10m
                  healthCheckExprs:
                %2$s""".formatted(name, exprs);
        String app = """
                ---
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: %1$s-app, namespace: flux-system}
                spec:
                  interval: 5s
                  retryInterval: 5s
                  path: ./app
                  targetNamespace: %1$s
                  sourceRef: {kind: GitRepository, name: %1$s}
                  prune: false
                %2$s""".formatted(name, gated ? "  dependsOn:\n    - name: " + name + "-upgrade\n" : "");
        return source + (gated ? upgrade : "") + app;
    }
}
