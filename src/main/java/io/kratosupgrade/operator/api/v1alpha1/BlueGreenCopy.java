package io.kratosupgrade.operator.api.v1alpha1;

/** How a BlueGreen run fills the target database. */
public enum BlueGreenCopy {
    /** The dump of the frozen old database restored into the target: the freeze covers dump and restore. */
    Dump,
    /**
     * PostgreSQL logical replication keeps the target in sync while the old side still serves; the freeze covers only
     * the last changes' arrival (usually under a second), whatever the database's size.
     */
    Replication
}
