package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.e2e.HelmInstallE2E.InClusterOperator;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.resources.Labels;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A namespaced install: {@code helm install --set watchNamespaces={<test namespace>}}. No ClusterRole and no
 * ClusterRoleBinding exist for the release; the in-cluster operator upgrades Kratos in its namespace with only
 * the Role there, and leaves KratosUpgrades of other namespaces alone.
 */
@Tag("e2e")
class NamespacedInstallE2E {

    static final String RELEASE = "kuo-namespaced";

    static E2eEnvironment env;
    static KubernetesClient client;
    static Postgres postgres;
    static InClusterOperator operator;
    static String watched;
    /** Also watched: where the leader is killed mid-run (a Kratos of its own). */
    static String failover;
    static String notWatched;

    @RegisterExtension
    final TestWatcher diagnostics = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            operator.dumpDiagnostics(context.getDisplayName(), watched);
        }
    };

    @BeforeAll
    static void installForOneNamespace() {
        env = E2eEnvironment.load();
        client = InClusterOperator.connect(env);
        postgres = new Postgres(env);
        operator = new InClusterOperator(client, env, RELEASE);
        // The watched namespace exists before the install (the chart puts a Role into it).
        watched = operator.createTestNamespace("helm-ns-e2e");
        failover = operator.createTestNamespace("helm-ns-e2e");
        notWatched = operator.createTestNamespace("helm-ns-other");
        // Two replicas: one leads, the other stands by (ready, not reconciling).
        operator = new InClusterOperator(client, env, RELEASE, "--set", "watchNamespaces={" + watched + "," + failover + "}",
                "--set", "replicaCount=2");
        operator.install();
    }

    @AfterAll
    static void uninstall() {
        try {
            if (operator != null) {
                if (watched != null) operator.deleteTestNamespace(watched);
                if (failover != null) operator.deleteTestNamespace(failover);
                if (notWatched != null) operator.deleteTestNamespace(notWatched);
                operator.uninstall();
            }
        } finally {
            if (client != null) client.close();
        }
    }

    @Test
    void twoReplicasOneLeader() {
        assertThat(operator.operatorPods()).hasSize(2).allSatisfy(p -> assertThat(p.getStatus().getConditions())
                .anySatisfy(c -> assertThat(c.getType() + "=" + c.getStatus()).isEqualTo("Ready=True")));
        assertThat(operator.leader()).isNotNull();
    }

    @Test
    void installsNoClusterWidePermission() {
        List<HasMetadata> manifest = operator.manifest();
        assertThat(manifest).as("helm get manifest").noneMatch(o -> o instanceof ClusterRole || o instanceof ClusterRoleBinding);
        assertThat(manifest).filteredOn(Role.class::isInstance).extracting(o -> o.getMetadata().getNamespace())
                .containsExactlyInAnyOrder(watched, failover, InClusterOperator.OPERATOR_NAMESPACE);
        // Nothing cluster-scoped carries the release's label either.
        assertThat(client.rbac().clusterRoles().withLabel("app.kubernetes.io/instance", RELEASE).list().getItems()).isEmpty();
        assertThat(client.rbac().clusterRoleBindings().withLabel("app.kubernetes.io/instance", RELEASE).list().getItems()).isEmpty();

        assertThat(operator.allowed("list", "kratos-upgrade.io", "kratosupgrades", watched)).isTrue();
        assertThat(operator.allowed("list", "kratos-upgrade.io", "kratosupgrades", null)).as("cluster-wide list").isFalse();
        assertThat(operator.allowed("get", "", "secrets", notWatched)).as("Secrets outside the watched namespace").isFalse();
        assertThat(operator.allowed("patch", "apps", "deployments", notWatched)).isFalse();
    }

    @Test
    void upgradesKratosInTheWatchedNamespaceOnly() throws Exception {
        // A KratosUpgrade outside the watched namespace: the operator never looks at it.
        KratosUpgrade elsewhere = new KratosUpgrade();
        elsewhere.getMetadata().setName("not-mine");
        elsewhere.getMetadata().setNamespace(notWatched);
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.setDeploymentName("kratos");
        spec.setVersion(InClusterOperator.TO_VERSION);
        spec.getBackup().setPersistentVolumeClaim("none");
        elsewhere.setSpec(spec);
        client.resource(elsewhere).create();

        operator.happyPath(postgres, watched);

        List<String> log = operator.logs();
        assertThat(log).as("the operator registers for the watched namespaces only")
                .anyMatch(l -> l.contains("Registered reconciler") && l.contains(watched) && l.contains(failover)
                        && !l.contains("all namespaces"));
        assertThat(log).as("the operator never touches another namespace").noneMatch(l -> l.contains(notWatched));
    }

    /**
     * The leader is killed (SIGKILL: its pod force-deleted) while the migration Job runs. The standby takes over
     * once the Lease expires, and never were there two actors: one Job of each kind ever existed, the Lease went
     * from one holder straight to the other, and the run completes.
     */
    @Test
    void killingTheLeaderMidMigrationHandsTheRunToTheStandby() throws Exception {
        KratosInstallation kratos = new KratosInstallation(client, env, postgres, failover);
        operator.reserveBackupVolume(failover);
        kratos.install(operator.fromVersion());
        StepGates gates = new StepGates(postgres, kratos.database);
        Map<String, Integer> jobsCreated = new ConcurrentHashMap<>();
        List<String> holders = new CopyOnWriteArrayList<>();
        String oldLeader = operator.leader();
        assertThat(oldLeader).isNotNull();
        holders.add(oldLeader);
        try (var jobs = client.batch().v1().jobs().inNamespace(failover)
                .withLabel(Labels.MANAGED_BY, Labels.OPERATOR).inform(new ResourceEventHandler<Job>() {
                public void onAdd(Job j) { jobsCreated.merge(j.getMetadata().getName() + "@" + j.getMetadata().getUid(), 1, Integer::sum); }
                public void onUpdate(Job o, Job j) { }
                public void onDelete(Job j, boolean unknown) { }
            });
             var lease = client.resources(Lease.class).inNamespace(InClusterOperator.OPERATOR_NAMESPACE).withName(operator.leaseName())
                     .inform(new ResourceEventHandler<Lease>() {
                public void onAdd(Lease l) { record(l); }
                public void onUpdate(Lease o, Lease l) { record(l); }
                public void onDelete(Lease l, boolean unknown) { }
                private void record(Lease l) {
                    String holder = l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
                    if (holder != null && !holder.equals(holders.get(holders.size() - 1))) holders.add(holder);
                }
            });
             AutoCloseable migration = gates.holdMigration()) {
            KratosUpgrade ku = new KratosUpgrade();
            ku.getMetadata().setName("failover");
            ku.getMetadata().setNamespace(failover);
            KratosUpgradeSpec spec = new KratosUpgradeSpec();
            spec.setDeploymentName(KratosInstallation.NAME);
            spec.setVersion(InClusterOperator.TO_VERSION);
            spec.getBackup().setPersistentVolumeClaim(KratosInstallation.PVC);
            ku.setSpec(spec);
            client.resource(ku).create();
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() ->
                    client.pods().inNamespace(failover).withLabel("job-name", "failover-1-migrate").list().getItems().stream()
                            .anyMatch(p -> "Running".equals(p.getStatus().getPhase())));

            Instant killed = Instant.now();
            client.pods().inNamespace(InClusterOperator.OPERATOR_NAMESPACE).withName(oldLeader).withGracePeriod(0).delete();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
                    .until(() -> operator.leader() != null && !oldLeader.equals(operator.leader()));
            System.out.printf("leader %s killed mid-migration; %s leads %.1fs later (Lease duration 15s); Lease holders: %s%n",
                    oldLeader, operator.leader(), Duration.between(killed, Instant.now()).toMillis() / 1000.0, holders);
        }

        await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            KratosUpgrade k = client.resources(KratosUpgrade.class).inNamespace(failover).withName("failover").get();
            return k.getStatus() != null && k.getStatus().getPhase() != null && k.getStatus().getPhase().isTerminal();
        });
        KratosUpgrade done = client.resources(KratosUpgrade.class).inNamespace(failover).withName("failover").get();
        assertThat(done.getStatus().getPhase()).as(done.getStatus().getMessage()).isEqualTo(Phase.Succeeded);
        // A Rolling run without approval: its backup Job inspects the database, there is no inspection Job.
        assertThat(jobsCreated.keySet()).as("one Job of each kind ever existed").hasSize(3)
                .anyMatch(k -> k.startsWith("failover-1-backup@"))
                .anyMatch(k -> k.startsWith("failover-1-rehearse@")).anyMatch(k -> k.startsWith("failover-1-migrate@"));
        assertThat(holders).as("the Lease went from the killed leader to one other replica").hasSize(2).doesNotHaveDuplicates();
        // The transition is logged after the actions its status write announced (the lock's release): wait for the line.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(operator.logs()).as("the new leader finished the run")
                        .anyMatch(l -> l.contains(failover + "/failover run 1: ") && l.endsWith("-> Succeeded")));
    }
}
