package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kratosupgrade.operator.api.v1alpha1.FleetCanary;
import io.kratosupgrade.operator.api.v1alpha1.FleetPhase;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.fleet.FleetLabels;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.testsupport.OperatorHarness;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fleets against a real API server: tenants in namespaces of their own, each with a Kratos Deployment and the fake
 * Job and Deployment controllers; the fleet in the test's namespace, which this operator treats as a fleet-admin
 * namespace. What each instance does is the ordinary engine's work, so these tests look at the fleet's choices:
 * which KratosUpgrades exist when, and what the fleet's status and events say.
 */
@ApiServerTestBase.OwnOperator
class FleetIT extends ApiServerTestBase {

    /**
     * The namespaces of this class: the operator watches only these, so that the Jobs other classes left running on
     * the shared API server (their fake controllers are gone) do not hold its migration slots.
     */
    private static final String PREFIX = "fl" + UUID.randomUUID().toString().substring(0, 6);
    /** This operator's fleet-admin namespace. */
    private static final String ADMIN = PREFIX + "-admin";
    private static final String WAVES = PREFIX + "-w";
    private static final String BOUND = PREFIX + "-m";
    private static final String LOCAL = PREFIX + "-local";
    private final List<FakeControllers> tenantControllers = new ArrayList<>();

    @BeforeAll
    static void startFleetOperator() {
        List<String> watched = new ArrayList<>(List.of(ADMIN, LOCAL));
        for (int i = 1; i <= 4; i++) watched.add(WAVES + "-t" + i);
        for (int i = 1; i <= 3; i++) watched.add(BOUND + "-t" + i);
        // One migration at a time, operator-wide: what stops a fleet from migrating every tenant at once.
        operator = new OperatorHarness(client, OperatorHarness.settings(TOOLS_IMAGE, 1)).fleetAdminNamespaces(ADMIN)
                .start(watched.toArray(String[]::new));
    }

    @AfterEach
    void stopTenants() {
        tenantControllers.forEach(FakeControllers::close);
    }

