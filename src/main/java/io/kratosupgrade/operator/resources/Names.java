package io.kratosupgrade.operator.resources;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.database.DatabaseKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic names per run: the same run always maps to the same Job, so a restarted operator finds
 * the Job it created instead of creating a second one.
 */
public final class Names {

    /** Job names become a pod label value (job-name), so they must fit 63 characters. */
    static final int MAX_JOB_NAME = 63;

    private Names() {
    }

    public static String backupJob(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-backup", MAX_JOB_NAME);
    }

    public static String migrationJob(KratosUpgrade ku, int run) {
        return migrationJob(ku, run, 0);
    }

    /** The migration Job of hop {@code hop} (0-based) of a run; the first hop keeps the plain name. */
    public static String migrationJob(KratosUpgrade ku, int run, int hop) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-migrate" + (hop == 0 ? "" : "-" + (hop + 1)), MAX_JOB_NAME);
    }

    /** Attempt {@code attempt} (1-based) of a run's data migration; the first keeps the plain name. */
    public static String dataMigrationJob(KratosUpgrade ku, int run, int attempt) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-migrate-data" + (attempt == 1 ? "" : "-" + attempt), MAX_JOB_NAME);
    }

    public static String backupVerificationJob(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-verify", MAX_JOB_NAME);
    }

    public static String rehearsalJob(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-rehearse", MAX_JOB_NAME);
    }

    public static String databaseRestoreJob(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-restore", MAX_JOB_NAME);
    }

    public static String databaseRestoreCredentialsSecret(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-restore-db", MAX_JOB_NAME);
    }

    public static String inspectionJob(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-inspect", MAX_JOB_NAME);
    }

    public static String inspectionCredentialsSecret(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-inspect-db", MAX_JOB_NAME);
    }

    public static String backupCredentialsSecret(KratosUpgrade ku, int run) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-backup-db", MAX_JOB_NAME);
    }

    /** A BlueGreen run's database Job for {@code step} (freeze, copy, thaw, cleanup): named after its step. */
    public static String blueGreenJob(KratosUpgrade ku, int run, String step) {
        return bounded(ku.getMetadata().getName() + "-" + run + "-" + step, MAX_JOB_NAME);
    }

    /**
     * The publication, replication slot and subscription of a BlueGreen run with copy Replication: one name for the
     * three (slot names allow a-z, 0-9 and _ only, 63 at most), unique per KratosUpgrade and run, so that a leftover is
     * traced to its run.
     */
    public static String subscription(KratosUpgrade ku, int run) {
        String uid = ku.getMetadata().getUid() == null ? "" : ku.getMetadata().getUid().replace("-", "").toLowerCase(java.util.Locale.ROOT);
        return "kratos_upgrade_" + uid.substring(0, Math.min(12, uid.length())) + "_" + run;
    }

    /**
     * The new Deployment of a BlueGreen run: spec.blueGreen.newDeploymentName, else the old one's name and the
     * target version with dots as dashes (kratos-v1-3-1), bounded to fit the pod names Kubernetes derives from it.
     */
    public static String newSideDeployment(KratosUpgrade ku) {
        if (ku.getSpec().getBlueGreen() != null && ku.getSpec().getBlueGreen().getNewDeploymentName() != null) {
            return ku.getSpec().getBlueGreen().getNewDeploymentName();
        }
        return bounded((ku.getSpec().getDeploymentName() + "-" + ku.getSpec().getVersion()).replace('.', '-').toLowerCase(), 200);
    }

    /** Unique per object (uid) and run, so a re-created object never overwrites an older dump. */
    public static String backupFile(KratosUpgrade ku, int run, String fromVersion, DatabaseKind kind) {
        String uid = ku.getMetadata().getUid() == null ? "local" : ku.getMetadata().getUid().substring(0, 8);
        // Bounded so "<file>.partial" and "<file>.sha256" stay within the 255-byte file name limit.
        return bounded(ku.getMetadata().getName(), 150) + "-run" + run + "-" + fromVersion + "-" + uid + kind.fileExtension();
    }

    public static String bounded(String name, int max) {
        if (name.length() <= max) {
            return name;
        }
        String hash = sha256(name).substring(0, 8);
        String head = name.substring(0, max - hash.length() - 1).replaceAll("[-.]+$", "");
        return head + "-" + hash;
    }

    public static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
