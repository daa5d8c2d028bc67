package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Real upgrades between real Kratos releases, on a real cluster, with real PostgreSQL and pg_dump. */
class UpgradeE2E extends E2eTestBase {

    /** Newest migration of each release (persistence/sql/migrations/sql). */
    static final Map<String, String> NEWEST_MIGRATION = Map.of(
            "v1.0.0", "20230705000000000001",
            "v1.3.1", "20240425095000000001");

    @Test
    void rollingUpgradeUnderLoadLosesNoRequestAndNoData() throws Exception {
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(5);
        LoadGenerator load = startLoad(false);

        upgrade("to-v131", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("to-v131", Phase.Succeeded);
        LoadGenerator.Result result = load.stop();
        System.out.printf("load generator during the rolling upgrade v1.0.0 -> v1.3.1: %d requests ok, %d failed%n",
                result.ok(), result.failed());

        assertThat(result.ok()).as("requests answered while upgrading").isGreaterThan(20);
        assertThat(result.failed()).as("failed requests:\n" + result.failures()).isZero();
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(NEWEST_MIGRATION.get("v1.3.1"));
        assertEveryPodAnswers("v1.3.1");
        assertIdentitiesIntact(emails);

        // Every flow the old and the new release answered as written is in the database.
        assertThat(postgres.column(kratos.database, "SELECT id FROM selfservice_login_flows")).containsAll(result.written());

        // The dump exists, matches its checksum, and restores into an empty database with the data as it was
        // before the migration.
        String restoreDb = restoreDump(ku.getStatus().getBackup().getFile());
        assertThat(postgres.identities(restoreDb)).isEqualTo(5);
        assertThat(postgres.newestMigration(restoreDb)).as("dumped before the migration").isEqualTo(NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(ku.getStatus().getBackup().getBytes()).isPositive();
        assertThat(ku.getStatus().getBackup().getDumpSeconds()).as("pg_dump timed in the Job").isNotNull().isNotNegative();
        assertThat(ku.getStatus().getBackup().getSha256()).hasSize(64);
        // The counts taken in the dump's own snapshot are what the restored copy holds.
        assertThat(ku.getStatus().getBackup().getCounts()).containsEntry("identities", 5L)
                .containsEntry("schema_migration", postgres.count(restoreDb, "schema_migration"))
                .containsEntry("identity_credentials", postgres.count(restoreDb, "identity_credentials"));

        // Verified by default: restored into a throw-away server, every core table holds what the snapshot counted.
        var verification = ku.getStatus().getBackup().getVerification();
        assertThat(verification.getResult()).isEqualTo("Verified");
        assertThat(verification.getRestoredCounts()).isEqualTo(ku.getStatus().getBackup().getCounts());
        // Rehearsed by default: the copy got exactly the migrations production got afterwards.
        var rehearsal = ku.getStatus().getRehearsal();
        long appliedInProduction = postgres.count(kratos.database, "schema_migration") - ku.getStatus().getBackup().getCounts().get("schema_migration");
        System.out.printf("safety steps: verification %s s (restore %s s), rehearsal %s s (restore %s s, migration %s s, %d applied; "
                        + "production applied %d), whole run %s s%n",
                seconds(verification.getStartedAt(), verification.getFinishedAt()), verification.getRestoreSeconds(),
                seconds(rehearsal.getStartedAt(), rehearsal.getFinishedAt()), rehearsal.getRestoreSeconds(), rehearsal.getMigrationSeconds(),
                rehearsal.getApplied(), appliedInProduction, seconds(ku.getStatus().getStartedAt(), ku.getStatus().getFinishedAt()));
        assertThat(rehearsal.getResult()).isEqualTo("Passed");
        assertThat(rehearsal.getApplied()).isPositive().isEqualTo(appliedInProduction);
        assertThat(rehearsal.getMigrationSeconds()).isNotNull();
        assertThat(ku.getStatus().getPlan().getRehearsal()).contains(rehearsal.getApplied() + " migration(s) applied");
    }

    private static long seconds(String from, String to) {
        return Duration.between(Instant.parse(from), Instant.parse(to)).toSeconds();
    }

    /**
     * Recreate as a new user meets it: pods that drain for 15 s in a preStop hook, a client writing through the
     * Service the whole time, and a namespace enforcing PodSecurity restricted with seccomp set per container.
     * The backup must start only once no Kratos pod exists, so every write the old release accepted is in the
     * dump; every Job the operator creates must be admitted.
     */
    @Test
    void recreateBacksUpOnlyOnceKratosHasStoppedAndTheDumpHoldsEveryWrite() throws Exception {
        enforceRestrictedPodSecurity();
        kratos.restricted = true;
        kratos.drainSeconds = 15;
        kratos.install("v1.0.0");
        List<String> emails = kratos.seedIdentities(3);
        LoadGenerator writer = startLoad(true);
        await().atMost(Duration.ofSeconds(30)).until(() -> postgres.count(kratos.database, "selfservice_login_flows") > 0);

        upgrade("recreate", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));
        KratosUpgrade ku = awaitOutcome("recreate", Phase.Succeeded);
        LoadGenerator.Result result = writer.stop();

        Instant scaledDown = Instant.parse(ku.getStatus().getRollout().getScaledDownAt());
        Instant backupStarted = Instant.parse(ku.getStatus().getBackup().getStartedAt());
        String restoreDb = restoreDump(ku.getStatus().getBackup().getFile());
        List<String> dumped = postgres.column(restoreDb, "SELECT id FROM selfservice_login_flows");
        Set<String> missing = new LinkedHashSet<>(result.written());
        missing.removeAll(dumped);
        long writtenWhileDraining = Long.parseLong(postgres.single(restoreDb, "SELECT count(*) FROM selfservice_login_flows "
                + "WHERE created_at >= '" + scaledDown + "'"));
        System.out.printf("recreate with 15 s drain: %d flows written, %d written after scale-down (while draining), "
                        + "backup started %ds after scale-down, %d written flows missing from the dump%n",
                result.written().size(), writtenWhileDraining, Duration.between(scaledDown, backupStarted).toSeconds(), missing.size());

        assertThat(missing).as("flows Kratos answered as written but the dump lacks").isEmpty();
        assertThat(writtenWhileDraining).as("the writer kept writing while the pods drained (the window that matters)").isPositive();
        assertThat(Duration.between(scaledDown, backupStarted)).as("the backup waited for the drain").isGreaterThanOrEqualTo(Duration.ofSeconds(14));
        Job migrate = client.batch().v1().jobs().inNamespace(namespace).withName("recreate-1-migrate").get();
        assertThat(migrate.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .startsWith("migrate", "sql", "-e", "--yes");
        assertThat(postgres.newestMigration(restoreDb)).as("dumped before the migration").isEqualTo(NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(NEWEST_MIGRATION.get("v1.3.1"));
        assertThat(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getReplicas())
                .isEqualTo(2);
        assertEveryPodAnswers("v1.3.1");
        assertIdentitiesIntact(emails);
    }
}
