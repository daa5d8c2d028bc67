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
 * One Kratos Deployment, the release it should run, and how to get there safely.
 *
 * <p>A new target (spec.version or spec.image) starts a new upgrade run; a run that succeeded
 * is never repeated; a run that failed stays failed until the spec changes or the
 * {@value #RETRY_ANNOTATION} annotation gets a new value.
 */
@Group(KratosUpgrade.GROUP)
@Version(KratosUpgrade.VERSION)
@Kind("KratosUpgrade")
@Plural("kratosupgrades")
@ShortNames("ku")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "From", jsonPath = ".status.fromVersion", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "To", jsonPath = ".status.toVersion", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.message", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Product", jsonPath = ".spec.product", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
public class KratosUpgrade extends CustomResource<KratosUpgradeSpec, KratosUpgradeStatus> implements Namespaced {

    public static final String GROUP = "kratos-upgrade.io";
    public static final String VERSION = "v1alpha1";
    /** Setting this annotation to a new value retries a failed or rolled-back run. */
    public static final String RETRY_ANNOTATION = GROUP + "/retry";
    /** Set to the hash of status.plan to approve that plan (spec.approval.required). */
    public static final String APPROVE_ANNOTATION = GROUP + "/approve";
    /** BlueGreen, while the old side is kept: any value moves the Services back to the old side. */
    public static final String SWITCH_BACK_ANNOTATION = GROUP + "/switch-back";
    /** BlueGreen, while the old side is kept: any value releases the old side now instead of after keepOldFor. */
    public static final String FINALIZE_ANNOTATION = GROUP + "/finalize";

    @Override
    protected KratosUpgradeStatus initStatus() {
        return new KratosUpgradeStatus();
    }
}
