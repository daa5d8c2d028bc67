package io.kratosupgrade.operator.config;

import java.time.Duration;

/**
 * Operator-wide settings, independent of Quarkus so the reconciler can also run in a plain JOSDK operator.
 *
 * @param backupImage     image with pg_dump and mysqldump used when spec.backup.image is empty
 * @param historyLimit    how many past runs status.history keeps
 * @param jobDeadlineGrace how long after a Job's activeDeadlineSeconds the operator gives up on it itself
 * @param verifyRecheck   how often verification looks again while old pods are still serving
 */
public record OperatorSettings(String backupImage, int historyLimit, Duration jobDeadlineGrace, Duration verifyRecheck) {

    public static OperatorSettings defaults() {
        return new OperatorSettings("kratos-upgrade-db-tools:latest", 10, Duration.ofSeconds(30), Duration.ofSeconds(2));
    }
}
