package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.testsupport.OperatorHarness;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An operator whose RBAC lacks one permission (creating Jobs): the failure must show in status, not only
 * in its log, the run must keep its phase, and once the permission is granted the run goes on.
 */
@ApiServerTestBase.OwnOperator
class ReconcileErrorIT extends ApiServerTestBase {

    static final String USER = "limited-operator";
    static KubernetesClient limited;

    @BeforeAll
    static void startLimitedOperator() {
        client.rbac().clusterRoles().resource(role(false)).serverSideApply();
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder()
                .withNewMetadata().withName(USER).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(USER).endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName(USER).endSubject()
                .build()).serverSideApply();
        limited = new KubernetesClientBuilder().withConfig(new ConfigBuilder(client.getConfiguration())
                .withImpersonateUsername(USER).build()).build();
        operator = new OperatorHarness(limited, OperatorHarness.settings(TOOLS_IMAGE)).start();
    }

    @AfterAll
    static void stopLimitedOperator() {
        stopOperator();
        limited.close();
    }

    /** What the operator needs (the @RBACRules), without "create" on Jobs unless {@code canCreateJobs}. */
    static ClusterRole role(boolean canCreateJobs) {
        List<String> jobVerbs = canCreateJobs ? List.of("get", "list", "watch", "create", "patch", "update", "delete")
                : List.of("get", "list", "watch", "patch", "update", "delete");
        return new ClusterRoleBuilder().withNewMetadata().withName(USER).endMetadata()
                .addToRules(rule("kratos-upgrade.io", List.of("kratosupgrades", "kratosupgrades/status", "kratosupgrades/finalizers",
                        "kratosfleetupgrades", "kratosfleetupgrades/status"), List.of("*")))
                .addToRules(rule("", List.of("namespaces"), List.of("list")))
                .addToRules(rule("apps", List.of("deployments"), List.of("get", "list", "watch", "patch")))
                .addToRules(rule("coordination.k8s.io", List.of("leases"), List.of("get", "list", "watch", "create", "update", "delete")))
                .addToRules(rule("batch", List.of("jobs"), jobVerbs))
                .addToRules(rule("", List.of("pods"), List.of("get", "list", "watch")))
                .addToRules(rule("", List.of("secrets"), List.of("get", "create", "delete")))
                .addToRules(rule("", List.of("configmaps", "persistentvolumeclaims"), List.of("get")))
                .addToRules(rule("", List.of("events"), List.of("get", "list", "watch", "create", "patch")))
                .build();
    }

    private static io.fabric8.kubernetes.api.model.rbac.PolicyRule rule(String group, List<String> resources, List<String> verbs) {
        return new PolicyRuleBuilder().withApiGroups(group).withResources(resources).withVerbs(verbs).build();
    }

    private static Condition condition(KratosUpgrade ku, String type) {
        return Conditions.get(ku.getStatus(), type).orElse(null);
    }

    @Test
    void aMissingPermissionShowsInStatusKeepsThePhaseAndTheRunGoesOnOnceGranted() {
        controllers.start();
        installKratos();
        upgrade("forbidden", "v1.3.1", spec -> { });

        KratosUpgrade failing = awaitUpgrade("forbidden", ku -> ku.getStatus() != null
                && condition(ku, ConditionTypes.RECONCILE_ERROR) != null
                && "True".equals(condition(ku, ConditionTypes.RECONCILE_ERROR).getStatus()));
        // The first Job of a Rolling run without approval is the backup Job (which inspects the database first).
        assertThat(failing.getStatus().getPhase()).isEqualTo(Phase.BackingUp);
        assertThat(condition(failing, ConditionTypes.RECONCILE_ERROR).getReason()).isEqualTo("Forbidden");
        assertThat(condition(failing, ConditionTypes.RECONCILE_ERROR).getMessage()).contains("jobs", "forbidden");
        awaitEvents("ReconcileError");
        assertThat(operator.registry().get("kratos.upgrade.reconcile.errors").tag("reason", "Forbidden").counter().count())
                .as("kratos_upgrade_reconcile_errors_total counts where the condition is written").isPositive();

        // Once JOSDK's retries are used up, kstatus readers see the object as stalled.
        KratosUpgrade stalled = awaitUpgrade("forbidden", ku -> "True".equals(condition(ku, ConditionTypes.STALLED).getStatus()),
                Duration.ofSeconds(90));
        assertThat(condition(stalled, ConditionTypes.STALLED).getReason()).isEqualTo("Forbidden");
        assertThat(stalled.getStatus().getPhase()).isEqualTo(Phase.BackingUp);

        client.rbac().clusterRoles().resource(role(true)).serverSideApply();
        // Nothing about the object changed; a touch wakes the operator, as a user's retry annotation would.
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName("forbidden"),
                ku -> { ku.getMetadata().setAnnotations(Map.of("touched", "1")); return ku; });

        KratosUpgrade done = awaitPhase("forbidden", Phase.Succeeded);
        assertThat(condition(done, ConditionTypes.RECONCILE_ERROR).getStatus()).isEqualTo("False");
        assertThat(condition(done, ConditionTypes.STALLED).getStatus()).isEqualTo("False");
    }
}
