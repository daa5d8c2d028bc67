package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Mode;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.testsupport.HealthCheckTool;
import io.kratosupgrade.operator.testsupport.PhaseRecorder;
import io.kratosupgrade.operator.testsupport.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The health checks we ship for GitOps tools, read against the real operator: runs against a real API server
 * (Gate mode with approval, a rolled back Recreate, a dry run and a refusal, a blue/green run switched back, retried
 * and finalized) go through every phase; a watch keeps
 * the object as stored in each; then the Argo CD Lua check (in gopher-lua, set up as Argo CD does) and the Flux
 * healthCheckExprs (with Flux's CEL library) must read each one as a GitOps pipeline needs. The Gate run is also the
 * API-server test of Gate mode: the operator never writes the Deployment, follows the rollout the test makes in its
 * place, and reports an image put back without touching it.
 *
 * <p>{@code -Dupdate.docs=true} rewrites the shipped Argo CD testdata and health_test.yaml from these samples.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthChecksIT extends ApiServerTestBase {

    static final Path ARGO = Path.of("gitops/argocd/kratos-upgrade.io/KratosUpgrade");
    static final Path FLUX = Path.of("gitops/flux/health-check-exprs.yaml");
    static final Path SAMPLES_DIR = Path.of("target/health-samples");
    static final String TARGET_IMAGE = "oryd/kratos:v1.3.1";

    /** Sample -> {Argo CD health, Flux status}. */
    static final Map<String, List<String>> EXPECTED = new LinkedHashMap<>();

    static {
        // Flux cannot evaluate an expression on an object without status: Unknown, which it keeps waiting on.
        EXPECTED.put("NoStatus", List.of("Progressing", "Unknown"));
        for (String progressing : List.of("GenerationNotObserved", "Pending", "Preflight", "ScalingDown", "BackingUp",
                "VerifyingBackup", "Rehearsing", "Migrating", "RollingOut", "Verifying", "RestoringDatabase", "RollingBack",
                "Replicating", "Freezing", "Copying", "MigratingData", "StartingNewSide", "Switching", "KeepingOld", "Finalizing", "SwitchingBack")) {
            EXPECTED.put(progressing, List.of("Progressing", "InProgress"));
        }
        EXPECTED.put("AwaitingApproval", List.of("Suspended", "InProgress"));
        for (String healthy : List.of("AwaitingRollout", "Succeeded", "Succeeded-ImageReverted", "Planned")) {
            EXPECTED.put(healthy, List.of("Healthy", "Current"));
        }
        for (String degraded : List.of("Failed", "RolledBack")) {
            EXPECTED.put(degraded, List.of("Degraded", "Failed"));
        }
    }

    static final Map<String, GenericKubernetesResource> SAMPLES = new ConcurrentSkipListMap<>();

    @Test
    @Order(1)
    void gateModeMigratesThenLeavesTheRolloutToTheOwnerAndNeverFightsIt() {
        controllers.start();
        installKratos();
        long generation = deployment().getMetadata().getGeneration();
        try (PhaseRecorder recorder = new PhaseRecorder(client, namespace)) {
            upgrade("gate", "v1.3.1", spec -> {
                spec.setMode(Mode.Gate);
                spec.getApproval().setRequired(true);
            });
            String hash = awaitPhase("gate", Phase.AwaitingApproval).getStatus().getPlan().getHash();
            Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("gate"),
                    ku -> { ku.getMetadata().getAnnotations().put(KratosUpgrade.APPROVE_ANNOTATION, hash); return ku; });

            KratosUpgrade ready = awaitPhase("gate", Phase.AwaitingRollout);
            assertThat(Conditions.get(ready.getStatus(), ConditionTypes.READY)).hasValueSatisfying(c -> {
                assertThat(c.getStatus()).isEqualTo("True");
                assertThat(c.getReason()).isEqualTo(Conditions.READY_FOR_ROLLOUT);
            });
            assertThat(controllers.jobsCreated).containsExactly("gate-1-backup", "gate-1-rehearse", "gate-1-migrate");
            assertThat(deployment().getMetadata().getGeneration()).as("the operator never writes the Deployment").isEqualTo(generation);

            // The GitOps tool rolls the Deployment out, as a later sync wave or a dependsOn Kustomization would.
            Edits.edit(client.apps().deployments().inNamespace(namespace).withName("kratos"), d -> {
                d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(TARGET_IMAGE);
                return d;
            });
            KratosUpgrade succeeded = awaitPhase("gate", Phase.Succeeded);
            assertThat(succeeded.getStatus().getVerification().getFinishedAt()).isNotNull();

            // Someone puts the old image back: reported, never patched.
            Edits.edit(client.apps().deployments().inNamespace(namespace).withName("kratos"), d -> {
                d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(OLD_IMAGE);
                return d;
            });
            awaitUpgrade("gate", ku -> Conditions.get(ku.getStatus(), ConditionTypes.IMAGE_REVERTED)
                    .filter(c -> "True".equals(c.getStatus())).isPresent());
            awaitEvents("ImageReverted");
            assertThat(controllers.deploymentImages).as("only the two changes the test made").containsExactly(OLD_IMAGE, TARGET_IMAGE, OLD_IMAGE);
            assertThat(deployment().getMetadata().getGeneration()).isEqualTo(generation + 2);

            // A new target the operator has not looked at yet.
            Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("gate"),
                    ku -> { ku.getSpec().setVersion("v1.3.2"); return ku; });
            await().atMost(WAIT).until(() -> recorder.samples().containsKey("GenerationNotObserved"));
            SAMPLES.putAll(recorder.samples());
        }
    }

    @Test
    @Order(2)
    void aRecreateThatNeverBecomesReadyRestoresTheDatabaseAndRollsBack() {
        controllers.neverReady(TARGET_IMAGE).start();
        installKratos();
        try (PhaseRecorder recorder = new PhaseRecorder(client, namespace)) {
            upgrade("recreate", "v1.3.1", spec -> {
                spec.setStrategy(Strategy.Recreate);
                spec.getRollout().setTimeout("4s");
                spec.getRollback().setOnFailure(RollbackPolicy.ImageAndDatabase);
            });
            awaitPhase("recreate", Phase.RolledBack);
            SAMPLES.putAll(recorder.samples());
        }
    }

    @Test
    @Order(3)
    void aDryRunIsPlannedADowngradeIsRefusedAndARetargetedRunIsSuperseded() {
        controllers.jobs("superseded-1-migrate", FakeControllers.JobBehavior.HANG).start();
        installKratos();
        try (PhaseRecorder recorder = new PhaseRecorder(client, namespace)) {
            upgrade("plan", "v1.3.1", spec -> spec.setDryRun(true));
            awaitPhase("plan", Phase.Planned);
            upgrade("downgrade", "v1.0.0", spec -> { });
            awaitPhase("downgrade", Phase.Failed);
            // A new run passes Pending within one decision; Pending is written when a retargeted run is superseded.
            upgrade("superseded", "v1.2.0", spec -> { });
            await().atMost(WAIT).until(() -> client.batch().v1().jobs().inNamespace(namespace).withName("superseded-1-migrate").get() != null);
            Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName("superseded")
                    .edit(ku -> { ku.getSpec().setVersion("v1.3.1"); return ku; }));
            controllers.completeJob("superseded-1-migrate");
            awaitUpgrade("superseded", ku -> ku.getStatus().getRun() == 2 && ku.getStatus().getPhase() == Phase.Succeeded);
            recorder.samples().forEach(SAMPLES::putIfAbsent);
        }
    }

    /** KeepingOld is Progressing: the run is not over while the old side can still come back. */
    @Test
    @Order(4)
    void aBlueGreenRunIsSwitchedBackThenRetriedAndFinalized() {
        controllers.start();
        installKratos();
        installBlueGreenTarget("kratos", Map.of("kratos-public", 4433));
        try (PhaseRecorder recorder = new PhaseRecorder(client, namespace)) {
            upgrade("bg", "v1.3.1", ApiServerTestBase::blueGreen);
            awaitPhase("bg", Phase.KeepingOld);
            annotate("bg", KratosUpgrade.SWITCH_BACK_ANNOTATION, "1");
            awaitPhase("bg", Phase.RolledBack);
            // The retry fills the target by logical replication: Replicating, then the cut-over in Copying.
            Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName("bg")
                    .edit(ku -> { ku.getSpec().getBlueGreen().setCopy(io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy.Replication); return ku; }));
            annotate("bg", KratosUpgrade.RETRY_ANNOTATION, "again");
            awaitUpgrade("bg", ku -> ku.getStatus().getRun() == 2 && ku.getStatus().getPhase() == Phase.KeepingOld);
            annotate("bg", KratosUpgrade.FINALIZE_ANNOTATION, "2");
            awaitPhase("bg", Phase.Succeeded);
            recorder.samples().forEach(SAMPLES::putIfAbsent);
        }
    }

    /** MigratingData: Keto v0.6 -> v0.7 moves its tuples after the target's migration. */
    @Test
    @Order(4)
    void aKetoRunMovesItsLegacyTuplesOnTheNewSide() {
        controllers.start();
        installKeto("oryd/keto:v0.6.0-alpha.3");
        installBlueGreenTarget("keto", KetoIT.SERVICES);
        try (PhaseRecorder recorder = new PhaseRecorder(client, namespace)) {
            upgrade("keto", "v0.7.0-alpha.1", spec -> {
                blueGreen(spec);
                spec.setProduct(io.kratosupgrade.operator.api.v1alpha1.OryProduct.Keto);
                spec.setDeploymentName("keto");
            });
            awaitPhase("keto", Phase.KeepingOld);
            recorder.samples().forEach(SAMPLES::putIfAbsent);
        }
    }

    private void annotate(String name, String key, String value) {
        Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name)
                .edit(ku -> { ku.getMetadata().getAnnotations().put(key, value); return ku; }));
    }

    @Test
    @Order(5)
    void argoCdAndFluxReadEveryPhaseAsAPipelineNeeds() throws IOException {
        assertThat(SAMPLES.keySet()).as("a sample of every phase")
                .containsAll(Arrays.stream(Phase.values()).map(Phase::name).toList())
                .containsAll(EXPECTED.keySet());
        Files.createDirectories(SAMPLES_DIR);
        List<Path> files = new ArrayList<>();
        for (String key : EXPECTED.keySet()) {
            Path file = SAMPLES_DIR.resolve(key + ".yaml");
            Files.writeString(file, Serialization.asYaml(cleaned(SAMPLES.get(key))));
            files.add(file);
        }

        List<JsonNode> results = HealthCheckTool.eval(ARGO.resolve("health.lua"), FLUX, files);

        assertThat(results).hasSameSizeAs(files);
        List<String> keys = new ArrayList<>(EXPECTED.keySet());
        StringBuilder table = new StringBuilder("sample | Argo CD | Flux\n");
        for (int i = 0; i < keys.size(); i++) {
            JsonNode r = results.get(i);
            table.append(keys.get(i)).append(" | ").append(r.at("/argo/status").asText()).append(" | ")
                    .append(r.at("/flux/status").asText()).append('\n');
        }
        System.out.print(table);
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            JsonNode r = results.get(i);
            assertThat(r.at("/argo/status").asText()).as("Argo CD health of %s: %s", key, r).isEqualTo(EXPECTED.get(key).get(0));
            assertThat(r.at("/argo/message").asText()).as("Argo CD message of %s", key).isNotBlank();
            assertThat(r.at("/flux/status").asText()).as("Flux status of %s: %s", key, r).isEqualTo(EXPECTED.get(key).get(1));
        }
        if (Boolean.getBoolean("update.docs")) {
            writeArgoTestdata(keys, results);
        }
        Processes.Result argoTest = HealthCheckTool.argoTest(ARGO);
        assertThat(argoTest.exitCode()).as("Argo CD's test of the shipped health_test.yaml:\n%s", argoTest).isZero();
    }

    /** The object as a reader of a manifest sees it, without what the API server adds. */
    private static GenericKubernetesResource cleaned(GenericKubernetesResource ku) {
        GenericKubernetesResource copy = Serialization.clone(ku);
        copy.getMetadata().setManagedFields(null);
        copy.getMetadata().setUid(null);
        copy.getMetadata().setResourceVersion(null);
        copy.getMetadata().setCreationTimestamp(null);
        copy.getMetadata().setFinalizers(null);
        copy.getMetadata().setNamespace("ory");
        return copy;
    }

    /** Argo CD's resource_customizations layout: testdata/<sample>.yaml and a health_test.yaml naming each result. */
    private static void writeArgoTestdata(List<String> keys, List<JsonNode> results) throws IOException {
        Path testdata = ARGO.resolve("testdata");
        Files.createDirectories(testdata);
        StringBuilder tests = new StringBuilder("tests:\n");
        for (int i = 0; i < keys.size(); i++) {
            String name = keys.get(i).replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase() + ".yaml";
            Files.copy(SAMPLES_DIR.resolve(keys.get(i) + ".yaml"), testdata.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            tests.append("  - healthStatus:\n")
                    .append("      status: ").append(results.get(i).at("/argo/status").asText()).append('\n')
                    .append("      message: ").append(Serialization.asJson(results.get(i).at("/argo/message").asText())).append('\n')
                    .append("    inputPath: testdata/").append(name).append('\n');
        }
        Files.writeString(ARGO.resolve("health_test.yaml"), tests.toString());
    }
}
