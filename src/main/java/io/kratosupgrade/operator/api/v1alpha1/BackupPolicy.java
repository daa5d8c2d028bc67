package io.kratosupgrade.operator.api.v1alpha1;

public enum BackupPolicy {
    /** A backup Job must succeed before any migration runs. */
    Required,
    /** No backup: must be chosen explicitly. */
    Skip
}
