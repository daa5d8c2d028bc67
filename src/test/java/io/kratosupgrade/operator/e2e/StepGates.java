package io.kratosupgrade.operator.e2e;

/**
 * Holds a step of a run still, so a fault lands in its middle whatever the machine's speed: locks held by the
 * test in an open transaction of its own. pg_dump waits on a table of the test's own (it locks every table it
 * dumps); the migration waits on schema_migration (it inserts into it at the end of its first migration, in
 * that migration's transaction). Kratos keeps serving: neither lock conflicts with its reads and writes.
 * Closing a hold lets the step go on.
 */
final class StepGates {

    private final Postgres postgres;
    private final String database;

    StepGates(Postgres postgres, String database) throws Exception {
        this.postgres = postgres;
        this.database = database;
        postgres.execute(database, "CREATE TABLE chaos_gate (x int)", "ALTER TABLE chaos_gate OWNER TO " + database);
    }

    AutoCloseable holdBackup() throws Exception {
        return postgres.hold(database, "LOCK TABLE chaos_gate IN ACCESS EXCLUSIVE MODE");
    }

    AutoCloseable holdMigration() throws Exception {
        return holdMigration(postgres, database);
    }

    /** The migration on another database (BlueGreen's target), once schema_migration exists there. */
    static AutoCloseable holdMigration(Postgres postgres, String database) throws Exception {
        return postgres.hold(database, "LOCK TABLE schema_migration IN SHARE MODE");
    }

    /**
     * Holds every new connection to {@code database}, which no one may be connected to (BlueGreen's target before the
     * new side starts): an uncommitted rename holds the database's ACCESS EXCLUSIVE lock, and a new session waits for
     * it as it starts (it locks its database, the interlock against DROP DATABASE), after authentication and before
     * any lock_timeout of its own applies. Rolled back, the name never changed. The target check, the freeze and the
     * copy Jobs wait there (the DSN sets no connect_timeout), before they change anything; a table of the test's own
     * in the target would make it not empty instead.
     */
    static AutoCloseable holdConnections(Postgres postgres, String database) throws Exception {
        return postgres.hold("postgres", "ALTER DATABASE " + database + " RENAME TO " + database + "_held");
    }
}
