package io.kratosupgrade.operator.api.v1alpha1;

/** Who changes the Kratos Deployment's image. */
public enum Mode {
    /** The operator sets the image (and, under Recreate, the replicas): Git, if any, holds only the KratosUpgrade. */
    Managed,
    /**
     * A GitOps tool (or a person) owns the Deployment: the operator never writes it. It backs up and migrates, reports
     * Ready, then watches the rollout someone else makes and verifies it.
     */
    Gate
}
