package io.kratosupgrade.operator.api.v1alpha1;

public enum RollbackPolicy {
    /** Leave the Deployment as the failed step left it. */
    None,
    /** Restore the previous image (and replica count) when the new release does not become ready in time. */
    Image,
    /**
     * As Image, after restoring the verified dump into the database (Kratos scaled to zero meanwhile); lossless only
     * when nothing wrote to the new schema, see {@link RollbackSpec#getAllowDataLoss()}.
     */
    ImageAndDatabase
}
