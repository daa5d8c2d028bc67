package io.kratosupgrade.operator.lifecycle;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.resources.DeploymentPatches;
import io.kratosupgrade.operator.resources.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What deleting a KratosUpgrade does, in every phase. Deletion abandons the run but never leaves Kratos
 * down or half-way:
 * <ul>
 * <li>a migration Job, or a database restore Job, that is running is never cut off: deletion waits until it has
 *     finished;</li>
 * <li>replicas a Recreate run took away are given back (the original count, with whatever image the
 *     Deployment has at that moment: the old release before RollingOut, the target after it);</li>
 * <li>the credentials Secrets (inspection, backup, restore) are deleted and the Deployment's lock released;</li>
 * <li>the image is never changed and nothing is rolled back; backup files are kept.</li>
 * </ul>
 * Then the finalizer goes, and the garbage collector removes the object's Jobs (a backup Job still running
 * is stopped; its partial file keeps the {@code .partial} suffix).
 *
 * <p>A BlueGreen run that froze the old database cannot be abandoned: the old side would stay read-only. Deleting it
 * first brings the run to its own end ({@link #overrule}): before the switch it switches back (writes restored, the
 * new side removed), after the switch it finalizes as if keepOldFor had passed (the new side keeps serving). Only
 * then does the object go.
 *
 * @param waitReason null to let the object go now; otherwise why deletion waits
 * @param actions    side effects to carry out first
 */
public record Deletion(String waitReason, List<Action> actions) {

    public boolean waits() {
        return waitReason != null;
    }

    /** Whether deletion must first let the run reach a terminal phase (a BlueGreen run past preflight). */
    public static boolean finishesRunFirst(KratosUpgrade upgrade) {
        KratosUpgradeStatus status = upgrade.getStatus();
        return status != null && status.getPhase() != null && status.getStrategy() == Strategy.BlueGreen
                && !status.getPhase().isTerminal() && !status.getPhase().deploymentUntouched(Strategy.BlueGreen);
    }

    /**
     * What a deleted BlueGreen run does instead of its phase's step: up to the switch it fails (reason Deleted) into
     * SwitchingBack; while the old side is kept it goes on to Finalizing; SwitchingBack and Finalizing run as usual.
     */
    static Optional<PhaseOutcome> overrule(RunContext ctx) {
        if (ctx.upgrade().getMetadata().getDeletionTimestamp() == null || !finishesRunFirst(ctx.upgrade())) return Optional.empty();
        return switch (ctx.status().getPhase()) {
            case BackingUp, VerifyingBackup, Replicating, Freezing, Copying, Migrating, MigratingData, StartingNewSide, Switching ->
                    Optional.of(Failures.fail(ctx, "Deleted",
                    "the KratosUpgrade is being deleted: switching back to the old side before it goes"));
            case KeepingOld -> Optional.of(PhaseOutcome.advance(Phase.Finalizing, "Deleted",
                    "the KratosUpgrade is being deleted: the new side keeps serving; releasing the old side before it goes"));
            default -> Optional.empty();
        };
    }

    public static Deletion decide(KratosUpgrade upgrade, Observation observed) {
        KratosUpgradeStatus status = upgrade.getStatus();
        List<Action> actions = new ArrayList<>();
        if (status == null || status.getRun() == null || status.getPhase() == null) {
            return new Deletion(null, List.of(new Action.ReleaseLock(upgrade.getSpec().getDeploymentName())));
        }
        // A migration, or a restore into production, is never cut off half-way.
        String job = status.getPhase() == Phase.Migrating && status.getMigration() != null ? status.getMigration().getJobName()
                : status.getPhase() == Phase.RestoringDatabase && status.getDatabaseRestore() != null
                ? status.getDatabaseRestore().getJobName() : null;
        if (job != null && observed.job(job).map(j -> !JobOutcome.of(j, List.of()).finished()).orElse(false)) {
            return new Deletion((status.getPhase() == Phase.Migrating ? "migration" : "database restore") + " Job " + job
                    + " is running; deletion waits for it to finish", List.of());
        }
        actions.add(new Action.DeleteSecret(Names.inspectionCredentialsSecret(upgrade, status.getRun())));
        actions.add(new Action.DeleteSecret(Names.backupCredentialsSecret(upgrade, status.getRun())));
        actions.add(new Action.DeleteSecret(Names.databaseRestoreCredentialsSecret(upgrade, status.getRun())));
        Deployment deployment = observed.deployment();
        Integer original = status.getRollout() == null ? null : status.getRollout().getOriginalReplicas();
        boolean scaledDownByThisRun = !status.getPhase().isTerminal() && status.getRollout() != null
                && status.getRollout().getScaledDownAt() != null;
        if (scaledDownByThisRun && deployment != null && original != null
                && !original.equals(deployment.getSpec().getReplicas())) {
            actions.add(new Action.PatchDeployment(deployment.getMetadata().getName(),
                    DeploymentPatches.setReplicas(original), "replicas " + original + " (the run was deleted)"));
        }
        actions.add(new Action.ReleaseLock(upgrade.getSpec().getDeploymentName()));
        return new Deletion(null, actions);
    }
}
