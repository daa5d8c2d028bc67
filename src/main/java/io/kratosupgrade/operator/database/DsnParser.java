package io.kratosupgrade.operator.database;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses the DSN forms Kratos accepts:
 * {@code postgres://user:pw@host:5432/db?sslmode=disable&max_conns=20} (also {@code postgresql://}, an IPv6
 * host in brackets, a unix socket directory as {@code ?host=/path} with an empty host) and
 * {@code mysql://user:pw@tcp(host:3306)/db?parseTime=true}. A PostgreSQL user and password may be
 * percent-encoded and are decoded here; a MySQL one is taken as written, as Kratos does. Error messages describe
 * the problem, never the DSN.
 */
public final class DsnParser {

    private DsnParser() {
    }

    public static DatabaseKind kindOf(String dsn) throws InvalidDsnException {
        if (dsn == null || dsn.isBlank()) {
            throw new InvalidDsnException("the DSN is empty");
        }
        if (dsn.trim().equals("memory")) {
            return DatabaseKind.MEMORY;
        }
        int sep = dsn.indexOf("://");
        if (sep <= 0) {
            throw new InvalidDsnException("the DSN has no scheme (expected e.g. postgres://...)");
        }
        String scheme = dsn.substring(0, sep);
        return DatabaseKind.fromScheme(scheme)
                .orElseThrow(() -> new InvalidDsnException("unknown DSN scheme '" + safeScheme(scheme) + "'"));
    }

    public static DatabaseTarget parse(String dsn) throws InvalidDsnException {
        DatabaseKind kind = kindOf(dsn);
        if (!kind.dumpable()) {
            return new DatabaseTarget(kind, null, null, null, null, null, Map.of());
        }
        String rest = dsn.trim().substring(dsn.indexOf("://") + 3);
        Map<String, String> params = new LinkedHashMap<>();
        String user = null;
        String password = null;
        String hostPort;
        String database;
        if (kind == DatabaseKind.MYSQL) {
            // As Go's MySQL driver reads it (Kratos hands it the DSN without the scheme), not as a URL:
            // [user[:password]@][tcp(host:port)|host:port]/db[?params]. The database follows the LAST '/', the
            // credentials end at the last '@' before it, and they are taken as written, never percent-decoded:
            // "p%41ss" is the password Kratos sends (checked against Kratos v1.0.0 and MariaDB).
            int slash = rest.lastIndexOf('/');
            if (slash < 0) throw new InvalidDsnException("the DSN names no database");
            String tail = rest.substring(slash + 1);
            int q = tail.indexOf('?');
            if (q >= 0) {
                params = parseQuery(tail.substring(q + 1));
                tail = tail.substring(0, q);
            }
            database = decode(tail);
            String head = rest.substring(0, slash);
            int at = head.lastIndexOf('@');
            if (at >= 0) {
                String userInfo = head.substring(0, at);
                head = head.substring(at + 1);
                int colon = userInfo.indexOf(':');
                user = colon >= 0 ? userInfo.substring(0, colon) : userInfo;
                password = colon >= 0 ? userInfo.substring(colon + 1) : null;
            }
            if (head.startsWith("tcp(")) {
                if (!head.endsWith(")")) throw new InvalidDsnException("the MySQL DSN has an unclosed tcp( address");
                hostPort = head.substring(4, head.length() - 1);
            } else if (head.startsWith("unix(")) {
                throw new InvalidDsnException("MySQL unix-socket DSNs cannot be reached from a backup Job");
            } else {
                hostPort = head;
            }
        } else {
            int q = rest.indexOf('?');
            if (q >= 0) {
                params = parseQuery(rest.substring(q + 1));
                rest = rest.substring(0, q);
            }
            // The password may contain '@' or '/' when escaped sloppily; the host part never contains '@'.
            int at = rest.lastIndexOf('@');
            if (at >= 0) {
                String userInfo = rest.substring(0, at);
                rest = rest.substring(at + 1);
                int colon = userInfo.indexOf(':');
                user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
                password = colon >= 0 ? decode(userInfo.substring(colon + 1)) : null;
            }
            int slash = rest.indexOf('/');
            hostPort = slash >= 0 ? rest.substring(0, slash) : rest;
            database = slash >= 0 ? decode(rest.substring(slash + 1)) : null;
        }
        if (hostPort.isEmpty() && kind == DatabaseKind.POSTGRES && params.containsKey("host")) {
            // postgres://user:pw@/db?host=/var/run/postgresql: a unix socket directory (or a host) as a parameter.
            hostPort = params.remove("host");
        }
        if (hostPort.isEmpty()) {
            throw new InvalidDsnException("the DSN names no host");
        }
        String host = hostPort;
        String port = null;
        int portSep = hostPort.lastIndexOf(':');
        if (portSep > hostPort.lastIndexOf(']')) {
            host = hostPort.substring(0, portSep);
            port = hostPort.substring(portSep + 1);
            if (!port.matches("\\d{1,5}")) {
                throw new InvalidDsnException("the DSN port is not a number");
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (database == null || database.isEmpty()) {
            throw new InvalidDsnException("the DSN names no database");
        }
        return new DatabaseTarget(kind, host, port, user, password, database, params);
    }

    private static Map<String, String> parseQuery(String query) throws InvalidDsnException {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String key = decode(eq >= 0 ? pair.substring(0, eq) : pair);
            String value = eq >= 0 ? decode(pair.substring(eq + 1)) : "";
            params.put(key, value);
        }
        return params;
    }

    private static String decode(String s) throws InvalidDsnException {
        try {
            // URLDecoder turns '+' into a space, which DSN userinfo does not: protect literal pluses.
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // The exception text quotes the characters after '%': never pass it on.
            throw new InvalidDsnException("the DSN contains an invalid percent-escape (a literal % must be written %25)");
        }
    }

    private static String safeScheme(String scheme) {
        return scheme.length() > 20 || !scheme.matches("[A-Za-z0-9+.-]*") ? "?" : scheme;
    }
}
