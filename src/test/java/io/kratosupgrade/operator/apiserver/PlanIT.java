package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan, approval, dry run and configuration rules against a real API server. */
class PlanIT extends ApiServerTestBase {

    private void kratosConfig(String yaml) {
        client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder().withNewMetadata().withName("kratos-config")
                .endMetadata().withData(Map.of("kratos.yaml", yaml)).build()).create();
    }

    private void annotate(String name, String key, String value) {
        Edits.edit(client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name),ku -> {
            var annotations = new HashMap<String, String>();
            if (ku.getMetadata().getAnnotations() != null) annotations.putAll(ku.getMetadata().getAnnotations());
            annotations.put(key, value);
            ku.getMetadata().setAnnotations(annotations);
            return ku;
        });
    }

    @Test
    void aDryRunWritesThePlanAndLeavesTheDeploymentExactlyAsItWas() {
        controllers.start();
        installKratos();
        kratosConfig("selfservice:\n  flows:\n    registration: {enabled: true}\n");
        String resourceVersion = deployment().getMetadata().getResourceVersion();

        upgrade("dry", "v1.3.1", spec -> spec.setDryRun(true));
        KratosUpgrade ku = awaitPhase("dry", Phase.Planned);

        assertThat(ku.getStatus().getPlan().getHash()).hasSize(12);
        assertThat(ku.getStatus().getPlan().getReleasesCrossed()).containsExactly("v1.2.0", "v1.3.0", "v1.3.1");
        assertThat(ku.getStatus().getPlan().getConfigSources()).singleElement().asString().contains("ConfigMap kratos-config");
        assertThat(ku.getStatus().getPlan().getWarnings()).extracting(w -> w.getRule()).contains("registration-two-step");
        assertThat(deployment().getMetadata().getResourceVersion()).as("not even locked").isEqualTo(resourceVersion);
        assertThat(jobs()).isEmpty();
        awaitEvents("DryRun", "ConfigurationWarning");
    }

    @Test
    void theRunWaitsForAnApprovalOfItsOwnPlan() {
        controllers.start();
        installKratos();
        kratosConfig("{}");
        upgrade("approve-me", "v1.3.1", spec -> spec.getApproval().setRequired(true));
        KratosUpgrade waiting = awaitPhase("approve-me", Phase.AwaitingApproval);
        String hash = waiting.getStatus().getPlan().getHash();
        assertThat(jobs()).isEmpty();

        annotate("approve-me", KratosUpgrade.APPROVE_ANNOTATION, "aaaaaaaaaaaa");
        awaitUpgrade("approve-me", ku -> ku.getStatus().getMessage().contains("approval of plan aaaaaaaaaaaa ignored"));
        assertThat(jobs()).isEmpty();

        annotate("approve-me", KratosUpgrade.APPROVE_ANNOTATION, hash);
        awaitPhase("approve-me", Phase.Succeeded);
        awaitEvents("Approved");
    }

    @Test
    void aConfigurationTheTargetRefusesFailsPreflightAndTouchesNothing() {
        controllers.start();
        installKratos();
        // The Deployment runs v1.1.0: a move to v25.4.0 crosses the removal of courier.sms.
        kratosConfig("courier:\n  sms:\n    enabled: true\n");
        long generation = deployment().getMetadata().getGeneration();

        upgrade("blocked", "v25.4.0", spec -> { });
        KratosUpgrade ku = awaitPhase("blocked", Phase.Failed);

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BreakingConfigChange");
        assertThat(ku.getStatus().getMessage()).contains("courier.sms", "v25.4.0", "courier.channels");
        assertThat(deployment().getMetadata().getGeneration()).isEqualTo(generation);
        assertThat(jobs()).isEmpty();
    }
}
