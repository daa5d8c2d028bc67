package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.fleet.FleetInstance;
import io.kratosupgrade.operator.fleet.FleetUpgrades;
import java.util.HashMap;
import java.util.Map;

/** Fleets and instances in a given state, for the fleet's unit tests. */
public final class FleetFixtures {

    public static final String NAMESPACE = "platform";

    private FleetFixtures() {
    }

    /** A fleet upgrading Deployments labelled app=kratos in {@link #NAMESPACE} to {@code version}, backups skipped. */
    public static KratosFleetUpgrade fleet(String version) {
        KratosFleetUpgrade fleet = new KratosFleetUpgrade();
        fleet.setMetadata(new ObjectMetaBuilder().withName("tenants").withNamespace(NAMESPACE).withGeneration(1L)
                .withAnnotations(new HashMap<>()).build());
        KratosFleetUpgradeSpec spec = new KratosFleetUpgradeSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "kratos")).build());
        spec.getTemplate().getSpec().setVersion(version);
        spec.getTemplate().getSpec().getBackup().setPolicy(BackupPolicy.Skip);
        fleet.setSpec(spec);
        return fleet;
    }

    /** An instance with no KratosUpgrade. */
    public static FleetInstance bare(String namespace, String deployment) {
        return new FleetInstance(namespace, deployment, null, false);
    }

    /** An instance whose fleet-made KratosUpgrade (for the fleet's current template) is in {@code phase}. */
    public static FleetInstance fleetMade(KratosFleetUpgrade fleet, String namespace, String deployment, Phase phase) {
        KratosUpgrade ku = FleetUpgrades.build(fleet, bare(namespace, deployment), FleetUpgrades.templateHash(fleet), 1);
        inPhase(ku, phase);
        return new FleetInstance(namespace, deployment, ku, true);
    }

    /** An instance with a KratosUpgrade made by hand, targeting {@code version}, in {@code phase}. */
    public static FleetInstance handMade(String namespace, String deployment, String version, Phase phase) {
        KratosUpgrade ku = new KratosUpgrade();
        ku.setMetadata(new ObjectMetaBuilder().withName(deployment + "-by-hand").withNamespace(namespace).withGeneration(1L).build());
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.setDeploymentName(deployment);
        spec.setVersion(version);
        ku.setSpec(spec);
        inPhase(ku, phase);
        return new FleetInstance(namespace, deployment, ku, false);
    }

    /** The engine's view after a run of the KratosUpgrade's current generation reached {@code phase} (null: not yet). */
    public static void inPhase(KratosUpgrade ku, Phase phase) {
        if (phase == null) {
            ku.setStatus(null);
            return;
        }
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(phase);
        status.setRun(1);
        status.setRunGeneration(ku.getMetadata().getGeneration());
        if (phase == Phase.Failed || phase == Phase.RolledBack) {
            status.setFailureReason("MigrationFailed");
            status.setFailureMessage("the migration Job failed: password authentication failed");
        }
        ku.setStatus(status);
    }
}
