package io.kratosupgrade.operator.fleet;

import java.util.List;

/**
 * What a fleet reconcile sees.
 *
 * @param instances the selected Deployments with their KratosUpgrades, in the fleet's stable order (namespace, name)
 * @param refusal   why the fleet cannot select anything (its spec is not allowed here), or null
 */
public record FleetObservation(List<FleetInstance> instances, Refusal refusal) {

    public record Refusal(String reason, String message) {
    }
}
