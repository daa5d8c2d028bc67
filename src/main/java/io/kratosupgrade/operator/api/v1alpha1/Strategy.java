package io.kratosupgrade.operator.api.v1alpha1;

/** How the Kratos Deployment moves from the old release to the new one. */
public enum Strategy {
    /** Migrate while the old pods serve, then set the new image and let the Deployment roll. */
    Rolling,
    /** Scale to zero, back up, migrate, set the new image and restore the original replica count. */
    Recreate,
    /**
     * A second Deployment beside the old one, on a copy of the database: the old side's writes are frozen, the
     * database is dumped and restored into the target database, migrated there, the new side started and verified,
     * then the Services move to it; the old side stays up, frozen, as the way back until it is released.
     */
    BlueGreen
}
