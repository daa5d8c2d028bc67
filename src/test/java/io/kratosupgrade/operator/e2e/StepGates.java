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
        return postgres.hold(database, "LOCK TABLE schema_migration IN SHARE MODE");
    }
}
