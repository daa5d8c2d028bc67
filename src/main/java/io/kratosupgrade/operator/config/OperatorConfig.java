package io.kratosupgrade.operator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Configuration under {@code kratos-upgrade.*} (application.properties or KRATOS_UPGRADE_* env vars). */
@ConfigMapping(prefix = "kratos-upgrade")
public interface OperatorConfig {

    Backup backup();

    /** How many past runs status.history keeps. */
    @WithDefault("10")
    int historyLimit();

    /** How long after a Job's own deadline the operator gives up on it. */
    @WithDefault("30s")
    Duration jobDeadlineGrace();

    /** How often the operator looks at the Kratos pods while waiting for the last of them to be gone (Recreate, restore). */
    @WithDefault("2s")
    Duration podRecheck();

    /** How many runs' Jobs each KratosUpgrade keeps; older Jobs are deleted (backup files never are). */
    @WithDefault("3")
    int keptJobRuns();

    /**
     * How many migration Jobs may run at once, across every KratosUpgrade (and fleet) this operator serves; a run
     * waits in Migrating for a slot. 0: no limit.
     */
    @WithDefault("10")
    int maxConcurrentMigrations();

    /**
     * How often, at most, a status is written only to report progress (a message, a fleet's counts). Changes that
     * announce a step, a phase or a result are written at once.
     */
    @WithDefault("10s")
    Duration progressInterval();

    /** Name of the Lease used for leader election when several operator replicas run. */
    @WithDefault("kratos-upgrade-operator")
    String leaderElectionLease();

    Fleet fleet();

    interface Fleet {
        /**
         * Namespaces whose KratosFleetUpgrades may select Deployments of other namespaces (spec.namespaceSelector).
         * The Helm chart sets the operator's own namespace; none by default.
         */
        Optional<List<String>> adminNamespaces();
    }

    interface Backup {
        /** Image with pg_dump, pg_restore, psql and mysqldump, used when spec.backup.image is empty. */
        @WithDefault("kratos-upgrade-db-tools:latest")
        String image();
    }

    default OperatorSettings toSettings() {
        return new OperatorSettings(backup().image(), historyLimit(), jobDeadlineGrace(), podRecheck(), keptJobRuns(),
                maxConcurrentMigrations());
    }
}
