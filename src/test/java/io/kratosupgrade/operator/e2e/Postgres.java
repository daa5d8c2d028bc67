package io.kratosupgrade.operator.e2e;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The test's view of the PostgreSQL server Kratos uses: databases per test, and what is in them. */
final class Postgres {

    private final E2eEnvironment env;

    Postgres(E2eEnvironment env) {
        this.env = env;
    }

    /** A fresh database owned by a fresh role with {@code password}. */
    void createDatabase(String database, String role, String password) throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
            s.execute("CREATE DATABASE " + database + " OWNER " + role);
        }
    }

    /** Newest applied Kratos migration (pop's schema_migration table). */
    String newestMigration(String database) throws SQLException {
        return single(database, "SELECT max(version) FROM schema_migration");
    }

    long count(String database, String table) throws SQLException {
        return Long.parseLong(single(database, "SELECT count(*) FROM " + table));
    }

    long identities(String database) throws SQLException {
        return Long.parseLong(single(database, "SELECT count(*) FROM identities"));
    }

    /** Tables, views, sequences and the like in the public schema: 0 for an empty (or emptied) database. */
    long schemaRelations(String database) throws SQLException {
        return Long.parseLong(single(database, "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                + "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"));
    }

    /** The first column of every row. */
    java.util.List<String> column(String database, String sql) throws SQLException {
        java.util.List<String> values = new java.util.ArrayList<>();
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) values.add(rs.getString(1));
        }
        return values;
    }

    /** Locks held in an open transaction until closed: a test's way to hold a step (pg_dump, a migration) still. */
    AutoCloseable hold(String database, String... statements) throws SQLException {
        Connection c = connect(database);
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String statement : statements) s.execute(statement);
        }
        return () -> {
            try (c) {
                if (!c.isClosed()) c.rollback();
            } catch (SQLException e) {
                // the server went away (a test stopped it): the locks went with it
            }
        };
    }

    void execute(String database, String... statements) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            for (String statement : statements) s.execute(statement);
        }
    }

    String single(String database, String sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + env.pgHost() + ":" + env.pgPort() + "/" + database,
                env.pgUser(), env.pgPassword());
    }
}
