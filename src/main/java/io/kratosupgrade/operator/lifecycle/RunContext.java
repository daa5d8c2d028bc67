package io.kratosupgrade.operator.lifecycle;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Mode;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.kratos.ImageReference;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.resources.Containers;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.product.DataMigration;
import io.kratosupgrade.operator.product.Product;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Input of a phase handler: the object (its status is a working copy handlers may fill in), what was
 * observed, the time, the operator settings, and the product being upgraded.
 */
public record RunContext(KratosUpgrade upgrade, Observation observed, Instant now, OperatorSettings settings, Product product) {

    /** status.databaseRestore.result of a restore that went through. */
    public static final String RESTORED = "Restored";

    public KratosUpgradeSpec spec() {
        return upgrade.getSpec();
    }

    public KratosUpgradeStatus status() {
        return upgrade.getStatus();
    }

    /** The strategy this run started with (spec edits apply to the next run). */
    public Strategy strategy() {
        return status().getStrategy() != null ? status().getStrategy() : spec().getStrategy();
    }

    /** The mode this run started with (spec edits apply to the next run). */
    public Mode mode() {
        return status().getMode() != null ? status().getMode() : spec().getMode();
    }

    /** Gate mode: the operator never writes the Deployment. */
    public boolean gate() {
        return mode() == Mode.Gate;
    }

    /** What a failed rollout leads to: spec.rollback.onFailure, or None in Gate mode, where the Deployment is not ours. */
    public RollbackPolicy rollbackPolicy() {
        return gate() ? RollbackPolicy.None : spec().getRollback().getOnFailure();
    }

    /** Gate mode: whether the Deployment was rolled to the target before the migration finished. */
    public boolean rolledOutBeforeMigration() {
        return status().getRollout() != null && status().getRollout().getRolledOutBeforeMigrationAt() != null;
    }

    /** The image the Deployment's pod template gives the run's container, if both still exist. */
    public Optional<String> templateImage() {
        Deployment deployment = observed().deployment();
        if (deployment == null) return Optional.empty();
        String container = status().getContainerName() != null ? status().getContainerName() : spec().getContainerName();
        return Containers.of(deployment.getSpec().getTemplate().getSpec(), container, product.defaultContainerName()).map(Container::getImage);
    }

    /** The release of {@link #templateImage()}, when its tag is a version. */
    public Optional<KratosVersion> templateVersion() {
        return templateImage().flatMap(image -> {
            try {
                return KratosVersion.fromImageTag(ImageReference.parse(image).tag());
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        });
    }

    /** Whether this run backs up: decided in Preflight, when status.backup is created. */
    public boolean backsUp() {
        return status().getBackup() != null;
    }

    /**
     * The first step that touches something, once the run may go: scale down (Recreate), freeze (BlueGreen, copy Dump),
     * back up (BlueGreen copy Replication: before replication starts), or migrate.
     */
    public Phase firstStep() {
        return switch (strategy()) {
            case Recreate -> Phase.ScalingDown;
            case BlueGreen -> blueGreen().replicates() ? Phase.BackingUp : Phase.Freezing;
            case Rolling -> backsUp() ? Phase.BackingUp : Phase.Migrating;
        };
    }

    /** spec.blueGreen, never null (defaults when absent; a BlueGreen run always has one, the API requires it). */
    public BlueGreenSpec blueGreen() {
        return spec().getBlueGreen() != null ? spec().getBlueGreen() : new BlueGreenSpec();
    }

    /** The data migration this run's path needs after the schema migration (Keto v0.6 to v0.7), known from preflight on. */
    public Optional<DataMigration> dataMigration() {
        if (status().getFromVersion() == null || status().getToVersion() == null) return Optional.empty();
        return product().dataMigration(KratosVersion.parse(status().getFromVersion()), KratosVersion.parse(status().getToVersion()));
    }

    /** The step after the backup, the verification or the rehearsal that just completed ({@link Phase#afterBackupStep}). */
    public Phase afterBackupStep() {
        if (rolledOutBeforeMigration()) return Phase.Migrating; // new pods wait for it: no verification, no rehearsal
        boolean postgres = backsUp() && DatabaseKind.POSTGRES.id().equals(status().getBackup().getDatabase());
        return Phase.afterBackupStep(status().getPhase(), strategy(), spec(), postgres);
    }

    /** The image with the database tools: spec.backup.image, else the operator's configured one. */
    public String toolsImage() {
        return spec().getBackup().getImage() != null ? spec().getBackup().getImage() : settings().backupImage();
    }

    /**
     * The hop in progress: the first one not verified yet (the last one once all are). A run started by an
     * operator version without hops gets its single hop here, to the target.
     */
    public HopStatus hop() {
        List<HopStatus> hops = status().getHops();
        if (hops.isEmpty()) {
            hops.add(new HopStatus(status().getToVersion(), status().getToImage()));
        }
        return hops.get(hopIndex());
    }

    /** 0-based index of {@link #hop()}. */
    public int hopIndex() {
        List<HopStatus> hops = status().getHops();
        for (int i = 0; i < hops.size(); i++) {
            if (!hops.get(i).verified()) return i;
        }
        return Math.max(0, hops.size() - 1);
    }

    /** "hop 2 of 4 (v0.13.0)" on a stepped path, "" for a single hop. */
    public String hopLabel() {
        int count = status().getHops().size();
        return count <= 1 ? "" : "hop " + (hopIndex() + 1) + " of " + count + " (" + hop().getVersion() + "): ";
    }

    /**
     * What a rollback restores: the newest verified hop before the one in progress (its migrations are in the
     * database and it was seen serving), else the release the run found; always the release the run found once
     * the database was restored from the dump taken before the first hop.
     */
    public HopStatus rollbackTarget() {
        List<HopStatus> hops = status().getHops();
        boolean databaseRestored = status().getDatabaseRestore() != null
                && RESTORED.equals(status().getDatabaseRestore().getResult());
        if (databaseRestored) {
            return new HopStatus(status().getFromVersion(), status().getFromImage());
        }
        for (int i = Math.min(hopIndex(), hops.size()) - 1; i >= 0; i--) {
            if (hops.get(i).verified()) return hops.get(i);
        }
        return new HopStatus(status().getFromVersion(), status().getFromImage());
    }

    /** True while the Deployment runs exactly what the run found, so the run can be abandoned cleanly. */
    public boolean deploymentAsFound() {
        return status().getPhase().deploymentUntouched(strategy()) && status().getHops().stream().noneMatch(HopStatus::verified);
    }

    public int run() {
        return status().getRun();
    }

    public String nowText() {
        return Times.format(now);
    }

    /** Time left until {@code timeout} has passed since {@code since}; negative once it has. */
    public Duration remaining(String since, Duration timeout) {
        Instant start = since == null ? now : Times.parse(since);
        return Duration.between(now, start.plus(timeout));
    }
}
