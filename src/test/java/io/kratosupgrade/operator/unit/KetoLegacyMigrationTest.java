package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.product.DataMigration;
import io.kratosupgrade.operator.product.Products;
import io.kratosupgrade.operator.testsupport.KetoOutputs;
import org.junit.jupiter.api.Test;

/**
 * Keto v0.6 -> v0.7 with Ory's legacy namespace migration as a BlueGreen run: after the target's {@code migrate up},
 * {@code keto namespace migrate legacy --yes} on the target database, re-run after a failure, stopped by broken tuples.
 * The outputs are the ones Keto prints ({@link KetoOutputs}).
 */
class KetoLegacyMigrationTest {

    static final String OLD = "oryd/keto:v0.6.0-alpha.3";
    static final String TARGET = "v0.7.0-alpha.1";
    private final UpgradeScenario s = keto(new UpgradeScenario());

    static UpgradeScenario keto(UpgradeScenario s) {
        s.ku.getSpec().setProduct(OryProduct.Keto);
        s.ku.getSpec().setVersion(TARGET);
        s.world.setImage(OLD);
        s.world.rolloutComplete();
        return s;
    }

    @Test
    void afterTheTargetsMigrationTheLegacyNamespacesAreMovedOnTheTargetThenTheNewSideStarts() {
        s.blueGreen();
        assertThat(s.world.deploymentPods).isNotEmpty();
        toMigratingData();
        assertThat(s.status().getPlan().getSteps()).anySatisfy(step -> assertThat(step)
                .contains("keto namespace migrate legacy --yes", "on the target database", "up to 3 times"));

        s.decide();
        Container c = createdJobContainer("kratos-upgrade-1-migrate-data");
        assertThat(c.getImage()).isEqualTo("oryd/keto:" + TARGET);
        assertThat(c.getArgs()).containsSubsequence("namespace", "migrate", "legacy", "--yes");
        assertThat(c.getTerminationMessagePolicy()).as("the end of its log is read for broken tuples").isEqualTo("FallbackToLogsOnError");
        assertThat(c.getEnv()).filteredOn(e -> e.getName().equals("DSN")).singleElement()
                .satisfies(e -> assertThat(e.getValueFrom().getSecretKeyRef().getName()).as("the target database").isEqualTo("kratos-green-db"));

        complete("kratos-upgrade-1-migrate-data");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.StartingNewSide);
        assertThat(s.status().getDataMigration().getAttempts()).isEqualTo(1);
        assertThat(s.status().getDataMigration().getFinishedAt()).isNotNull();
    }

    @Test
    void aFailedAttemptIsStartedAgainInAJobOfItsOwnWrittenToStatusFirst() {
        s.blueGreen();
        toMigratingData();
        s.decide();
        fail("kratos-upgrade-1-migrate-data", KetoOutputs.CONNECTION_LOST);

        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.MigratingData);
        assertThat(s.status().getDataMigration().getAttempts()).isEqualTo(2);
        assertThat(s.status().getDataMigration().getJobName()).isEqualTo("kratos-upgrade-1-migrate-data-2");
        assertThat(s.last.events()).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo("DataMigrationAttemptFailed");
            assertThat(e.message()).contains("attempt 1 of 3", "bad connection", "starting it again");
        });
        assertThat(s.status().getMessage()).contains("attempt 2 of 3");
        assertThat(s.actions(Action.CreateJob.class)).singleElement()
                .satisfies(a -> assertThat(a.job().getMetadata().getName()).isEqualTo("kratos-upgrade-1-migrate-data-2"));

        complete("kratos-upgrade-1-migrate-data-2");
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.StartingNewSide);
    }

    @Test
    void brokenTuplesEndTheRunAtOnceListedInStatusAndTheOldSideServesAgain() {
        s.blueGreen();
        toMigratingData();
        s.decide();
        fail("kratos-upgrade-1-migrate-data", KetoOutputs.BROKEN_TUPLES);

        s.decide();
        assertThat(s.phase()).as("no second attempt: it would copy the good tuples twice").isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("BrokenRecords");
        assertThat(s.status().getDataMigration().getBrokenRecords()).containsExactly("file-2#edit@readme#owner", "g-1#member@a:b:c#x");
        assertThat(s.status().getDataMigration().getBrokenRecordsTruncated()).isNull();
        assertThat(s.status().getFailureMessage()).contains("could not move 2 records", "old database");
    }

    @Test
    void aFailureSeenBeforeItsPodsEndIsWaitedForSoBrokenTuplesAreNotRunAgain() {
        s.blueGreen();
        toMigratingData();
        s.decide();
        String job = "kratos-upgrade-1-migrate-data";
        // The Job informer is ahead of the pod informer: the pod still looks running, its log's end not there yet.
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.kratosPod(job + "-q9w8e", "oryd/keto:" + TARGET, true));
        s.decide();
        assertThat(s.status().getDataMigration().getAttempts()).as("no second attempt yet").isEqualTo(1);
        assertThat(s.actions(Action.CreateJob.class)).isEmpty();

        fail(job, KetoOutputs.BROKEN_TUPLES);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("BrokenRecords");
    }

    @Test
    void afterTheLastAttemptTheRunSwitchesBack() {
        s.ku.getSpec().getMigration().setDataMigrationAttempts(2);
        s.blueGreen();
        toMigratingData();
        s.decide();
        fail("kratos-upgrade-1-migrate-data", KetoOutputs.CONNECTION_LOST);
        s.decide();
        s.decide();
        fail("kratos-upgrade-1-migrate-data-2", KetoOutputs.CONNECTION_LOST);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.SwitchingBack);
        assertThat(s.status().getFailureReason()).isEqualTo("DataMigrationFailed");
        assertThat(s.status().getFailureMessage()).contains("attempt 2 of 2", "bad connection");
    }

    @Test
    void preflightRefusesAnInPlaceStrategyAndATargetWithoutTheCommandBeforeTouchingAnything() {
        UpgradeScenario rolling = keto(new UpgradeScenario());
        rolling.ku.getSpec().setStrategy(Strategy.Rolling);
        rolling.toPreflight();
        rolling.decideInPreflight();
        assertThat(rolling.phase()).isEqualTo(Phase.Failed);
        assertThat(rolling.status().getFailureReason()).isEqualTo("DataMigrationNeedsBlueGreen");
        assertThat(rolling.status().getFailureMessage()).contains("v0.6.0-alpha.3 -> v0.7.0-alpha.1", "spec.strategy BlueGreen");

        UpgradeScenario tooNew = keto(new UpgradeScenario()).blueGreen();
        tooNew.ku.getSpec().setVersion("v0.10.0-alpha.0");
        tooNew.toPreflight();
        tooNew.decideInPreflight();
        assertThat(tooNew.phase()).isEqualTo(Phase.Failed);
        assertThat(tooNew.status().getFailureReason()).isEqualTo("DataMigrationUnavailable");
        assertThat(tooNew.status().getFailureMessage()).contains("upgrade to v0.8.0-alpha.2 first");
    }

    @Test
    void tuplesTheMigrationCannotMoveAreFoundInPreflightAndNothingIsFrozen() {
        s.blueGreen();
        s.toPreflight();
        s.decide();
        var inspection = s.actions(Action.CreateJob.class).stream().map(Action.CreateJob::job)
                .filter(j -> j.getMetadata().getName().endsWith("-inspect")).findFirst().orElseThrow();
        assertThat(inspection.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
                .anySatisfy(e -> assertThat(e.getName()).isEqualTo("DATA_MIGRATION_CHECK"));
        String job = s.status().getInspection().getJobName();
        s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "inspect", 0, "Completed", "{\"schemaMigration\":false,"
                + "\"networks\":null,\"dataMigration\":{\"count\":2,\"examples\":[\"file-2#edit@readme#owner\",\"g-1#member@a:b:c#x\"]}}"));
        s.decide();

        assertThat(s.phase()).isEqualTo(Phase.Failed);
        assertThat(s.status().getFailureReason()).isEqualTo("BrokenRecords");
        assertThat(s.status().getFailureMessage()).contains("2 records", "file-2#edit@readme#owner", "Nothing was changed");
        assertThat(s.status().getInspection().getUnmovableRecords()).isEqualTo(2);
        assertThat(s.status().getBlueGreen() == null || s.status().getBlueGreen().getFreeze() == null).as("nothing frozen").isTrue();
    }

    @Test
    void onlyAPathFromTheOldSchemaToTheSingleTableNeedsIt() {
        var keto = Products.of(OryProduct.Keto);
        assertThat(keto.dataMigration(v("v0.6.0-alpha.3"), v("v0.7.0-alpha.0"))).isPresent();
        assertThat(keto.dataMigration(v("v0.6.0-alpha.1"), v("v0.8.0-alpha.2"))).isPresent();
        assertThat(keto.dataMigration(v("v0.7.0-alpha.1"), v("v0.8.0-alpha.2"))).isEmpty();
        assertThat(keto.dataMigration(v("v0.6.0-alpha.1"), v("v0.6.0-alpha.3"))).isEmpty();
        assertThat(Products.of(OryProduct.Kratos).dataMigration(v("v0.6.0-alpha.1"), v("v1.3.1"))).isEmpty();
    }

    @Test
    void brokenTuplesAreReadFromTheEndOfTheLogEvenWhenItsStartWasCut() {
        DataMigration legacy = Products.of(OryProduct.Keto).dataMigration(v("v0.6.0-alpha.3"), v(TARGET)).orElseThrow();
        assertThat(legacy.brokenRecords(KetoOutputs.CONNECTION_LOST)).isEmpty();
        assertThat(legacy.brokenRecords(null)).isEmpty();
        assertThat(legacy.brokenRecords(KetoOutputs.BROKEN_TUPLES).orElseThrow().complete()).isTrue();
        // A termination message keeps the last 2048 bytes: the error line may be cut, the hint after it is not.
        String cut = KetoOutputs.BROKEN_TUPLES.substring(KetoOutputs.BROKEN_TUPLES.indexOf("Aborting."));
        assertThat(legacy.brokenRecords(cut)).hasValueSatisfying(b -> {
            assertThat(b.examples()).isEmpty();
            assertThat(b.complete()).isFalse();
        });
    }

    private void toMigratingData() {
        s.blueGreenToMigrating();
        s.decide();
        String job = s.status().getMigration().getJobName();
        assertThat(createdJobContainer(job).getArgs()).as("the schema first").containsSubsequence("migrate", "up", "--yes");
        complete(job);
        s.decide();
        assertThat(s.phase()).isEqualTo(Phase.MigratingData);
    }

    private Container createdJobContainer(String name) {
        return s.actions(Action.CreateJob.class).stream().map(Action.CreateJob::job).filter(j -> j.getMetadata().getName().equals(name))
                .findFirst().orElseThrow().getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    private void complete(String job) {
        s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "migrate-data", 0, "Completed", null));
    }

    private void fail(String job, String log) {
        s.world.putJob(Fixtures.failedJob(job, "BackoffLimitExceeded"), Fixtures.terminatedPod(job, "migrate-data", KetoOutputs.EXIT_CODE, "Error", log));
    }

    private static KratosVersion v(String text) {
        return KratosVersion.parse(text);
    }

}
