package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import org.junit.jupiter.api.Test;

/**
 * The safety steps between the backup and the production migration fail for real reasons a platform team
 * meets, on real releases and a real PostgreSQL, and production is never touched when they do. (A passing
 * verification and rehearsal are asserted in UpgradeE2E, whose runs take both by default.)
 */
class SafetyStepsE2E extends E2eTestBase {

    /**
     * A DBA added, by hand, an index under the very name a later Kratos migration creates
     * (sessions_nid_created_at_id_idx, v1.1): the v1.3.1 migration would fail half-way in production. The
     * rehearsal meets it on the copy first.
     */
    @Test
    void aMigrationThatWouldFailInProductionFailsTheRehearsalAndNothingIsMigrated() throws Exception {
        kratos.install("v1.0.0");
        postgres.execute(kratos.database, "set role " + kratos.database,
                "create index sessions_nid_created_at_id_idx on sessions (nid)");
        long appliedBefore = postgres.count(kratos.database, "schema_migration");
        long generation = deploymentGeneration();

        upgrade("index-clash", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("index-clash", Phase.Failed);

        System.out.printf("rehearsal failed after %s s of migration (restore %s s); message: %s%n",
                ku.getStatus().getRehearsal().getMigrationSeconds(), ku.getStatus().getRehearsal().getRestoreSeconds(),
                ku.getStatus().getFailureMessage());
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RehearsalFailed");
        assertThat(ku.getStatus().getFailureMessage()).contains("failed on a restored copy", "sessions_nid_created_at_id_idx",
                "production was not touched");
        assertThat(ku.getStatus().getBackup().getVerification().getResult()).as("the dump itself is fine").isEqualTo("Verified");
        assertThat(client.batch().v1().jobs().inNamespace(namespace).withName("index-clash-1-migrate").get()).isNull();
        assertThat(postgres.count(kratos.database, "schema_migration")).isEqualTo(appliedBefore);
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(deploymentGeneration()).as("the Deployment was not changed").isEqualTo(generation);
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertEveryPodAnswers("v1.0.0");
    }

    /**
     * A check constraint that calls a function reading another table without naming its schema: valid in
     * production, where search_path finds the table, and pg_dump writes it out fine; but pg_restore runs with an
     * empty search_path and the copy of identity_verifiable_addresses cannot be loaded. The backup "succeeded";
     * only restoring it shows that it is not a way back.
     */
    @Test
    void aDumpThatDoesNotRestoreFailsVerificationAndNoMigrationJobIsEverCreated() throws Exception {
        kratos.install("v1.0.0");
        kratos.seedIdentities(2);
        postgres.execute(kratos.database, "set role " + kratos.database,
                "create table email_domains (domain text primary key)",
                "insert into email_domains select distinct split_part(value, '@', 2) from identity_verifiable_addresses",
                "create function allowed_domain(address text) returns boolean language sql stable as "
                        + "$$ select exists (select 1 from email_domains where domain = split_part(address, '@', 2)) $$",
                "alter table identity_verifiable_addresses add constraint allowed_domain check (allowed_domain(value))");
        long generation = deploymentGeneration();

        upgrade("unrestorable", "v1.3.1", spec -> { });
        KratosUpgrade ku = awaitOutcome("unrestorable", Phase.Failed);

        System.out.printf("verification failed: %s%n", ku.getStatus().getFailureMessage());
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("BackupUnverified");
        assertThat(ku.getStatus().getFailureMessage()).contains("did not restore", "email_domains", "does not exist");
        assertThat(ku.getStatus().getBackup().getFile()).as("the dump is kept").isNotBlank();
        // The rehearsal Job's first container was the verification: no migration ran, not even on the copy.
        assertThat(ku.getStatus().getRehearsal()).isNull();
        assertThat(client.batch().v1().jobs().inNamespace(namespace).withName("unrestorable-1-migrate").get()).isNull();
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(deploymentGeneration()).isEqualTo(generation);
        assertEveryPodAnswers("v1.0.0");
    }

    /**
     * rollback ImageAndDatabase under Recreate: v1.3.1 never becomes ready (its settings Secret holds a value no
     * Kratos accepts, "serve.admin.port must be >= 1"; migrate does not read it), so nothing could write to the new
     * schema and the dump goes back. The Secret is repaired once the restore has started, so that v1.0.0, which
     * starts afresh under Recreate, can come up.
     */
    @Test
    void recreateWithImageAndDatabaseRestoresTheDumpWhenTheNewReleaseNeverServed() throws Exception {
        kratos.install("v1.0.0");
        java.util.List<String> emails = kratos.seedIdentities(3);
        String identity = kratos.logIn(1);
        var settings = client.secrets().inNamespace(namespace).withName(KratosInstallation.SETTINGS_SECRET).get().getData();
        client.secrets().inNamespace(namespace).withName(KratosInstallation.SETTINGS_SECRET)
                .edit(sec -> { sec.setData(null); sec.setStringData(java.util.Map.of("serve-admin-port", "not-a-port")); return sec; });

        upgrade("restore-db", "v1.3.1", spec -> {
            spec.setStrategy(io.kratosupgrade.operator.api.v1alpha1.Strategy.Recreate);
            spec.getRollout().setTimeout("60s");
            spec.getRollback().setOnFailure(io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy.ImageAndDatabase);
        });
        awaitUpgrade("restore-db", ku -> ku.getStatus().getPhase() == Phase.RestoringDatabase || ku.getStatus().getPhase().isTerminal(),
                UPGRADE_TIMEOUT);
        client.secrets().inNamespace(namespace).withName(KratosInstallation.SETTINGS_SECRET)
                .edit(sec -> { sec.setStringData(null); sec.setData(settings); return sec; });
        KratosUpgrade ku = awaitOutcome("restore-db", Phase.RolledBack);

        var restore = ku.getStatus().getDatabaseRestore();
        System.out.printf("database restore: %s in %s s (Job %s), whole run %s%n", restore.getResult(), restore.getRestoreSeconds(),
                restore.getJobName(), ku.getStatus().getMessage());
        assertThat(ku.getStatus().getPlan().getRollback()).contains("Lossless while no pod of v1.3.1 has been ready");
        assertThat(restore.getResult()).isEqualTo("Restored");
        assertThat(restore.getRestoredCounts()).isEqualTo(ku.getStatus().getBackup().getCounts());
        assertThat(ku.getStatus().getFailureReason()).isEqualTo("RolloutTimeout");
        assertThat(ku.getStatus().getRollout().getNewReleaseReadyAt()).isNull();
        // The schema is v1.0.0's again: its newest migration, and no table that only v1.1+ creates.
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(postgres.single(kratos.database, "select count(*) from pg_tables where tablename = 'identity_login_codes'")).isEqualTo("0");
        assertThat(kratos.deploymentImage()).isEqualTo(env.kratosImage("v1.0.0"));
        assertThat(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getReplicas())
                .isEqualTo(2);
        assertEveryPodAnswers("v1.0.0");
        assertIdentitiesIntact(emails);
        assertThat(kratos.logIn(1)).as("the seeded identity logs in with its password, through the public API").isEqualTo(identity);
    }

    private long deploymentGeneration() {
        return client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getMetadata().getGeneration();
    }
}
