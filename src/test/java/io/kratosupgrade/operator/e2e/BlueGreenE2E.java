package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenCopy;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.CopyRehearsalStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.ReplicationSpec;
import io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kube.PodImages;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * strategy BlueGreen on a real cluster: Kratos v1.0.0 on its database, an empty second database on the same
 * PostgreSQL server as the target, the new side (v1.3.1 on the migrated copy) started beside the old one and the
 * Service moved to it; then finalized, switched back on request, or rolled back when the new side never gets ready.
 */
class BlueGreenE2E extends E2eTestBase {

    /** The new Deployment's default name: the old one's and the version, dots as dashes. */
    static final String NEW_SIDE = KratosInstallation.NAME + "-v1-3-1";
    static final String COLOUR = "kratos-upgrade.io/colour";
    /**
     * Slack around the freeze window when placing a client's failed write in it. frozenAt is taken by the freeze Job
     * when psql returns (after the revoke committed) and freezeEndedAt by the operator when it sees the Services
     * moved; between those events and what a client sees lie the HTTP round trip and kube-proxy reprogramming the
     * Service's rules after the selector change (a new connection may still reach an old pod for a moment). All
     * clocks are the single node's, so no clock skew is involved.
     */
    static final Duration TOLERANCE = Duration.ofSeconds(2);

