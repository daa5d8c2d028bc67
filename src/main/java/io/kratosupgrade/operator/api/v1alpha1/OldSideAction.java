package io.kratosupgrade.operator.api.v1alpha1;

/** What a BlueGreen run does with the old Deployment once the new side is final. */
public enum OldSideAction {
    /** Keep the old Deployment with zero replicas: its spec stays as a record and can be scaled up by hand. */
    ScaleToZero,
    /** Delete the old Deployment. */
    Delete
}
