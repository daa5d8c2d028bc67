package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.InspectionStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Kratos on its MySQL dialect: the MariaDB 10.11 server of the local cluster (Kratos is tested upstream on MySQL 8;
 * MariaDB is what Debian ships, and runs Kratos's migrations once strict mode is off). The same engine as on
 * PostgreSQL, with the mysql client reading schema_migration and mysqldump taking the backup.
 */
class MySqlE2E extends E2eTestBase {

    @Test
    void aRollingUpgradeOnMySqlMigratesExactlyWhatItsInspectionCountedAndKeepsARestorableDump() throws Exception {
        MariaDb mariadb = new MariaDb(env);
        kratos.mysql = mariadb;
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(3);
        long appliedBefore = mariadb.count(kratos.database, "schema_migration");
        LoadGenerator load = startLoad(false);

        upgrade("on-mysql", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("on-mysql", Phase.Succeeded);
        LoadGenerator.Result result = load.stop();
        long appliedAfter = mariadb.count(kratos.database, "schema_migration");
        System.out.printf("MySQL (MariaDB) rolling upgrade v1.0.0 -> v1.3.1: %d migrations applied before, %d after; "
                + "%d requests ok, %d failed%n", appliedBefore, appliedAfter, result.ok(), result.failed());

        // The inspection read the real schema_migration: the knowledge base's MySQL list of v1.0.0 is what
        // v1.0.0's own migration left, and the plan counted exactly the rows the migration added.
        InspectionStatus inspection = ku.getStatus().getInspection();
        assertThat(inspection.getAppliedMigrations()).isEqualTo((int) appliedBefore);
        assertThat(inspection.getNewestMigration()).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(inspection.getMissingForRunning()).isZero();
        assertThat(inspection.getUnknownToRunning()).isZero();
        assertThat(inspection.getNetworks()).isEqualTo(1);
        assertThat(appliedAfter - appliedBefore).isPositive();
        assertThat(inspection.getPendingForTarget()).isEqualTo((int) (appliedAfter - appliedBefore));
        assertThat(ku.getStatus().getPlan().getPendingMigrations()).isEqualTo((int) (appliedAfter - appliedBefore));
        assertThat(ku.getStatus().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("neither verified nor rehearsed"));
        assertThat(mariadb.single(kratos.database, "SELECT max(version) FROM schema_migration"))
                .isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));

        assertThat(result.ok()).as("requests answered while upgrading").isGreaterThan(20);
        assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
        assertEveryPodAnswers("v1.3.1");
        var identities = kratos.get(kratos.servingPods().get(0), 4434, "/admin/identities?per_page=100");
        emails.forEach(email -> assertThat(identities.body()).contains(email));
        assertThat(mariadb.count(kratos.database, "identities")).isEqualTo(3);

        // mysqldump's file matches its checksum and restores, with the mysql client, into an empty database
        // as the database was before the migration.
        var backup = ku.getStatus().getBackup();
        assertThat(backup.getDatabase()).isEqualTo("mysql");
        assertThat(backup.getBytes()).isPositive();
        assertThat(backup.getDumpSeconds()).as("mysqldump timed in the Job").isNotNull().isNotNegative();
        String restoreDb = kratos.database + "_restore";
        mariadb.createDatabase(restoreDb, restoreDb, "restore-pw");
        String log = runTool("restore-mysql-dump", String.join(" && ", "cd /backup", "sha256sum -c " + backup.getFile() + ".sha256",
                        "mysql --host=\"$DB_HOST\" --port=\"$DB_PORT\" --user=\"$DB_USER\" \"$DB_NAME\" < " + backup.getFile(), "echo restored"),
                Map.of("DB_HOST", env.mysqlHostForPods(), "DB_PORT", Integer.toString(env.mysqlPort()), "DB_USER", restoreDb,
                        "DB_NAME", restoreDb, "MYSQL_PWD", "restore-pw"));
        assertThat(log).contains(backup.getFile() + ": OK").contains("restored");
        assertThat(mariadb.count(restoreDb, "identities")).isEqualTo(3);
        assertThat(mariadb.count(restoreDb, "schema_migration")).as("dumped before the migration").isEqualTo(appliedBefore);
    }
}