    @Test
    void switchesUnderMixedLoadRefusingWritesOnlyDuringTheFreezeAndLosingNone() throws Exception {
        Switched run = switchUnderMixedLoad("blue-green", BlueGreenE2E::blueGreen, () -> { });
        KratosUpgrade ku = run.upgrade();
        BlueGreenStatus bg = ku.getStatus().getBlueGreen();
        String identityId = run.identityId();
        Set<String> oldPods = run.oldPods();
        Set<String> newPods = run.newPods();
        Map<String, String> originalSelector = run.originalSelector();
        assertThat(ku.getStatus().getBackup().getVerification().getJobName()).as("copy Dump: the copy verified the dump").endsWith("-copy");

        // Still KeepingOld: the old side is up, untouched, serving reads and refusing writes.
        Deployment old = client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get();
        assertThat(old.getSpec().getReplicas()).isEqualTo(2);
        assertThat(names(kratos.servingPods().stream().filter(p -> !p.getMetadata().getLabels().containsKey(COLOUR)).toList()))
                .as("the old pods are still the ones from before the run, all ready").isEqualTo(oldPods);
        Pod oldPod = kratos.servingPods().stream().filter(p -> oldPods.contains(p.getMetadata().getName())).findFirst().orElseThrow();
        assertThat(kratos.get(oldPod, 4434, "/admin/identities/" + identityId).statusCode()).as("a read on the old side").isEqualTo(200);
        assertThat(kratos.get(oldPod, 4433, "/self-service/login/api").statusCode()).as("a write on the old side (frozen)").isNotEqualTo(200);

        // Finalize now rather than after keepOldFor.
        annotate("blue-green", KratosUpgrade.FINALIZE_ANNOTATION, String.valueOf(ku.getStatus().getRun()));
        ku = awaitOutcome("blue-green", Phase.Succeeded);
        assertThat(client.apps().deployments().inNamespace(namespace).withName(KratosInstallation.NAME).get().getSpec().getReplicas())
                .isZero();
        assertThat(kratos.serviceSelector()).as("the Service's own selector, which only the new pods match now").isEqualTo(originalSelector);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(kratos.podNames("pod-template-hash", bg.getOldPodTemplateHash())).as("old pods").isEmpty();
            assertThat(kratos.serviceEndpointPods()).isEqualTo(newPods);
        });
        for (Pod pod : kratos.servingPods()) {
            assertThat(kratos.get(pod, 4434, "/admin/version").body()).contains("\"version\":\"v1.3.1\"");
        }
    }

    @Test
    void replicationKeepsTheTargetInSyncSoTheFreezeCoversOnlyTheCutOverAndLeavesNoReplicationBehind() throws Exception {
        Switched run = switchUnderMixedLoad("replicated", BlueGreenE2E::replicated, () -> kratos.createReplicationUsers());
        BlueGreenStatus bg = run.upgrade().getStatus().getBlueGreen();
        System.out.printf("blue/green copy Replication: initial copy %s s while the old side served, catch-up after the freeze %d ms, "
                + "freeze %s s in all (subscription %s)%n", bg.getInitialSyncSeconds(), bg.getCatchUpMillis(), bg.getFreezeSeconds(),
                bg.getSubscription());
        assertThat(bg.getInitialSyncSeconds()).isNotNull();
        assertThat(bg.getCatchUpMillis()).isNotNull();
        assertThat(Instant.parse(bg.getFrozenAt())).as("frozen after the replica was in sync")
                .isAfter(Instant.parse(bg.getReplication().getFinishedAt()).minusSeconds(1));
        assertThat(bg.getReplicationDropped()).isTrue();
        // Nothing of replication is left: a slot left behind would keep the server's WAL for ever.
        assertThat(postgres.single("postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + bg.getSubscription() + "'"))
                .isEqualTo("0");
        assertThat(postgres.single(kratos.database, "SELECT count(*) FROM pg_publication")).isEqualTo("0");
        assertThat(postgres.single(run.target(), "SELECT count(*) FROM pg_subscription WHERE subname = '" + bg.getSubscription() + "'"))
                .isEqualTo("0");
        // What replication does not carry came with the cut-over: the target's schema_migration holds every row of the old
        // one (and the new release's).
        assertThat(postgres.column(run.target(), "SELECT version FROM schema_migration"))
                .containsAll(postgres.column(kratos.database, "SELECT version FROM schema_migration"));
    }

    /**
     * copy Dump with approval: the plan that waits names how long preflight's rehearsal took to dump the live old database
     * and to restore it into the target, and the target is still empty (the rehearsal's restore was rolled back) while the
     * old side still takes writes; the approved run then copies for real, and the measured freeze is set beside the
     * rehearsed copy.
     */
    @Test
    void thePlanOfADumpRunSaysHowLongTheRehearsedCopyTookAndLeavesTheTargetEmptyUntilTheFreeze() throws Exception {
        kratos.install("v1.0.0");
        String target = kratos.createTargetDatabase();
        kratos.seedIdentities(20);
        upgrade("planned-freeze", "v1.3.1", spec -> {
            blueGreen(spec);
            spec.getApproval().setRequired(true);
        });

        KratosUpgrade waiting = awaitPhaseOrFail("planned-freeze", Phase.AwaitingApproval, UPGRADE_TIMEOUT);
        CopyRehearsalStatus rehearsal = waiting.getStatus().getBlueGreen().getCopyRehearsal();
        String outage = waiting.getStatus().getPlan().getOutage();
        System.out.printf("blue/green copy Dump, rehearsed in preflight: dump %s s (%d bytes), restore %s s, counts %s; plan outage: %s%n",
                rehearsal.getDumpSeconds(), rehearsal.getDumpBytes(), rehearsal.getRestoreSeconds(), rehearsal.getRestoredCounts(), outage);
        assertThat(rehearsal.getDumpSeconds()).isPositive();
        assertThat(rehearsal.getRestoreSeconds()).isPositive();
        assertThat(rehearsal.getDumpBytes()).isPositive();
        assertThat(rehearsal.getRestoredCounts()).containsEntry("identities",
                Long.parseLong(postgres.single(kratos.database, "SELECT count(*) FROM identities")));
        assertThat(outage).contains(String.format(java.util.Locale.ROOT, "the dump took %.1f s", rehearsal.getDumpSeconds()),
                String.format(java.util.Locale.ROOT, "the restore %.1f s", rehearsal.getRestoreSeconds()));
        assertThat(postgres.schemaRelations(target)).as("relations in the target database after preflight").isZero();
        assertThat(waiting.getStatus().getBlueGreen().getFrozenAt()).isNull();
        Pod oldPod = kratos.servingPods().get(0);
        assertThat(kratos.get(oldPod, 4433, "/self-service/login/api").statusCode()).as("a write on the old side before the freeze")
                .isEqualTo(200);

        String hash = waiting.getStatus().getPlan().getHash();
        annotate("planned-freeze", KratosUpgrade.APPROVE_ANNOTATION, hash);
        KratosUpgrade kept = awaitPhaseOrFail("planned-freeze", Phase.KeepingOld, UPGRADE_TIMEOUT);
        BlueGreenStatus bg = kept.getStatus().getBlueGreen();
        System.out.printf("blue/green copy Dump: rehearsed dump %s s + restore %s s; during the freeze the dump took %s s and the copy "
                        + "%s s; freeze %s s in all%n", rehearsal.getDumpSeconds(), rehearsal.getRestoreSeconds(),
                kept.getStatus().getBackup().getDumpSeconds(), kept.getStatus().getBackup().getVerification().getRestoreSeconds(),
                bg.getFreezeSeconds());
        assertThat(kept.getStatus().getPlan().getHash()).as("the plan approved is the plan run").isEqualTo(hash);
        assertThat(bg.getCopyRehearsal().getFinishedAt()).as("measured once").isEqualTo(rehearsal.getFinishedAt());
        assertThat(bg.getFreezeSeconds()).as("the freeze covers the copy rehearsed")
                .isGreaterThan(kept.getStatus().getBackup().getVerification().getRestoreSeconds());
    }

    /** Work a test does once Kratos is installed and before the upgrade starts. */
    @FunctionalInterface
    interface BeforeUpgrade {
        void run() throws Exception;
    }

    /** A run in KeepingOld after {@link #switchUnderMixedLoad}, and what the test saw before it. */
    record Switched(KratosUpgrade upgrade, String target, String identityId, Set<String> oldPods, Set<String> newPods,
                    Map<String, String> originalSelector) {
    }

    /**
     * Kratos v1.0.0 with seeded identities and a target database, then the upgrade {@code name} to v1.3.1 under steady
     * mixed load until KeepingOld; asserts what every copy method promises: no read fails, writes fail only during the
     * measured freeze, every acknowledged write and seeded identity is in the target, the Service reaches the new pods
     * only after its selector named them.
     */
    private Switched switchUnderMixedLoad(String name, java.util.function.Consumer<KratosUpgradeSpec> spec, BeforeUpgrade beforeUpgrade)
            throws Exception {
        kratos.install("v1.0.0");
        String target = kratos.createTargetDatabase();
        List<String> emails = kratos.seedIdentities(5);
        String token = kratos.sessionToken(1);
        String identityId = postgres.single(kratos.database, "SELECT id FROM identities ORDER BY created_at LIMIT 1");
        Map<String, String> originalSelector = kratos.serviceSelector();
        Set<String> oldPods = names(kratos.servingPods());
        beforeUpgrade.run();
        MixedLoadGenerator load = startMixedLoad(token, identityId, 8);
        // The new pods carry the old pods' labels: until the switch only the pinning keeps them out of the Service.
        EarlyEndpointWatch early = new EarlyEndpointWatch(client, namespace, KratosInstallation.NAME, NEW_SIDE + "-", COLOUR);

        upgrade(name, "v1.3.1", spec);
        KratosUpgrade ku = awaitPhaseOrFail(name, Phase.KeepingOld, UPGRADE_TIMEOUT);
        BlueGreenStatus bg = ku.getStatus().getBlueGreen();
        Instant frozenAt = Instant.parse(bg.getFrozenAt());
        Instant freezeEndedAt = Instant.parse(bg.getFreezeEndedAt());
        // The new side takes writes: some acknowledged that started well after the switch.
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).until(() -> load.requests().stream()
                .filter(r -> r.write() && r.ok() && r.start().isAfter(freezeEndedAt.plus(TOLERANCE))).count() >= 10);

        // KeepingOld: the Service selects the new side's colour, its endpoints are the new pods.
        assertThat(bg.getNewDeployment()).isEqualTo(NEW_SIDE);
        Map<String, String> switched = new LinkedHashMap<>(originalSelector);
        switched.put(COLOUR, NEW_SIDE);
        assertThat(kratos.serviceSelector()).isEqualTo(switched);
        Set<String> newPods = names(kratos.servingPods().stream().filter(p -> NEW_SIDE.equals(p.getMetadata().getLabels().get(COLOUR))).toList());
        assertThat(newPods).hasSize(2);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(kratos.serviceEndpointPods()).isEqualTo(newPods));
        List<MixedLoadGenerator.Request> requests = load.stop();
        early.close();
        assertThat(early.early).as("new pods among the Service's endpoints before its selector named their colour").isEmpty();
        Instant selectorSwitched = early.labelledAt;
        assertThat(selectorSwitched).as("the Service's selector was seen switching").isNotNull();
        List<MixedLoadGenerator.Request> reads = requests.stream().filter(r -> !r.write()).toList();
        List<MixedLoadGenerator.Request> writes = requests.stream().filter(MixedLoadGenerator.Request::write).toList();
        List<MixedLoadGenerator.Request> failedReads = reads.stream().filter(r -> !r.ok()).toList();
        List<MixedLoadGenerator.Request> failedWrites = writes.stream().filter(r -> !r.ok()).toList();
        Instant windowFrom = frozenAt.minus(TOLERANCE);
        Instant windowTo = freezeEndedAt.plus(TOLERANCE);
        List<MixedLoadGenerator.Request> failedOutside = failedWrites.stream()
                .filter(r -> r.end().isBefore(windowFrom) || r.start().isAfter(windowTo)).toList();
        // Surely frozen: from the tolerance after frozenAt to a second before this test saw the Service switch (it sees it
        // after the operator's patch): no write may be acknowledged in there, by the old side (its writes are revoked) or
        // by the new side (the Service does not reach it yet).
        Instant surelyFrom = frozenAt.plus(TOLERANCE);
        Instant surelyTo = selectorSwitched.minusSeconds(1);
        List<MixedLoadGenerator.Request> ackedInFreeze = writes.stream()
                .filter(r -> r.ok() && r.start().isAfter(surelyFrom) && r.end().isBefore(surelyTo)).toList();
        long readsDuringFreeze = reads.stream().filter(r -> !r.start().isBefore(frozenAt) && !r.end().isAfter(freezeEndedAt)).count();
        long writesDuringFreeze = writes.stream().filter(r -> !r.start().isBefore(frozenAt) && !r.end().isAfter(freezeEndedAt)).count();
        List<MixedLoadGenerator.Request> ackedBeforeFreeze = writes.stream().filter(r -> r.ok() && r.end().isBefore(frozenAt)).toList();
        List<MixedLoadGenerator.Request> acked = writes.stream().filter(MixedLoadGenerator.Request::ok).toList();
        Duration clientsSawWritesFail = failedWrites.isEmpty() ? Duration.ZERO
                : Duration.between(failedWrites.get(0).start(), failedWrites.get(failedWrites.size() - 1).end());
        System.out.printf("blue/green (copy %s) v1.0.0 -> v1.3.1 under mixed load: freeze %s s (status.blueGreen.freezeSeconds; %s .. %s), clients "
                        + "saw writes fail for %.1f s; reads %d (%d during the freeze), %d failed; writes %d (%d during the freeze), "
                        + "%d failed (%d outside the freeze window +-%ds), %d acknowledged before the freeze, %d acknowledged in all%n",
                ku.getSpec().getBlueGreen().getCopy(), bg.getFreezeSeconds(), frozenAt, freezeEndedAt, clientsSawWritesFail.toMillis() / 1000.0, reads.size(), readsDuringFreeze,
                failedReads.size(), writes.size(), writesDuringFreeze, failedWrites.size(), failedOutside.size(), TOLERANCE.toSeconds(),
                ackedBeforeFreeze.size(), acked.size());

        assertThat(failedReads).as("reads must never fail, not even during the freeze").isEmpty();
        assertThat(readsDuringFreeze).as("reads were made during the freeze").isPositive();
        assertThat(ackedInFreeze).as("writes acknowledged during the freeze (" + surelyFrom + " .. " + surelyTo + ")").isEmpty();
        assertThat(failedOutside).as("writes failing outside the freeze window " + frozenAt + " .. " + freezeEndedAt).isEmpty();
        assertThat(ackedBeforeFreeze).as("writes acknowledged before the freeze").hasSizeGreaterThan(5);
        assertThat(bg.getFreezeSeconds()).isNotNull().isPositive()
                .isCloseTo(Duration.between(frozenAt, freezeEndedAt).toMillis() / 1000.0, org.assertj.core.data.Offset.offset(0.002));

        // Every identity seeded and every write acknowledged is in the target database: those before the freeze were
        // copied, those after the switch were made there. A write the old side acknowledged during the freeze would be
        // missing (it went to the old database after the dump).
        assertThat(postgres.column(target, "SELECT traits->>'email' FROM identities")).containsAll(emails);
        Set<String> inTarget = new TreeSet<>(postgres.column(target, "SELECT id::text FROM selfservice_login_flows"));
        Set<String> missing = acked.stream().map(MixedLoadGenerator.Request::id).filter(id -> !inTarget.contains(id))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        assertThat(missing).as("acknowledged writes missing from the target database").isEmpty();
        assertThat(postgres.newestMigration(target)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
        assertThat(postgres.newestMigration(kratos.database)).as("the old database is left as it was")
                .isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        return new Switched(ku, target, identityId, oldPods, newPods, originalSelector);
    }

    @Test
    void switchingBackWithinKeepOldForGivesTheOldSideItsTrafficAndWritesBackAndKeepsTheTarget() throws Exception {
        kratos.install("v1.0.0");
        String target = kratos.createTargetDatabase();
        List<String> emails = kratos.seedIdentities(3);
        Map<String, String> originalSelector = kratos.serviceSelector();
        Set<String> oldPods = names(kratos.servingPods());

        upgrade("switch-back", "v1.3.1", BlueGreenE2E::blueGreen);
        KratosUpgrade ku = awaitPhaseOrFail("switch-back", Phase.KeepingOld, UPGRADE_TIMEOUT);
        // A write served by the new side: it stays in the target database.
        Pod newPod = kratos.servingPods().stream().filter(p -> NEW_SIDE.equals(p.getMetadata().getLabels().get(COLOUR))).findFirst().orElseThrow();
        var onNewSide = kratos.get(newPod, 4433, "/self-service/login/api");
        assertThat(onNewSide.statusCode()).isEqualTo(200);
        String newSideFlow = flowId(onNewSide.body());

        annotate("switch-back", KratosUpgrade.SWITCH_BACK_ANNOTATION, String.valueOf(ku.getStatus().getRun()));
        ku = awaitOutcome("switch-back", Phase.RolledBack);
        BlueGreenStatus bg = ku.getStatus().getBlueGreen();
        System.out.printf("blue/green switch back: switched at %s, back at %s, freeze %s s; message: %s%n", bg.getSwitchedAt(),
                bg.getSwitchedBackAt(), bg.getFreezeSeconds(), ku.getStatus().getMessage());

        assertThat(ku.getStatus().getConditions()).as("conditions").anyMatch(c -> "SwitchedBack".equals(c.getReason()));
        assertThat(ku.getStatus().getFailureReason()).as("a switch back on request is no failure").isNull();
        assertThat(bg.getSwitchedBackAt()).isNotNull();
        assertThat(bg.getOldWritesRestored()).isTrue();
        assertThat(kratos.serviceSelector()).isEqualTo(originalSelector);
        assertThat(client.apps().deployments().inNamespace(namespace).withName(NEW_SIDE).get()).isNull();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(kratos.podNames(COLOUR, NEW_SIDE)).as("new pods").isEmpty();
            assertThat(kratos.serviceEndpointPods()).isEqualTo(oldPods);
        });
        // The old side writes again, to the old database.
        Pod oldPod = kratos.servingPods().get(0);
        var write = kratos.get(oldPod, 4433, "/self-service/login/api");
        assertThat(write.statusCode()).as("a write on the old side after the switch back").isEqualTo(200);
        assertThat(postgres.column(kratos.database, "SELECT id::text FROM selfservice_login_flows")).contains(flowId(write.body()))
                .doesNotContain(newSideFlow);
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        // The target served: it is kept, with what the new side wrote.
        assertThat(bg.getTargetEmptied()).isNotEqualTo(Boolean.TRUE);
        assertThat(postgres.column(target, "SELECT traits->>'email' FROM identities")).containsExactlyInAnyOrderElementsOf(emails);
        assertThat(postgres.column(target, "SELECT id::text FROM selfservice_login_flows")).contains(newSideFlow);
        assertThat(postgres.newestMigration(target)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.3.1"));
    }

    @Test
    void aNewSideThatNeverBecomesReadyIsRemovedTheOldSideWritesAgainAndTheTargetIsEmptied() throws Exception {
        kratos.install("v1.0.0");
        String target = kratos.createTargetDatabase();
        kratos.seedIdentities(2);
        Map<String, String> originalSelector = kratos.serviceSelector();
        Set<String> oldPods = names(kratos.servingPods());
        // As in FailureE2E: a settings Secret rotated to a broken value. The running (old) pods keep what they started
        // with; every new pod, the new side's included, refuses its configuration. `migrate` does not validate the
        // configuration, so the copy and the migration pass and only the new side fails to start.
        client.secrets().inNamespace(namespace).withName(KratosInstallation.SETTINGS_SECRET)
                .edit(s -> { s.setData(null); s.setStringData(Map.of("serve-admin-port", "not-a-port")); return s; });

        upgrade("never-ready", "v1.3.1", spec -> {
            blueGreen(spec);
            spec.getRollout().setTimeout("60s");
        });
        KratosUpgrade ku = awaitOutcome("never-ready", Phase.RolledBack);
        BlueGreenStatus bg = ku.getStatus().getBlueGreen();
        System.out.printf("blue/green new side never ready: %s: %s; writes frozen %s s%n", ku.getStatus().getFailureReason(),
                ku.getStatus().getFailureMessage(), bg.getFreezeSeconds());

        assertThat(ku.getStatus().getFailureReason()).isEqualTo("NewSideNotReady");
        assertThat(ku.getStatus().getMigration()).as("the migration ran (on the target)").isNotNull();
        assertThat(bg.getSwitchedAt()).as("traffic never moved").isNull();
        assertThat(bg.getOldWritesRestored()).isTrue();
        assertThat(bg.getTargetEmptied()).isTrue();
        assertThat(kratos.serviceSelector()).isEqualTo(originalSelector);
        assertThat(client.apps().deployments().inNamespace(namespace).withName(NEW_SIDE).get()).isNull();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(kratos.podNames(COLOUR, NEW_SIDE)).as("new pods").isEmpty();
            assertThat(kratos.serviceEndpointPods()).isEqualTo(oldPods);
        });
        assertThat(names(kratos.servingPods())).isEqualTo(oldPods);
        Pod oldPod = kratos.servingPods().get(0);
        var write = kratos.get(oldPod, 4433, "/self-service/login/api");
        assertThat(write.statusCode()).as("a write on the old side after the rollback").isEqualTo(200);
        assertThat(postgres.column(kratos.database, "SELECT id::text FROM selfservice_login_flows")).contains(flowId(write.body()));
        assertThat(postgres.newestMigration(kratos.database)).isEqualTo(UpgradeE2E.NEWEST_MIGRATION.get("v1.0.0"));
        assertThat(postgres.schemaRelations(target)).as("relations left in the target database").isZero();
    }

    /** BlueGreen with the namespace's target database; keepOldFor stays at its default (1h): the tests decide by annotation. */
    static void blueGreen(KratosUpgradeSpec spec) {
        spec.setStrategy(Strategy.BlueGreen);
        spec.getBackup().setPolicy(BackupPolicy.Required);
        BlueGreenSpec blueGreen = new BlueGreenSpec();
        blueGreen.setTargetDatabase(new SecretKeyReference(KratosInstallation.TARGET_SECRET, "dsn"));
        spec.setBlueGreen(blueGreen);
    }

    /**
     * BlueGreen with copy Replication: the publisher and subscriber users {@link KratosInstallation#createReplicationUsers}
     * makes (PostgreSQL 15 lets only a superuser create a subscription).
     */
    private static void replicated(KratosUpgradeSpec spec) {
        blueGreen(spec);
        spec.getBlueGreen().setCopy(BlueGreenCopy.Replication);
        ReplicationSpec replication = new ReplicationSpec();
        replication.setPublisherDatabase(new SecretKeyReference(KratosInstallation.PUBLISHER_SECRET, "dsn"));
        replication.setSubscriberDatabase(new SecretKeyReference(KratosInstallation.SUBSCRIBER_SECRET, "dsn"));
        spec.getBlueGreen().setReplication(replication);
    }

    private static Set<String> names(List<Pod> pods) {
        return pods.stream().filter(PodImages::isReady).map(p -> p.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String flowId(String body) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("id").asText();
    }
}
