package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;

/** How a KratosUpgrade made by a fleet says so. */
public final class FleetLabels {

    /** Label: the fleet's name (bounded to a label value), to list a fleet's KratosUpgrades with kubectl -l. */
    public static final String FLEET = KratosUpgrade.GROUP + "/fleet";
    /** Annotation: namespace/name of the fleet, exact (the label may be shortened). */
    public static final String FLEET_ANNOTATION = KratosUpgrade.GROUP + "/fleet";
    /** Annotation: hash of the fleet template the spec was made from; another hash means an earlier fleet run. */
    public static final String TEMPLATE_ANNOTATION = KratosUpgrade.GROUP + "/fleet-template";
    /** Annotation: number of the wave that started this instance. */
    public static final String WAVE_ANNOTATION = KratosUpgrade.GROUP + "/fleet-wave";

    private FleetLabels() {
    }
}
