package io.kratosupgrade.operator.config;

import java.time.Duration;

/**
 * Operator-wide settings, independent of Quarkus so the reconciler can also run in a plain JOSDK operator.
 *
 * @param backupImage      image with pg_dump and mysqldump used when spec.backup.image is empty
 * @param historyLimit     how many past runs status.history keeps
 * @param jobDeadlineGrace how long after a Job's activeDeadlineSeconds the operator gives up on it itself
 * @param podRecheck       how often the operator looks at the Deployment's pods while it waits for them to stop
 *                         (Recreate) or to run the target (verification): those pods carry no label of the
 *                         operator's, so no informer of its own wakes it
 * @param keptJobRuns      how many runs' Jobs a KratosUpgrade keeps (older ones are deleted; dumps never are)
 * @param maxConcurrentMigrations how many migration Jobs may run at once, operator-wide (0: no limit)
 */
public record OperatorSettings(String backupImage, int historyLimit, Duration jobDeadlineGrace, Duration podRecheck,
                               int keptJobRuns, int maxConcurrentMigrations) {

    public static OperatorSettings defaults() {
        return new OperatorSettings("kratos-upgrade-db-tools:latest", 10, Duration.ofSeconds(30), Duration.ofSeconds(2), 3, 10);
    }
}
