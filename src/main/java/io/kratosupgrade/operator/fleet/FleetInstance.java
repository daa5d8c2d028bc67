package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;

/**
 * A selected Kratos Deployment and the KratosUpgrade that upgrades it, if there is one: the fleet's own, or one a
 * person made (which the fleet respects and never duplicates).
 */
public record FleetInstance(String namespace, String deployment, KratosUpgrade upgrade, boolean fleetMade) {

    public String key() {
        return key(namespace, deployment);
    }

    public static String key(String namespace, String deployment) {
        return namespace + "/" + deployment;
    }
}
