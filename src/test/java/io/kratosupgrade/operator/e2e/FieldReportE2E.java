package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.PlanStatus;
import io.kratosupgrade.operator.api.v1alpha1.PlanWarning;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.kratosupgrade.operator.testsupport.Edits;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The field report, replayed on the real cluster: Kratos v0.10.1 whose configuration still sets
 * {@code courier.message_ttl} (removed in v0.11.0, where {@code kratos serve} refuses it) is upgraded to v0.11.0.
 * Preflight must refuse before anything is touched; once the configuration is fixed a retry must go through under
 * load. Along the way: the plan's pending migrations against the rows the migration really writes, a dry run, and
 * the approval gate, each on real Kratos releases and a real PostgreSQL.
 */
class FieldReportE2E extends E2eTestBase {

    static final String FROM = "v0.10.1";
    static final String TO = "v0.11.0";
    /** Newest migration of v0.11.0 in the knowledge base (releases.json, docs/preflight.md). */
    static final String V0_11_0_NEWEST_MIGRATION = "20221024182336000000";
    static final String INITIAL_MIGRATION_JOB = "kratos-initial-migrate";
    /** Preflight includes a read-only inspection Job of the database (3 minutes at most), hence more than a few seconds. */
    static final Duration PREFLIGHT_TIMEOUT = Duration.ofMinutes(4);
    static final Pattern READ_ONLY_INSPECTION = Pattern.compile(".+-[0-9]+-inspect");

    /** What {@code schema_migration} holds: its row count and newest version. */
    record Schema(long rows, String newest) {
    }

    @Test
    void theFieldReportsUpgradeIsRefusedUntilTheConfigIsFixedThenRunsUnderLoadAsPlanned() throws Exception {
        Instant installStart = Instant.now();
        kratos.install(FROM, FieldReportE2E::fieldReportConfig);
        List<String> emails = kratos.seedIdentities(3);
        Duration install = Duration.between(installStart, Instant.now());
        long generation = deploymentGeneration();
        Schema installed = schema();
        assertThat(installed.newest()).as("v0.10.1 migrated the database").isNotNull();

        // 1. The upgrade of the field report: refused in preflight, nothing touched, the old release serving.
        Instant refusalStart = Instant.now();
        upgrade("field-report", TO, spec -> { });
        KratosUpgrade refused = awaitRefusal("field-report");
        Duration refusal = Duration.between(refusalStart, Instant.now());

        assertThat(refused.getStatus().getFailureReason()).isEqualTo("BreakingConfigChange");
        assertThat(refused.getStatus().getMessage())
                .contains("courier.message_ttl", TO, "courier.message_retries");
        Condition preflight = condition(refused, ConditionTypes.PREFLIGHT_PASSED);
        assertThat(preflight).as("the PreflightPassed condition").isNotNull();
        assertThat(preflight.getStatus()).isEqualTo("False");
        assertThat(preflight.getReason()).isEqualTo("BreakingConfigChange");
        assertThat(refused.getStatus().getBackup()).as("no backup step").isNull();
        assertUntouched(generation, installed);
        assertOldReleaseServes();

        // The fix the message names: message_ttl out (courier.message_retries must wait: v0.10.1 refuses it).
        client.configMaps().inNamespace(namespace).withName("kratos-config").edit(cm -> {
            cm.getData().put("kratos.yaml", fixedConfig(cm.getData().get("kratos.yaml")));
            return cm;
        });

        // 3. A dry run of the fixed configuration: the plan, and nothing else.
        Instant dryRunStart = Instant.now();
        upgrade("dry-run", TO, spec -> spec.setDryRun(true));
        KratosUpgrade planned = awaitOutcome("dry-run", Phase.Planned);
        Duration dryRun = Duration.between(dryRunStart, Instant.now());
        PlanStatus dryPlan = planned.getStatus().getPlan();
        assertThat(dryPlan).isNotNull();
        assertThat(dryPlan.getHash()).isNotBlank();
        assertThat(dryPlan.getReleasesCrossed()).containsExactly(TO);
        assertThat(ruleIds(dryPlan)).contains("recovery-default-code", "verification-default-code");
        assertThat(dryPlan.getPendingMigrations()).isPositive();
        assertThat(client.leases().inNamespace(namespace).withName(UpgradeLock.leaseName("kratos")).get())
                .as("a dry run does not lock the Deployment").isNull();
        assertUntouched(generation, installed);

        // 1 (continued), 2. The retry after the fix, under steady load: every request answered, the plan's pending
        // migrations are the rows the migration writes.
        LoadGenerator load = startLoad(false);
        Schema before = schema();
        int refusedRun = refused.getStatus().getRun();
        Instant retryStart = Instant.now();
        edit("field-report", ku -> annotations(ku).put(KratosUpgrade.RETRY_ANNOTATION, "config-fixed"));
        awaitUpgrade("field-report", ku -> ku.getStatus().getRun() != null && ku.getStatus().getRun() > refusedRun, Duration.ofMinutes(1));
        KratosUpgrade upgraded = awaitOutcome("field-report", Phase.Succeeded);
        Duration retry = Duration.between(retryStart, Instant.now());
        LoadGenerator.Result result = load.stop();
        Schema after = schema();
        PlanStatus plan = upgraded.getStatus().getPlan();

        System.out.printf("field report %s -> %s: install %ds, refused (BreakingConfigChange) after %ds, dry run Planned after %ds, "
                        + "retry Succeeded after %ds; load during the retry: %d requests ok, %d failed; plan warnings %s; "
                        + "pending migrations planned %d, rows written %d (%d -> %d)%n",
                FROM, TO, install.toSeconds(), refusal.toSeconds(), dryRun.toSeconds(), retry.toSeconds(), result.ok(), result.failed(),
                ruleIds(plan), plan.getPendingMigrations(), after.rows() - before.rows(), before.rows(), after.rows());
        System.out.printf("field report: the refusal said: %s%n", refused.getStatus().getMessage());

        assertThat(result.ok()).as("requests answered while upgrading").isGreaterThan(20);
        assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
        assertThat(ruleIds(plan)).contains("recovery-default-code", "verification-default-code");
        assertThat(plan.getReleasesCrossed()).containsExactly(TO);
        assertThat(before).as("nothing migrated before the retry").isEqualTo(installed);
        assertThat(after.newest()).isEqualTo(V0_11_0_NEWEST_MIGRATION);
        assertThat((long) plan.getPendingMigrations()).as("pending migrations in the plan vs rows the migration wrote")
                .isEqualTo(after.rows() - before.rows());
        assertThat(dryPlan.getPendingMigrations()).as("the dry run planned the same migrations").isEqualTo(plan.getPendingMigrations());
        assertEveryPodAnswers(TO);
        assertIdentitiesIntact(emails);
    }

