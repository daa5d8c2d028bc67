package io.kratosupgrade.operator.api.v1alpha1;

/** Which releases a run goes through between the running one and the target. */
public enum UpgradePath {
    /** Straight to the target: one migration, one rollout (Ory allows skipping releases). */
    Direct,
    /**
     * Through every known release in between (or, with spec.releaseImages, every release listed there), one
     * migration, rollout and verification per release: the old release never serves on a schema more than one
     * release ahead, which is what Ory's zero-downtime promise needs.
     */
    Stepped
}
