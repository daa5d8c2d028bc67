package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;

/** What a fleet decision asks for, carried out after the fleet's status announcing it is stored. */
public sealed interface FleetAction {

    /** A new instance's KratosUpgrade; one that exists already (a repeated action) is left as it is. */
    record CreateUpgrade(KratosUpgrade upgrade) implements FleetAction {
    }

    /** The fleet's KratosUpgrade of an instance takes the current template (a new fleet run). */
    record RetargetUpgrade(KratosUpgrade upgrade) implements FleetAction {
    }

    /** A failed instance is retried: its KratosUpgrade's retry annotation gets {@code token}. */
    record RetryUpgrade(String namespace, String name, String token) implements FleetAction {
    }
}