    /** 4. The approval gate on the real cluster: another plan's approval is ignored, this plan's approval runs it. */
    @Test
    void anApprovalOfAnotherPlanIsIgnoredAndTheApprovalOfThisPlanRunsTheUpgrade() throws Exception {
        kratos.install("v1.0.0");
        long generation = deploymentGeneration();
        Schema installed = schema();

        Instant start = Instant.now();
        upgrade("approval", "v1.3.1", spec -> spec.getApproval().setRequired(true));
        KratosUpgrade waiting = awaitPhase("approval", Phase.AwaitingApproval, PREFLIGHT_TIMEOUT);
        Duration toApproval = Duration.between(start, Instant.now());
        PlanStatus plan = waiting.getStatus().getPlan();
        assertThat(plan).isNotNull();
        String hash = plan.getHash();
        assertThat(hash).isNotBlank().isNotEqualTo("aaaaaaaaaaaa");
        assertThat(plan.getSteps()).isNotEmpty();
        assertThat(waiting.getStatus().getMessage()).contains(hash);
        assertUntouched(generation, installed);

        Instant wrongStart = Instant.now();
        edit("approval", ku -> annotations(ku).put(KratosUpgrade.APPROVE_ANNOTATION, "aaaaaaaaaaaa"));
        KratosUpgrade ignored = awaitUpgrade("approval", ku -> ku.getStatus().getPhase() != Phase.AwaitingApproval
                || (ku.getStatus().getMessage() != null && ku.getStatus().getMessage().contains("aaaaaaaaaaaa")), Duration.ofMinutes(1));
        Duration wrongNoticed = Duration.between(wrongStart, Instant.now());
        assertThat(ignored.getStatus().getPhase()).as("phase once another plan is approved (" + ignored.getStatus().getMessage() + ")")
                .isEqualTo(Phase.AwaitingApproval);
        assertThat(ignored.getStatus().getMessage()).contains("ignored", hash);
        // Nothing moves while only another plan is approved (a condition that must hold for a while, not a sleep).
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("approval").getStatus().getPhase() == Phase.AwaitingApproval && operatorJobs().isEmpty());
        assertUntouched(generation, installed);

        Instant approvedStart = Instant.now();
        edit("approval", ku -> annotations(ku).put(KratosUpgrade.APPROVE_ANNOTATION, hash));
        KratosUpgrade done = awaitOutcome("approval", Phase.Succeeded);
        Duration approvedRun = Duration.between(approvedStart, Instant.now());
        Schema after = schema();

