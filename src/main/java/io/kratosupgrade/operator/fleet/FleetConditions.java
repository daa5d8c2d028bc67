package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.FleetPhase;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeStatus;
import io.kratosupgrade.operator.status.Conditions;

/**
 * A fleet's conditions as kstatus reads them (so Argo CD, Flux and {@code kubectl wait} understand it): Ready once
 * every instance runs the target, Reconciling while waves run or wait, Stalled when it needs a person (halted,
 * finished with failures, or an invalid spec); and Halted.
 */
final class FleetConditions {

    static final String HALTED = "Halted";

    private FleetConditions() {
    }

    static void summarize(KratosFleetUpgradeStatus status, String reason, long generation, String now) {
        FleetPhase phase = status.getPhase();
        String why = reason != null ? reason : phase.name();
        String message = status.getMessage();
        boolean reconciling = phase == FleetPhase.Progressing || phase == FleetPhase.Paused || phase == FleetPhase.AwaitingApproval;
        boolean stalled = phase == FleetPhase.Halted || phase == FleetPhase.Invalid || phase == FleetPhase.CompletedWithFailures;
        var conditions = status.getConditions();
        Conditions.set(conditions, "Ready", phase == FleetPhase.Succeeded ? "True" : "False", why, message, generation, now);
        Conditions.set(conditions, "Reconciling", reconciling ? "True" : "False", why, reconciling ? message : "", generation, now);
        Conditions.set(conditions, "Stalled", stalled ? "True" : "False", why, stalled ? message : "", generation, now);
        Conditions.set(conditions, HALTED, phase == FleetPhase.Halted ? "True" : "False", why,
                phase == FleetPhase.Halted ? message : "", generation, now);
    }
}
