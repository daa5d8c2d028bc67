package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.e2e.HelmInstallE2E.InClusterOperator;
import java.util.List;
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
        notWatched = operator.createTestNamespace("helm-ns-other");
        // Two replicas: one leads, the other stands by (ready, not reconciling).
        operator = new InClusterOperator(client, env, RELEASE, "--set", "watchNamespaces={" + watched + "}",
                "--set", "replicaCount=2");
        operator.install();
    }

    @AfterAll
    static void uninstall() {
        try {
            if (operator != null) {
                if (watched != null) operator.deleteTestNamespace(watched);
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
                .containsExactlyInAnyOrder(watched, InClusterOperator.OPERATOR_NAMESPACE);
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
        assertThat(log).as("the operator registers for the watched namespace only")
                .anyMatch(l -> l.contains("Registered reconciler") && l.contains("namespace(s): [" + watched + "]"));
        assertThat(log).as("the operator never touches another namespace").noneMatch(l -> l.contains(notWatched));
    }
}
