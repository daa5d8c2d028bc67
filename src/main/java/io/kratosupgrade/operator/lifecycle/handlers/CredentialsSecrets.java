package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.resources.Names;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

/**
 * The credentials Secrets of the steps a run started. Each step deletes its own as it ends, but in an action that
 * follows the status write ending the step: an operator killed in between leaves it, and no later step knows of it.
 * The run's end deletes them all again (a Secret already gone is no error).
 */
public final class CredentialsSecrets {

    private CredentialsSecrets() {
    }

    /** @param deleting Secrets the same decision deletes already */
    public static List<Action> deleteAll(KratosUpgrade upgrade, KratosUpgradeStatus status, Collection<String> deleting) {
        int run = status.getRun();
        List<String> names = new ArrayList<>();
        // An inspection deferred to the backup Job had no Secret of its own.
        if (started(status.getInspection()) && status.getInspection().getJobName().equals(Names.inspectionJob(upgrade, run))) {
            names.add(Names.inspectionCredentialsSecret(upgrade, run));
        }
        if (started(status.getBackup())) names.add(Names.backupCredentialsSecret(upgrade, run));
        if (started(status.getDatabaseRestore())) names.add(Names.databaseRestoreCredentialsSecret(upgrade, run));
        BlueGreenStatus blueGreen = status.getBlueGreen();
        if (blueGreen != null) {
            Stream.of(blueGreen.getTargetCheck(), blueGreen.getCopyRehearsal(), blueGreen.getReplication(), blueGreen.getFreeze(), blueGreen.getCopy(), blueGreen.getCleanup())
                    .filter(CredentialsSecrets::started).map(BlueGreenJobs::secretName).forEach(names::add);
        }
        return names.stream().distinct().filter(name -> !deleting.contains(name)).map(name -> (Action) new Action.DeleteSecret(name)).toList();
    }

    private static boolean started(StepStatus step) {
        return step != null && step.getJobName() != null;
    }
}
