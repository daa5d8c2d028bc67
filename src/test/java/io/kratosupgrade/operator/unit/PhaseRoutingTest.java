package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The routing table, over every Phase x Strategy x RollbackPolicy: a new phase, strategy or policy that has
 * no route, or a route the transitions do not allow, fails here.
 */
class PhaseRoutingTest {

    @ParameterizedTest
    @EnumSource(Phase.class)
    void everyActivePhaseHasAnAllowedFailureRouteForEveryStrategyAndPolicy(Phase phase) {
        for (Strategy strategy : Strategy.values()) {
            for (RollbackPolicy rollback : RollbackPolicy.values()) {
                if (phase.isTerminal()) {
                    assertThatThrownBy(() -> phase.onFailure(strategy, rollback)).isInstanceOf(IllegalStateException.class);
                    continue;
                }
                Phase to = phase.onFailure(strategy, rollback);
                assertThat(phase.canMoveTo(to)).as(phase + " fails to " + to + " (" + strategy + ", " + rollback + ")").isTrue();
                // A failure before the Deployment was touched never rolls anything back; after, it restores the
                // Deployment unless the policy says None (a scale-down is always undone).
                if (phase.deploymentUntouched(strategy)) {
                    assertThat(to).as(phase + " " + strategy).isEqualTo(Phase.Failed);
                }
            }
        }
    }

    @Test
    void aRecreateScaleDownIsAlwaysUndoneAndAnImageChangeOnlyWithRollbackImage() {
        for (Phase phase : EnumSet.of(Phase.ScalingDown, Phase.BackingUp, Phase.VerifyingBackup, Phase.Rehearsing, Phase.Migrating)) {
            for (RollbackPolicy rollback : RollbackPolicy.values()) {
                assertThat(phase.onFailure(Strategy.Recreate, rollback)).as(phase + " " + rollback).isEqualTo(Phase.RollingBack);
            }
        }
        for (Phase phase : EnumSet.of(Phase.RollingOut, Phase.Verifying)) {
            for (Strategy strategy : Strategy.values()) {
                assertThat(phase.onFailure(strategy, RollbackPolicy.Image)).isEqualTo(Phase.RollingBack);
                assertThat(phase.onFailure(strategy, RollbackPolicy.None)).isEqualTo(Phase.Failed);
            }
        }
    }

    /** After the backup: verification, then rehearsal, each when asked for and on PostgreSQL, then the migration. */
    @ParameterizedTest(name = "verify={0} rehearsal={1}")
    @CsvSource(nullValues = "null", value = {
            // verify, rehearsal, after BackingUp, after VerifyingBackup
            "true,  null,  VerifyingBackup, Rehearsing",
            "true,  true,  VerifyingBackup, Rehearsing",
            "true,  false, VerifyingBackup, Migrating",
            "false, null,  Migrating,       Migrating",
            "false, true,  Rehearsing,      Rehearsing",
            "false, false, Migrating,       Migrating"})
    void theSafetyStepsAfterTheBackup(Boolean verify, Boolean rehearsal, Phase afterBackup, Phase afterVerification) {
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.getBackup().setVerify(verify);
        spec.setRehearsal(rehearsal);
        assertThat(Phase.afterBackupStep(Phase.BackingUp, Strategy.Rolling, spec, true)).isEqualTo(afterBackup);
        if (afterBackup == Phase.VerifyingBackup) {
            assertThat(Phase.afterBackupStep(Phase.VerifyingBackup, Strategy.Rolling, spec, true)).isEqualTo(afterVerification);
        }
        assertThat(Phase.afterBackupStep(Phase.Rehearsing, Strategy.Rolling, spec, true)).isEqualTo(Phase.Migrating);
        assertThat(Phase.afterBackupStep(Phase.BackingUp, Strategy.Rolling, spec, false)).as("MySQL: neither step").isEqualTo(Phase.Migrating);
        assertThat(Phase.BackingUp.canMoveTo(afterBackup)).isTrue();
        assertThat(Phase.VerifyingBackup.canMoveTo(afterVerification)).isTrue();
    }

    @Test
    void everyPhaseIsReachableFromPendingAndEveryRunCanEnd() {
        Set<Phase> reached = new HashSet<>(Set.of(Phase.Pending));
        boolean grew = true;
        while (grew) {
            Set<Phase> next = new HashSet<>(reached);
            reached.forEach(p -> next.addAll(p.allowedNext()));
            grew = next.size() > reached.size();
            reached = next;
        }
        assertThat(reached).containsExactlyInAnyOrder(Phase.values());
        for (Phase phase : Phase.values()) {
            if (!phase.isTerminal()) {
                assertThat(phase.allowedNext()).as(phase + " has no way out").isNotEmpty();
            }
        }
    }

    @Test
    void everyStepPhaseReportsOnItsOwnConditionAndTheConditionsAreTheApisSteps() {
        Set<String> seen = new HashSet<>();
        for (Phase phase : Phase.values()) {
            phase.stepCondition().ifPresent(type -> assertThat(seen.add(type)).as(type + " reported by two phases").isTrue());
            if (!phase.isTerminal() && phase != Phase.Pending) {
                assertThat(phase.stepCondition()).as(phase.name()).isPresent();
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(ConditionTypes.STEPS);
    }

    @Test
    void thePhaseMachineHasAHandlerForEveryPhase() {
        // The constructor refuses to build a machine with a phase left unhandled.
        new PhaseMachine(OperatorSettings.defaults());
    }
}
