package io.kratosupgrade.operator.config;

import java.time.Duration;

/**
 * Operator-wide settings, independent of Quarkus so the reconciler can also run in a plain JOSDK operator.
 *
 * @param backupImage      image with pg_dump and mysqldump used when spec.backup.image is empty
 * @param historyLimit     how many past runs status.history keeps
 * @param jobDeadlineGrace how long after a Job's activeDeadlineSeconds the operator gives up on it itself
 * @param podRecheck       how often the operator looks at the Deployment's pods while it waits for the last of
 *                         them to be gone (Recreate's scale-down, a database restore): those pods carry no label
 *                         of the operator's, and a terminating pod that finally goes changes nothing the
 *                         Deployment informer sees (verification polls only for a ready pod on another image
 *                         that is not one of the Deployment's replicas; readiness moves the Deployment's status)
 * @param keptJobRuns      how many runs' Jobs a KratosUpgrade keeps (older ones are deleted; dumps never are)
 * @param maxConcurrentMigrations how many migration Jobs may run at once, operator-wide (0: no limit)
 */
public record OperatorSettings(String backupImage, int historyLimit, Duration jobDeadlineGrace, Duration podRecheck,
                               int keptJobRuns, int maxConcurrentMigrations) {

    public static OperatorSettings defaults() {
        return new OperatorSettings("kratos-upgrade-db-tools:latest", 10, Duration.ofSeconds(30), Duration.ofSeconds(2), 3, 10);
    }
}