    /** A tenant namespace labelled for this test, with Kratos at the old release and the fake controllers. */
    private FakeControllers tenant(String namespace, String label, Consumer<FakeControllers> behaviour) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
                .withLabels(Map.of("fleet-test", label)).endMetadata().build()).create();
        FakeControllers controllers = new FakeControllers(client, namespace);
        behaviour.accept(controllers);
        tenantControllers.add(controllers.start());
        installKratos(namespace);
        return controllers;
    }

    private void adminNamespace() {
        if (client.namespaces().withName(ADMIN).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ADMIN).endMetadata().build()).create();
        }
    }

    private KratosFleetUpgrade fleet(String namespace, String name, Consumer<KratosFleetUpgradeSpec> customize) {
        KratosFleetUpgrade fleet = new KratosFleetUpgrade();
        fleet.getMetadata().setName(name);
        fleet.getMetadata().setNamespace(namespace);
        KratosFleetUpgradeSpec spec = new KratosFleetUpgradeSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app.kubernetes.io/name", "kratos")).build());
        spec.getTemplate().getSpec().setVersion("v1.3.1");
        spec.getTemplate().getSpec().getBackup().setPersistentVolumeClaim("kratos-backups");
        customize.accept(spec);
        fleet.setSpec(spec);
        return client.resource(fleet).create();
    }

    private KratosFleetUpgrade awaitFleet(String namespace, String name, Predicate<KratosFleetUpgrade> condition) {
        await().atMost(WAIT.multipliedBy(2)).pollInterval(java.time.Duration.ofMillis(200))
                .conditionEvaluationListener(c -> {
                    if (c.getRemainingTimeInMS() < 300) {
                        System.out.println("fleet at the deadline: " + client.getKubernetesSerialization().asYaml(
                                client.resources(KratosFleetUpgrade.class).inNamespace(namespace).withName(name).get()));
                    }
                })
                .until(() -> {
            KratosFleetUpgrade f = client.resources(KratosFleetUpgrade.class).inNamespace(namespace).withName(name).get();
            return f != null && f.getStatus() != null && condition.test(f);
        });
        return client.resources(KratosFleetUpgrade.class).inNamespace(namespace).withName(name).get();
    }

    private List<KratosUpgrade> upgradesIn(String namespace) {
        return client.resources(KratosUpgrade.class).inNamespace(namespace).list().getItems();
    }

    private String imageIn(String namespace) {
        return client.apps().deployments().inNamespace(namespace).withName("kratos").get()
                .getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    }

    @Test
    void wavesHaltOnTheFirstFailureAndARetryAfterTheFixFinishesWithoutRepeatingAnyone() {
        adminNamespace();
        String label = WAVES;
        String t1 = label + "-t1", t2 = label + "-t2", broken = label + "-t3", t4 = label + "-t4";
        tenant(t1, label, c -> { });
        tenant(t2, label, c -> { });
        // The third tenant's migration fails (its database refuses the migration, say).
        FakeControllers brokenControllers = tenant(broken, label, c -> c.jobs("migrate", FakeControllers.JobBehavior.FAIL));
        tenant(t4, label, c -> { });

        fleet(ADMIN, label, spec -> {
            spec.setNamespaceSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("fleet-test", label)).build());
            FleetCanary canary = new FleetCanary();
            canary.setCount(1);
            spec.getRollout().setCanary(canary);
            spec.getRollout().setMaxConcurrent(new IntOrString(2));
        });

        KratosFleetUpgrade halted = awaitFleet(ADMIN, label, f -> f.getStatus().getPhase() == FleetPhase.Halted
                && f.getStatus().getInProgress() == 0);
        assertThat(halted.getStatus().getWaves()).extracting(w -> w.getInstances())
                .containsExactly(List.of(t1 + "/kratos"), List.of(t2 + "/kratos", broken + "/kratos"));
        assertThat(halted.getStatus().getWaves().get(0).isCanary()).isTrue();
        assertThat(halted.getStatus().getFailedInstances()).singleElement().satisfies(r -> {
            assertThat(r.getInstance()).isEqualTo(broken + "/kratos");
            assertThat(r.getReason()).isEqualTo("MigrationFailed");
        });
        assertThat(halted.getStatus().getProgress()).isEqualTo("2/4");
        assertThat(upgradesIn(t4)).as("nothing starts after the halt").isEmpty();
        assertThat(imageIn(t4)).isEqualTo(OLD_IMAGE);
        assertThat(imageIn(t2)).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(imageIn(broken)).as("the failed tenant still runs the old release").isEqualTo(OLD_IMAGE);
        assertThat(halted.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Halted");
            assertThat(c.getStatus()).isEqualTo("True");
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(client.v1().events().inNamespace(ADMIN).list().getItems())
                .extracting(e -> e.getReason()).contains("FleetRunStarted", "WaveStarted", "WaveFinished", "FleetHalted"));

        // The fix, then a retry of the fleet.
        brokenControllers.jobs("migrate", FakeControllers.JobBehavior.SUCCEED);
        Edits.retryingConflicts(() -> client.resources(KratosFleetUpgrade.class).inNamespace(ADMIN).withName(label)
                .edit(f -> {
                    f.getMetadata().getAnnotations().put(KratosUpgrade.RETRY_ANNOTATION, "fixed");
                    return f;
                }));
        KratosFleetUpgrade done = awaitFleet(ADMIN, label, f -> f.getStatus().getPhase() == FleetPhase.Succeeded);
        assertThat(done.getStatus().getProgress()).isEqualTo("4/4");
        for (String ns : List.of(t1, t2, broken, t4)) {
            assertThat(imageIn(ns)).as(ns).isEqualTo("oryd/kratos:v1.3.1");
            assertThat(upgradesIn(ns)).as("one KratosUpgrade per instance").singleElement().satisfies(ku -> {
                assertThat(ku.getMetadata().getLabels()).containsEntry(FleetLabels.FLEET, label);
                assertThat(ku.getStatus().getRun()).as("runs of " + ns).isEqualTo(ns.equals(broken) ? 2 : 1);
            });
        }
        assertThat(done.getStatus().getWaves()).extracting(w -> w.getInstances()).containsExactly(
                List.of(t1 + "/kratos"), List.of(t2 + "/kratos", broken + "/kratos"), List.of(broken + "/kratos"),
                List.of(t4 + "/kratos"));
    }

    @Test
    void theOperatorWideBoundOnMigrationsHoldsAWaveBackWhateverItsSize() {
        adminNamespace();
        String label = BOUND;
        List<String> tenants = List.of(label + "-t1", label + "-t2", label + "-t3");
        Map<String, FakeControllers> controllers = new java.util.LinkedHashMap<>();
        // Migrations that run until the test ends them.
        tenants.forEach(ns -> controllers.put(ns, tenant(ns, label, c -> c.jobs("migrate", FakeControllers.JobBehavior.HANG))));
        fleet(ADMIN, label, spec -> {
            spec.setNamespaceSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("fleet-test", label)).build());
            spec.getRollout().setMaxConcurrent(new IntOrString(3));
            spec.getTemplate().getSpec().getBackup().setVerify(false);
        });
        List<String> migrated = new ArrayList<>();
        for (int round = 0; round < tenants.size(); round++) {
            await().atMost(WAIT).untilAsserted(() -> {
                List<String> running = runningMigrations(tenants);
                assertThat(running).as("migration Jobs running at once").hasSize(1);
                assertThat(migrated).doesNotContain(running.get(0));
            });
            String ns = runningMigrations(tenants).get(0);
            await().atMost(WAIT).untilAsserted(() -> assertThat(tenants.stream().filter(t -> !t.equals(ns) && !migrated.contains(t))
                    .map(t -> upgradesIn(t).get(0).getStatus().getMessage()).toList())
                    .allSatisfy(m -> assertThat(m).contains("waiting for a migration slot")));
            assertThat(runningMigrations(tenants)).as("still one, after the others looked").hasSize(1);
            Job job = client.batch().v1().jobs().inNamespace(ns).withLabel(Labels.STEP, "migrate").list().getItems().get(0);
            controllers.get(ns).completeJob(job.getMetadata().getName());
            migrated.add(ns);
        }
        KratosFleetUpgrade done = awaitFleet(ADMIN, label, f -> f.getStatus().getPhase() == FleetPhase.Succeeded);
        assertThat(done.getStatus().getWaves()).singleElement().satisfies(w -> assertThat(w.getInstances()).hasSize(3));
    }

    /** The tenants whose migration Job is running. */
    private List<String> runningMigrations(List<String> tenants) {
        return tenants.stream().filter(ns -> client.batch().v1().jobs().inNamespace(ns).withLabel(Labels.STEP, "migrate").list()
                .getItems().stream().anyMatch(j -> j.getStatus() != null && j.getStatus().getSucceeded() == null)).toList();
    }

    @Test
    void aKratosUpgradeMadeByHandIsRespectedAndANamespaceSelectorOutsideTheAdminNamespacesIsRefused() {
        tenant(LOCAL, LOCAL, c -> { });
        KratosUpgrade byHand = new KratosUpgrade();
        byHand.getMetadata().setName("by-hand");
        byHand.getMetadata().setNamespace(LOCAL);
        byHand.setSpec(new io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec());
        byHand.getSpec().setDeploymentName("kratos");
        byHand.getSpec().setVersion("v1.3.1");
        byHand.getSpec().getBackup().setPersistentVolumeClaim("kratos-backups");
        client.resource(byHand).create();
        fleet(LOCAL, "local", spec -> { });
        KratosFleetUpgrade done = awaitFleet(LOCAL, "local", f -> f.getStatus().getPhase() == FleetPhase.Succeeded);
        assertThat(upgradesIn(LOCAL)).extracting(ku -> ku.getMetadata().getName()).containsExactly("by-hand");
        assertThat(done.getStatus().getProgress()).isEqualTo("1/1");

        fleet(LOCAL, "reaching-out", spec -> spec.setNamespaceSelector(
                new LabelSelectorBuilder().withMatchLabels(Map.of("kubernetes.io/metadata.name", "default")).build()));
        KratosFleetUpgrade refused = awaitFleet(LOCAL, "reaching-out", f -> f.getStatus().getPhase() == FleetPhase.Invalid);
        assertThat(refused.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Stalled");
            assertThat(c.getReason()).isEqualTo("NamespaceSelectorNotAllowed");
        });
        assertThat(upgradesIn("default")).isEmpty();
    }

    @Test
    void theApiServerRefusesAWaveSizeThatIsNotACountOrAPercentage() {
        assertThatThrownBy(() -> fleet(namespace, "bad", spec -> spec.getRollout().setMaxConcurrent(new IntOrString("150%"))))
                .isInstanceOf(KubernetesClientException.class).hasMessageContaining("maxConcurrent");
        assertThatThrownBy(() -> fleet(namespace, "bad", spec -> spec.getRollout().setMaxConcurrent(new IntOrString(0))))
                .isInstanceOf(KubernetesClientException.class).hasMessageContaining("maxConcurrent");
        assertThatThrownBy(() -> fleet(namespace, "bad", spec -> {
            FleetCanary canary = new FleetCanary();
            canary.setCount(1);
            canary.setInstances(List.of("t1/kratos"));
            spec.getRollout().setCanary(canary);
        })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("either instances or count");
        assertThatThrownBy(() -> fleet(namespace, "bad", spec -> spec.getTemplate().getSpec().setVersion("1.3")))
                .isInstanceOf(KubernetesClientException.class).hasMessageContaining("version");
    }
}
