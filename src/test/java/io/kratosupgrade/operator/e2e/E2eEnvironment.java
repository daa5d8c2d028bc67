package io.kratosupgrade.operator.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the end-to-end tier runs: any cluster reachable through a kubeconfig, plus a PostgreSQL server
 * (and, for the MySQL dialect, a MySQL or MariaDB server) that both the pods and this JVM can reach. Defaults come from the env file hack/local-cluster.sh writes;
 * every value can be given as a system property instead (-De2e.kubeconfig=..., -De2e.pg.host=...).
 */
public record E2eEnvironment(String kubeconfig, String pgHost, int pgPort, String pgUser, String pgPassword,
                             String pgHostForPods, String storageClass, String toolsImage, String busyboxImage,
                             String kratosRepository, String mysqlHost, int mysqlPort, String mysqlUser, String mysqlPassword,
                             String mysqlHostForPods, String hydraRepository) {

    static final String DEFAULT_ENV_FILE = "/var/lib/kratos-upgrade-operator/cluster/env";

    public static E2eEnvironment load() {
        Map<String, String> env = readEnvFile(Path.of(System.getProperty("e2e.envFile", DEFAULT_ENV_FILE)));
        return new E2eEnvironment(
                value("e2e.kubeconfig", env, "KUBECONFIG", System.getenv("KUBECONFIG")),
                value("e2e.pg.host", env, "PGHOST", "127.0.0.1"),
                Integer.parseInt(value("e2e.pg.port", env, "PGPORT", "5432")),
                value("e2e.pg.user", env, "PGUSER", "postgres"),
                value("e2e.pg.password", env, "PGPASSWORD", ""),
                value("e2e.pg.hostForPods", env, "KUO_PG_HOST_FOR_PODS", "10.88.0.1"),
                value("e2e.storageClass", env, "KUO_STORAGE_CLASS", "local-backup"),
                System.getProperty("e2e.toolsImage", "kratos-upgrade-db-tools:latest"),
                System.getProperty("e2e.busyboxImage", "kratos-upgrade-busybox:local"),
                System.getProperty("e2e.kratosRepository", "oryd/kratos"),
                value("e2e.mysql.host", env, "KUO_MYSQL_HOST", "127.0.0.1"),
                Integer.parseInt(value("e2e.mysql.port", env, "KUO_MYSQL_PORT", "3306")),
                value("e2e.mysql.user", env, "KUO_MYSQL_USER", "root"),
                value("e2e.mysql.password", env, "KUO_MYSQL_PASSWORD", ""),
                value("e2e.mysql.hostForPods", env, "KUO_MYSQL_HOST_FOR_PODS", "10.88.0.1"),
                System.getProperty("e2e.hydraRepository", "oryd/hydra"));
    }

    String kratosImage(String version) {
        return kratosRepository + ":" + version;
    }

    String hydraImage(String version) {
        return hydraRepository + ":" + version;
    }

    private static String value(String property, Map<String, String> env, String key, String fallback) {
        String v = System.getProperty(property);
        if (v != null && !v.isEmpty()) return v;
        v = env.get(key);
        return v != null && !v.isEmpty() ? v : fallback;
    }

    private static Map<String, String> readEnvFile(Path file) {
        Map<String, String> env = new HashMap<>();
        if (!Files.isReadable(file)) return env;
        try {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (line.startsWith("#") || eq <= 0) continue;
                env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
        return env;
    }

    @Override
    public String toString() {
        return "E2eEnvironment[kubeconfig=" + kubeconfig + ", postgres=" + pgHost + ":" + pgPort + " (pods: " + pgHostForPods
                + "), mysql=" + mysqlHost + ":" + mysqlPort + " (pods: " + mysqlHostForPods + "), storageClass=" + storageClass + ", tools=" + toolsImage + "]";
    }
}
