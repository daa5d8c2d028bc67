package io.kratosupgrade.operator.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Many Kratos Deployments (one per tenant, say) upgraded to one release in waves: a canary first, then at most
 * {@code maxConcurrent} instances at a time, halting once more instances failed than the failure budget allows.
 * Each instance is upgraded by an ordinary KratosUpgrade that the fleet creates, so every instance goes through the
 * same engine and can be looked at on its own.
 *
 * <p>Namespaced, so that a namespaced install can run fleets too: a fleet upgrades the Deployments of its own
 * namespace, and only a fleet in one of the operator's fleet-admin namespaces may select other namespaces
 * ({@code spec.namespaceSelector}), so that the right to create a fleet in a tenant's namespace is never the right
 * to upgrade every tenant.
 */
@Group(KratosUpgrade.GROUP)
@Version(KratosUpgrade.VERSION)
@Kind("KratosFleetUpgrade")
@Plural("kratosfleetupgrades")
@ShortNames("kfu")
@AdditionalPrinterColumn(name = "Target", jsonPath = ".spec.template.spec.version", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Done", jsonPath = ".status.progress", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Failed", jsonPath = ".status.failed", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Wave", jsonPath = ".status.currentWave", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.message", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
public class KratosFleetUpgrade extends CustomResource<KratosFleetUpgradeSpec, KratosFleetUpgradeStatus> implements Namespaced {

    /** Set to the number of the next wave to let it start (spec.rollout.approveEachWave). */
    public static final String APPROVE_WAVE_ANNOTATION = KratosUpgrade.GROUP + "/approve-wave";

    @Override
    protected KratosFleetUpgradeStatus initStatus() {
        return new KratosFleetUpgradeStatus();
    }
}
