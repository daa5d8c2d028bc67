package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.status.Conditions;
import java.util.HashMap;
import org.junit.jupiter.api.Test;

/** A plan that waits for approval of exactly itself, and a dry run that changes nothing. */
class ApprovalAndDryRunTest {

    private final UpgradeScenario s = new UpgradeScenario();

    private String condition(String type, boolean reason) {
        var c = Conditions.get(s.status(), type).orElseThrow();
        return reason ? c.getReason() : c.getStatus();
    }

    private void approve(String hash) {
        var annotations = new HashMap<String, String>();
        if (s.ku.getMetadata().getAnnotations() != null) annotations.putAll(s.ku.getMetadata().getAnnotations());
        annotations.put(KratosUpgrade.APPROVE_ANNOTATION, hash);
        s.ku.getMetadata().setAnnotations(annotations);
    }

    @Test
    void theRunWaitsWithThePlanTouchingNothingUntilThatPlanIsApproved() {
        s.ku.getSpec().getApproval().setRequired(true);
        s.passPreflight();
        assertThat(s.phase()).isEqualTo(Phase.AwaitingApproval);
        String hash = s.status().getPlan().getHash();

        Decision waiting = s.decide();

        assertThat(s.phase()).isEqualTo(Phase.AwaitingApproval);
        assertThat(waiting.actions()).isEmpty();
        assertThat(waiting.requeueAfter()).as("the annotation wakes the operator; nothing polls").isNull();
        assertThat(s.status().getMessage()).contains("waiting for approval of plan " + hash, "kratos-upgrade.io/approve=" + hash);
        assertThat(condition(ConditionTypes.READY, false)).isEqualTo("False");
        assertThat(condition(ConditionTypes.READY, true)).isEqualTo("AwaitingApproval");
        assertThat(condition(ConditionTypes.STALLED, false)).isEqualTo("False");

        approve("0123456789ab");
        s.decide();
        assertThat(s.phase()).as("an approval of another plan").isEqualTo(Phase.AwaitingApproval);
        assertThat(s.status().getMessage()).contains("approval of plan 0123456789ab ignored", hash);

        approve(hash);
        Decision approved = s.decide();

        assertThat(s.phase()).isEqualTo(Phase.BackingUp);
        assertThat(condition(ConditionTypes.APPROVED, false)).isEqualTo("True");
        assertThat(approved.events()).anySatisfy(e -> assertThat(e.reason()).isEqualTo("Approved"));
    }

    @Test
    void aSpecChangeWhileWaitingStartsANewRunWithANewPlan() {
        s.ku.getSpec().getApproval().setRequired(true);
        s.passPreflight();
        approve(s.status().getPlan().getHash());
        s.ku.getSpec().setVersion("v1.2.0");
        s.bumpGeneration();

        s.decide();

        assertThat(s.status().getRun()).isEqualTo(2);
        assertThat(s.phase()).isEqualTo(Phase.Pending);
    }

    @Test
    void aDryRunWritesThePlanAndEndsWithoutTakingOrChangingAnything() {
        s.ku.getSpec().setDryRun(true);
        s.toPreflight();

        Decision d = s.decideInPreflight();

        assertThat(s.phase()).isEqualTo(Phase.Planned);
        assertThat(d.actions()).as("not even the lock").noneMatch(a -> a instanceof Action.AcquireLock
                || a instanceof Action.PatchDeployment || a instanceof Action.CreateJob);
        assertThat(s.status().getPlan().getHash()).isNotBlank();
        assertThat(s.status().getMessage()).contains("dry run", "nothing was changed");
        assertThat(condition(ConditionTypes.READY, false)).isEqualTo("True");
        assertThat(condition(ConditionTypes.READY, true)).isEqualTo("Planned");
        assertThat(s.status().getHistory().get(0).getResult()).isEqualTo("Planned");

        s.ku.getSpec().setDryRun(false);
        s.bumpGeneration();
        s.decide();
        assertThat(s.status().getRun()).as("the real run").isEqualTo(2);
    }
}
