package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.kratosupgrade.operator.api.v1alpha1.FleetCanary;
import io.kratosupgrade.operator.api.v1alpha1.FleetPhase;
import io.kratosupgrade.operator.api.v1alpha1.FleetWave;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.testsupport.Edits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A fleet of six tenants, each with its own namespace, database and Kratos v1.0.0, upgraded to v1.3.1 by one
 * KratosFleetUpgrade: a canary, then waves of two. The fourth tenant's database password was rotated without its
 * Secret (a real reason to fail), and the failure budget is zero, so the fleet halts after that wave: the tenants
 * already done stay on v1.3.1, the untouched ones keep serving v1.0.0, the failed one was never touched. Once the
 * password is put back, a retry of the fleet finishes it, and nobody's migration ran twice.
 */
class FleetE2E extends E2eTestBase {

    private static final int TENANTS = 6;

    @Test
    void aFleetHaltsOnARealFailureAndAfterTheFixFinishesWithoutRepeatingAnyone() throws Exception {
        String label = UUID.randomUUID().toString().substring(0, 8);
        List<KratosInstallation> tenants = installTenants(label);
        KratosInstallation broken = tenants.get(3);
        postgres.execute(broken.database, "ALTER ROLE " + broken.database + " PASSWORD 'rotated-elsewhere'");

        if (client.namespaces().withName(FLEET_ADMIN_NAMESPACE).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(FLEET_ADMIN_NAMESPACE).endMetadata()
                    .build()).create();
        }
        String name = "tenants-" + label;
        KratosFleetUpgrade fleet = new KratosFleetUpgrade();
        fleet.getMetadata().setName(name);
        fleet.getMetadata().setNamespace(FLEET_ADMIN_NAMESPACE);
        KratosFleetUpgradeSpec spec = new KratosFleetUpgradeSpec();
        spec.setNamespaceSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("fleet-e2e", label)).build());
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app.kubernetes.io/name", KratosInstallation.NAME)).build());
        spec.getTemplate().getSpec().setVersion("v1.3.1");
        spec.getTemplate().getSpec().getBackup().setPersistentVolumeClaim(KratosInstallation.PVC);
        spec.getTemplate().getSpec().getBackup().setVerify(false);
        FleetCanary canary = new FleetCanary();
        canary.setCount(1);
        spec.getRollout().setCanary(canary);
        spec.getRollout().setMaxConcurrent(new IntOrString(2));
        spec.getRollout().setMaxFailures(0);
        fleet.setSpec(spec);
        long started = System.nanoTime();
        client.resource(fleet).create();

        try {
            KratosFleetUpgrade halted = awaitFleet(name, f -> f.getStatus().getPhase() == FleetPhase.Halted
                    && f.getStatus().getInProgress() == 0);
            long haltedAfter = (System.nanoTime() - started) / 1_000_000_000;
            assertThat(halted.getStatus().getWaves()).extracting(FleetWave::getInstances).containsExactly(
                    List.of(key(tenants.get(0))), List.of(key(tenants.get(1)), key(tenants.get(2))),
                    List.of(key(tenants.get(3)), key(tenants.get(4))));
            assertThat(halted.getStatus().getFailedInstances()).singleElement().satisfies(r -> {
                assertThat(r.getInstance()).isEqualTo(key(broken));
                assertThat(r.getMessage()).contains("password authentication failed");
            });
            for (int i : List.of(0, 1, 2, 4)) answers(tenants.get(i), "v1.3.1");
            assertThat(broken.deploymentImage()).as("the failed tenant was never touched").isEqualTo(env.kratosImage("v1.0.0"));
            answers(tenants.get(5), "v1.0.0");
            assertThat(upgrades(tenants.get(5))).as("nothing starts after the halt").isEmpty();
            printWaves("halted", halted, haltedAfter);

            // The fix: the password the Secret holds is the database's again. Then a retry of the fleet.
            postgres.execute(broken.database, "ALTER ROLE " + broken.database + " PASSWORD '"
                    + KratosInstallation.PASSWORD.replace("'", "''") + "'");
            long resumed = System.nanoTime();
            Edits.retryingConflicts(() -> client.resources(KratosFleetUpgrade.class).inNamespace(FLEET_ADMIN_NAMESPACE)
                    .withName(name).edit(f -> {
                        f.getMetadata().getAnnotations().put(KratosUpgrade.RETRY_ANNOTATION, "password-restored");
                        return f;
                    }));
            KratosFleetUpgrade done = awaitFleet(name, f -> f.getStatus().getPhase() == FleetPhase.Succeeded);
            printWaves("succeeded", done, (System.nanoTime() - resumed) / 1_000_000_000);
            assertThat(done.getStatus().getProgress()).isEqualTo(TENANTS + "/" + TENANTS);
            for (KratosInstallation tenant : tenants) {
                answers(tenant, "v1.3.1");
                assertThat(upgrades(tenant)).as(tenant.namespace).singleElement()
                        .satisfies(ku -> assertThat(ku.getStatus().getRun()).isEqualTo(tenant == broken ? 2 : 1));
                assertThat(client.batch().v1().jobs().inNamespace(tenant.namespace).withLabel(Labels.STEP, "migrate")
                        .list().getItems()).as("one migration per tenant, ever: " + tenant.namespace).hasSize(1);
            }
        } finally {
            client.resources(KratosFleetUpgrade.class).inNamespace(FLEET_ADMIN_NAMESPACE).withName(name).delete();
        }
        tenants.forEach(t -> client.namespaces().withName(t.namespace).delete());
    }

    /** Six namespaces labelled for this fleet, each with its database and Kratos v1.0.0, installed three at a time. */
    private List<KratosInstallation> installTenants(String label) throws Exception {
        List<KratosInstallation> tenants = new ArrayList<>();
        for (int i = 0; i < TENANTS; i++) {
            // Named like every e2e namespace (hack/test.sh removes those a failed run leaves), in installation order.
            String ns = "e2e-" + label.substring(0, 6) + i + "0";
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
                    .withLabels(Map.of("fleet-e2e", label)).endMetadata().build()).create();
            tenants.add(new KratosInstallation(client, env, postgres, ns));
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<CompletableFuture<Void>> installs = tenants.stream().map(t -> CompletableFuture.runAsync(() -> {
                try {
                    t.install("v1.0.0");
                } catch (Exception e) {
                    throw new IllegalStateException("installing Kratos in " + t.namespace, e);
                }
            }, pool)).toList();
            CompletableFuture.allOf(installs.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdown();
        }
        return tenants;
    }

    private static String key(KratosInstallation tenant) {
        return tenant.namespace + "/" + KratosInstallation.NAME;
    }

    private KratosFleetUpgrade awaitFleet(String name, Predicate<KratosFleetUpgrade> condition) {
        var fleet = client.resources(KratosFleetUpgrade.class).inNamespace(FLEET_ADMIN_NAMESPACE).withName(name);
        await().atMost(UPGRADE_TIMEOUT).pollInterval(Duration.ofSeconds(1))
                .until(() -> fleet.get() != null && fleet.get().getStatus() != null && condition.test(fleet.get()));
        return fleet.get();
    }

    private List<KratosUpgrade> upgrades(KratosInstallation tenant) {
        return client.resources(KratosUpgrade.class).inNamespace(tenant.namespace).list().getItems();
    }

    /** Both replicas are ready and answer {@code version} on /admin/version. */
    private static void answers(KratosInstallation tenant, String version) throws Exception {
        tenant.awaitReady(2);
        for (Pod pod : tenant.servingPods()) {
            var response = tenant.get(pod, 4434, "/admin/version");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).as(tenant.namespace + " " + pod.getMetadata().getName())
                    .contains("\"version\":\"" + version + "\"");
        }
    }

    private static void printWaves(String what, KratosFleetUpgrade fleet, long seconds) {
        StringBuilder table = new StringBuilder("fleet " + what + " after " + seconds + " s:\n| wave | instances | seconds | succeeded | failed |\n");
        for (FleetWave w : fleet.getStatus().getWaves()) {
            table.append("| ").append(w.getNumber()).append(w.isCanary() ? " (canary)" : "").append(" | ").append(w.getInstances().size())
                    .append(" | ").append(w.getDurationSeconds()).append(" | ").append(w.getSucceeded()).append(" | ").append(w.getFailed())
                    .append(" |\n");
        }
        System.out.print(table);
    }
}
