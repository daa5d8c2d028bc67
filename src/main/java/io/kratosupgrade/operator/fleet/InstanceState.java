package io.kratosupgrade.operator.fleet;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.UpgradeSettings;
import java.util.Map;
import java.util.Objects;

/** Where one instance stands in the fleet's current run, read from its KratosUpgrade. */
public enum InstanceState {
    /** No KratosUpgrade for this run yet. */
    NotStarted,
    InProgress,
    Succeeded,
    Failed,
    /** A KratosUpgrade made by hand targets another release: the fleet leaves the instance alone. */
    Skipped,
    /**
     * Its wave finished, then its KratosUpgrade of this run was deleted (cleaned up, say): the fleet knows no result
     * and does not upgrade it again.
     */
    Untracked;

    public boolean finished() {
        return this == Succeeded || this == Failed || this == Skipped || this == Untracked;
    }

    /** The instance's state, for a fleet run whose template hashes to {@code templateHash}. */
    static InstanceState of(FleetInstance instance, String templateHash, UpgradeSettings template) {
        KratosUpgrade upgrade = instance.upgrade();
        if (upgrade == null) return NotStarted;
        if (instance.fleetMade()) {
            return templateHash.equals(annotation(upgrade, FleetLabels.TEMPLATE_ANNOTATION)) ? ofRun(upgrade) : NotStarted;
        }
        return sameTarget(upgrade, template) ? ofRun(upgrade) : Skipped;
    }

    /**
     * The state of the KratosUpgrade's run, once the engine took up its newest spec and retry: before that, its
     * status still describes an earlier run.
     */
    static InstanceState ofRun(KratosUpgrade upgrade) {
        KratosUpgradeStatus status = upgrade.getStatus();
        if (status == null || status.getPhase() == null) return InProgress;
        Phase phase = status.getPhase();
        boolean takenUp = Objects.equals(status.getRunGeneration(), upgrade.getMetadata().getGeneration());
        String retry = annotation(upgrade, KratosUpgrade.RETRY_ANNOTATION);
        boolean retryTakenUp = phase == Phase.Succeeded || retry == null || retry.equals(status.getRetryToken());
        if (!takenUp || !retryTakenUp) return InProgress;
        return switch (phase) {
            case Succeeded, Planned -> Succeeded;
            case Failed, RolledBack -> Failed;
            default -> InProgress;
        };
    }

    static boolean sameTarget(KratosUpgrade upgrade, UpgradeSettings template) {
        return template.getVersion().equals(upgrade.getSpec().getVersion())
                && (template.getImage() == null || template.getImage().equals(upgrade.getSpec().getImage()));
    }

    static String annotation(KratosUpgrade upgrade, String key) {
        Map<String, String> annotations = upgrade.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }
}
