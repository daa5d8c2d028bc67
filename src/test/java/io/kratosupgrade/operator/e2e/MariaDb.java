package io.kratosupgrade.operator.e2e;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** The test's view of the MariaDB server of the local cluster (Kratos's MySQL dialect): databases per test. */
final class MariaDb {

    private final E2eEnvironment env;

    MariaDb(E2eEnvironment env) {
        this.env = env;
    }

    /** A fresh database and a user of its own, reachable from pods, with every privilege on it. */
    void createDatabase(String database, String user, String password) throws SQLException {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE `" + database + "`");
            s.execute("CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password.replace("'", "''") + "'");
            s.execute("GRANT ALL PRIVILEGES ON `" + database + "`.* TO '" + user + "'@'%'");
        }
    }

    String single(String database, String sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    long count(String database, String table) throws SQLException {
        return Long.parseLong(single(database, "SELECT count(*) FROM `" + table + "`"));
    }

    List<String> column(String database, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) values.add(rs.getString(1));
        }
        return values;
    }

    private Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + env.mysqlHost() + ":" + env.mysqlPort() + "/" + database,
                env.mysqlUser(), env.mysqlPassword());
    }
}