        System.out.printf("approval v1.0.0 -> v1.3.1: AwaitingApproval after %ds, approval of another plan reported after %ds, "
                        + "approved run Succeeded after %ds; pending migrations planned %d, rows written %d (%d -> %d)%n",
                toApproval.toSeconds(), wrongNoticed.toSeconds(), approvedRun.toSeconds(), plan.getPendingMigrations(),
                after.rows() - installed.rows(), installed.rows(), after.rows());

        assertThat(done.getStatus().getPlan().getHash()).isEqualTo(hash);
        assertThat(after.newest()).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
        assertThat((long) plan.getPendingMigrations()).as("pending migrations in the plan vs rows the migration wrote")
                .isEqualTo(after.rows() - installed.rows());
        assertEveryPodAnswers("v1.3.1");
    }

    /**
     * Waits until the run is refused, or gets past the point where nothing has been changed yet (then fails at once,
     * rather than after a rollout timeout), and checks it was refused.
     */
    private KratosUpgrade awaitRefusal(String name) {
        KratosUpgrade ku = awaitUpgrade(name, u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && !EnumSet.of(Phase.Pending, Phase.Preflight).contains(u.getStatus().getPhase()), PREFLIGHT_TIMEOUT);
        assertThat(ku.getStatus().getPhase()).as("the run was not refused: " + ku.getStatus().getMessage()).isEqualTo(Phase.Failed);
        return ku;
    }

    /** The demo configuration as the field report had it: courier.message_ttl set, recovery and verification on. */
    static String fieldReportConfig(String demo) {
        Map<String, Object> config = yaml(demo);
        map(config, "courier").put("message_ttl", "1h");
        Map<String, Object> flows = map(map(config, "selfservice"), "flows");
        map(flows, "recovery").put("enabled", true);
        map(flows, "verification").put("enabled", true);
        return Serialization.asYaml(config);
    }

    /** The fix BreakingConfigChange names: courier.message_ttl removed, nothing the running v0.10.1 would refuse added. */
    static String fixedConfig(String config) {
        Map<String, Object> parsed = yaml(config);
        Map<String, Object> courier = map(parsed, "courier");
        assertThat(courier.remove("message_ttl")).as("courier.message_ttl in the installed config").isNotNull();
        return Serialization.asYaml(parsed);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(String text) {
        try {
            return Serialization.yamlMapper().readValue(text, LinkedHashMap.class);
        } catch (Exception e) {
            throw new IllegalStateException("not YAML: " + text, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
    }

    private void edit(String name, Consumer<KratosUpgrade> change) {
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name), ku -> {
            change.accept(ku);
            return ku;
        });
    }

    private static Map<String, String> annotations(KratosUpgrade ku) {
        if (ku.getMetadata().getAnnotations() == null) ku.getMetadata().setAnnotations(new HashMap<>());
        return ku.getMetadata().getAnnotations();
    }

    private static List<String> ruleIds(PlanStatus plan) {
        return plan.getWarnings().stream().map(PlanWarning::getRule).toList();
    }

    private static Condition condition(KratosUpgrade ku, String type) {
        return ku.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    private Deployment deployment() {
        return client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get();
    }

    private long deploymentGeneration() {
        return deployment().getMetadata().getGeneration();
    }

    private Schema schema() throws Exception {
        return new Schema(postgres.count(kratos.database, "schema_migration"), postgres.newestMigration(kratos.database));
    }

    /**
     * Jobs in the namespace other than the installation's own initial migration and preflight's read-only look at the
     * database ({@code <name>-<run>-inspect}): a backup, a migration, anything that changes something.
     */
    private List<String> operatorJobs() {
        return client.batch().v1().jobs().inNamespace(namespace).list().getItems().stream()
                .map(j -> j.getMetadata().getName())
                .filter(n -> !INITIAL_MIGRATION_JOB.equals(n) && !READ_ONLY_INSPECTION.matcher(n).matches()).toList();
    }

    /** The Deployment's spec, the database and the namespace's Jobs are as the installation left them. */
    private void assertUntouched(long generation, Schema installed) throws Exception {
        assertThat(deploymentGeneration()).as("Deployment metadata.generation").isEqualTo(generation);
        assertThat(schema()).as("schema_migration rows and newest version").isEqualTo(installed);
        assertThat(operatorJobs()).as("Jobs created (backup, migration)").isEmpty();
    }

    /** Both v0.10.1 pods are ready, run the v0.10.1 image, and answer on the public and the admin API. */
    private void assertOldReleaseServes() throws Exception {
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage(FROM));
        assertEveryPodAnswers(FROM);
        for (Pod pod : kratos.servingPods()) {
            assertThat(pod.getSpec().getContainers().get(0).getImage()).isEqualTo(env.kratosImage(FROM));
            var health = kratos.get(pod, 4433, "/health/ready");
            assertThat(health.statusCode()).as("public /health/ready of " + pod.getMetadata().getName()).isEqualTo(200);
        }
    }
}
