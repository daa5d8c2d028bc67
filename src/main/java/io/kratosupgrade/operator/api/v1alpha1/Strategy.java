package io.kratosupgrade.operator.api.v1alpha1;

/** How the Kratos Deployment moves from the old release to the new one. */
public enum Strategy {
    /** Migrate while the old pods serve, then set the new image and let the Deployment roll. */
    Rolling,
    /** Scale to zero, back up, migrate, set the new image and restore the original replica count. */
    Recreate
}
