package io.kratosupgrade.operator.unit;

import static io.kratosupgrade.operator.testsupport.FleetFixtures.NAMESPACE;
import static io.kratosupgrade.operator.testsupport.FleetFixtures.bare;
import static io.kratosupgrade.operator.testsupport.FleetFixtures.fleet;
import static io.kratosupgrade.operator.testsupport.FleetFixtures.fleetMade;
import static io.kratosupgrade.operator.testsupport.FleetFixtures.handMade;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.javaoperatorsdk.operator.api.config.BaseConfigurationService;
import io.kratosupgrade.operator.api.v1alpha1.FleetCanary;
import io.kratosupgrade.operator.api.v1alpha1.FleetPhase;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.fleet.FleetAction;
import io.kratosupgrade.operator.fleet.FleetDecision;
import io.kratosupgrade.operator.fleet.FleetInstance;
import io.kratosupgrade.operator.fleet.FleetMachine;
import io.kratosupgrade.operator.fleet.FleetObservation;
import io.kratosupgrade.operator.fleet.FleetObserver;
import io.kratosupgrade.operator.fleet.WavePlanner;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.reconciler.KratosUpgradeReconciler;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FleetMachineTest {

    private final FleetMachine machine = new FleetMachine();
    private Instant now = Instant.parse("2026-11-29T10:00:00Z");
    private final KratosFleetUpgrade fleet = fleet("v1.3.1");
    /** The instances as the observer would see them, by key, in the fleet's stable order. */
    private final Map<String, FleetInstance> world = new LinkedHashMap<>();

    private void tenants(int count) {
        for (int i = 1; i <= count; i++) add(bare("tenant-" + i, "kratos"));
    }

    private void add(FleetInstance instance) {
        world.put(instance.key(), instance);
    }

    /** One reconcile: decide, store the status (as the status write would), carry out the actions on the world. */
    private FleetDecision reconcile() {
        List<FleetInstance> ordered = world.values().stream().sorted(java.util.Comparator.comparing(FleetInstance::key)).toList();
        FleetDecision decision = machine.decide(fleet, new FleetObservation(ordered, null), now);
        fleet.setStatus(decision.status());
        for (FleetAction action : decision.actions()) {
            if (action instanceof FleetAction.CreateUpgrade a) {
                KratosUpgrade ku = a.upgrade();
                ku.getMetadata().setGeneration(1L);
                world.put(key(ku), new FleetInstance(ku.getMetadata().getNamespace(), ku.getSpec().getDeploymentName(), ku, true));
            } else if (action instanceof FleetAction.RetargetUpgrade a) {
                KratosUpgrade ku = a.upgrade();
                ku.getMetadata().setGeneration(2L);
                world.put(key(ku), new FleetInstance(ku.getMetadata().getNamespace(), ku.getSpec().getDeploymentName(), ku, true));
            } else if (action instanceof FleetAction.RetryUpgrade a) {
                KratosUpgrade ku = world.get(a.namespace() + "/kratos").upgrade();
                ku.getMetadata().setAnnotations(new LinkedHashMap<>(ku.getMetadata().getAnnotations()));
                ku.getMetadata().getAnnotations().put(KratosUpgrade.RETRY_ANNOTATION, a.token());
            }
        }
        return decision;
    }

    private static String key(KratosUpgrade ku) {
        return ku.getMetadata().getNamespace() + "/" + ku.getSpec().getDeploymentName();
    }

    /** The engine finished the current run of these instances' KratosUpgrades in {@code phase}. */
    private void finish(Phase phase, String... keys) {
        for (String key : keys) {
            KratosUpgrade ku = world.get(key).upgrade();
            io.kratosupgrade.operator.testsupport.FleetFixtures.inPhase(ku, phase);
            String retry = ku.getMetadata().getAnnotations().get(KratosUpgrade.RETRY_ANNOTATION);
            ku.getStatus().setRetryToken(retry);
        }
    }

    private static List<String> created(FleetDecision decision) {
        return decision.actions().stream().filter(a -> a instanceof FleetAction.CreateUpgrade)
                .map(a -> key(((FleetAction.CreateUpgrade) a).upgrade())).toList();
    }

    private static List<String> reasons(FleetDecision decision) {
        return decision.events().stream().map(Decision.Event::reason).toList();
    }

    private String condition(String type) {
        return fleet.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst()
                .map(Condition::getStatus).orElse(null);
    }

    @Test
    void theCanaryGoesFirstAloneThenWavesOfMaxConcurrent() {
        tenants(5);
        fleet.getSpec().getRollout().setCanary(canaryCount(1));
        fleet.getSpec().getRollout().setMaxConcurrent(new IntOrString(2));

        FleetDecision first = reconcile();
        assertThat(created(first)).containsExactly("tenant-1/kratos");
        assertThat(fleet.getStatus().getWaves()).singleElement().satisfies(w -> assertThat(w.isCanary()).isTrue());
        assertThat(reasons(first)).containsExactly("FleetRunStarted", "WaveStarted");
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Progressing);

        assertThat(reconcile().actions()).as("nothing new while the canary runs").isEmpty();
        assertThat(fleet.getStatus().getInProgress()).isEqualTo(1);
        assertThat(fleet.getStatus().getPending()).isEqualTo(4);

        finish(Phase.Succeeded, "tenant-1/kratos");
        now = now.plusSeconds(90);
        FleetDecision second = reconcile();
        assertThat(created(second)).containsExactly("tenant-2/kratos", "tenant-3/kratos");
        assertThat(reasons(second)).containsExactly("WaveFinished", "WaveStarted");
        assertThat(fleet.getStatus().getWaves().get(0).getDurationSeconds()).isEqualTo(90);
        assertThat(fleet.getStatus().getCurrentWave()).isEqualTo(2);

        finish(Phase.Succeeded, "tenant-2/kratos", "tenant-3/kratos");
        assertThat(created(reconcile())).containsExactly("tenant-4/kratos", "tenant-5/kratos");
        finish(Phase.Succeeded, "tenant-4/kratos", "tenant-5/kratos");
        FleetDecision last = reconcile();
        assertThat(last.actions()).isEmpty();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Succeeded);
        assertThat(fleet.getStatus().getProgress()).isEqualTo("5/5");
        assertThat(reasons(last)).contains("FleetSucceeded");
        assertThat(condition("Ready")).isEqualTo("True");
        assertThat(reasons(reconcile())).as("said once").isEmpty();
    }

    @Test
    void aPercentageIsOfTheSelectedInstancesRoundedUp() {
        assertThat(WavePlanner.waveSize(new IntOrString("10%"), 1000)).isEqualTo(100);
        assertThat(WavePlanner.waveSize(new IntOrString("10%"), 5)).isEqualTo(1);
        assertThat(WavePlanner.waveSize(new IntOrString("50%"), 5)).isEqualTo(3);
        assertThat(WavePlanner.waveSize(new IntOrString(3), 2)).isEqualTo(3);
        tenants(5);
        fleet.getSpec().getRollout().setMaxConcurrent(new IntOrString("50%"));
        assertThat(created(reconcile())).hasSize(3);
    }

    @Test
    void aNamedCanaryMayBeAnywhereInTheOrderAndUnknownNamesAreSaid() {
        tenants(3);
        FleetCanary canary = new FleetCanary();
        canary.setInstances(List.of("tenant-3/kratos", "nowhere/kratos"));
        fleet.getSpec().getRollout().setCanary(canary);
        FleetDecision first = reconcile();
        assertThat(created(first)).containsExactly("tenant-3/kratos");
        assertThat(first.events().get(1).message()).contains("canary names that select no instance waiting to start: nowhere/kratos");
    }

    @Test
    void aFailureBeyondTheBudgetHaltsRunningOnesFinishAndARetryResumesWithoutRepeatingSuccesses() {
        tenants(4);
        fleet.getSpec().getRollout().setMaxConcurrent(new IntOrString(2));
        reconcile();
        finish(Phase.Failed, "tenant-1/kratos");
        FleetDecision halted = reconcile();
        assertThat(halted.actions()).as("no new instance starts").isEmpty();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Halted);
        assertThat(fleet.getStatus().getInProgress()).as("tenant-2 finishes its run").isEqualTo(1);
        assertThat(fleet.getStatus().getFailedInstances()).singleElement().satisfies(r -> {
            assertThat(r.getInstance()).isEqualTo("tenant-1/kratos");
            assertThat(r.getReason()).isEqualTo("MigrationFailed");
            assertThat(r.getMessage()).contains("password authentication failed");
        });
        assertThat(reasons(halted)).containsExactly("FleetHalted");
        assertThat(condition("Halted")).isEqualTo("True");
        assertThat(condition("Stalled")).isEqualTo("True");

        finish(Phase.Succeeded, "tenant-2/kratos");
        FleetDecision stillHalted = reconcile();
        assertThat(stillHalted.actions()).isEmpty();
        assertThat(reasons(stillHalted)).as("the halt is announced once").containsExactly("WaveFinished");

        fleet.getMetadata().getAnnotations().put(KratosUpgrade.RETRY_ANNOTATION, "password-fixed");
        FleetDecision resumed = reconcile();
        assertThat(resumed.actions()).singleElement().isInstanceOfSatisfying(FleetAction.RetryUpgrade.class,
                a -> assertThat(a.namespace()).isEqualTo("tenant-1"));
        assertThat(fleet.getStatus().getPhase()).isNotEqualTo(FleetPhase.Halted);
        assertThat(reasons(resumed)).contains("FleetResumed");
        assertThat(fleet.getStatus().getWaves()).last().satisfies(w -> assertThat(w.getInstances()).containsExactly("tenant-1/kratos"));
        assertThat(reconcile().actions()).as("the retried instance has not been taken up by the engine yet").isEmpty();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Progressing);

        finish(Phase.Succeeded, "tenant-1/kratos");
        FleetDecision next = reconcile();
        assertThat(created(next)).as("tenant-2 is not upgraded again").containsExactly("tenant-3/kratos", "tenant-4/kratos");
    }

    @Test
    void failuresWithinTheBudgetDoNotHaltAndTheFleetEndsCompletedWithFailures() {
        tenants(2);
        fleet.getSpec().getRollout().setMaxFailures(1);
        reconcile();
        finish(Phase.RolledBack, "tenant-1/kratos");
        assertThat(created(reconcile())).containsExactly("tenant-2/kratos");
        finish(Phase.Succeeded, "tenant-2/kratos");
        reconcile();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.CompletedWithFailures);
        assertThat(condition("Ready")).isEqualTo("False");
        assertThat(condition("Stalled")).isEqualTo("True");
    }

    @Test
    void aKratosUpgradeMadeByHandIsRespectedNotDuplicated() {
        add(handMade("tenant-1", "kratos", "v1.3.1", Phase.Migrating));
        add(handMade("tenant-2", "kratos", "v1.0.0", Phase.Succeeded));
        add(bare("tenant-3", "kratos"));
        fleet.getSpec().getRollout().setMaxConcurrent(new IntOrString(3));
        FleetDecision first = reconcile();
        assertThat(created(first)).as("one for the instance without a KratosUpgrade only").containsExactly("tenant-3/kratos");
        assertThat(fleet.getStatus().getSkippedInstances()).singleElement().satisfies(r -> {
            assertThat(r.getInstance()).isEqualTo("tenant-2/kratos");
            assertThat(r.getMessage()).contains("targets v1.0.0");
        });
        assertThat(fleet.getStatus().getInProgress()).isEqualTo(2);
        finish(Phase.Succeeded, "tenant-3/kratos");
        reconcile();
        assertThat(fleet.getStatus().getPhase()).as("the hand-made run still goes on").isEqualTo(FleetPhase.Progressing);
        io.kratosupgrade.operator.testsupport.FleetFixtures.inPhase(world.get("tenant-1/kratos").upgrade(), Phase.Succeeded);
        reconcile();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Succeeded);
        assertThat(fleet.getStatus().getSkipped()).isEqualTo(1);
        assertThat(fleet.getStatus().getProgress()).isEqualTo("2/3");
    }

    @Test
    void instancesAddedMidRunJoinALaterWaveAndRemovedOnesAreLeftAlone() {
        tenants(2);
        reconcile();
        add(bare("tenant-0", "kratos"));
        world.remove("tenant-1/kratos");
        FleetDecision afterRemoval = reconcile();
        assertThat(fleet.getStatus().getWaves().get(0).getFinishedAt()).as("a removed member does not hold its wave").isNotNull();
        assertThat(created(afterRemoval)).as("the next wave: the first waiting instance in the stable order")
                .containsExactly("tenant-0/kratos");
        assertThat(world.get("tenant-1/kratos")).isNull();
        assertThat(fleet.getStatus().getTotal()).isEqualTo(2);
    }

    @Test
    void aPauseBetweenWavesAndAnApprovalHoldTheNextWave() {
        tenants(3);
        fleet.getSpec().getRollout().setPauseBetweenWaves("10m");
        fleet.getSpec().getRollout().setApproveEachWave(true);
        reconcile();
        finish(Phase.Succeeded, "tenant-1/kratos");
        FleetDecision paused = reconcile();
        assertThat(paused.actions()).isEmpty();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Paused);
        assertThat(paused.requeueAfter()).isEqualTo(Duration.ofMinutes(10));
        now = now.plus(Duration.ofMinutes(10));
        FleetDecision awaiting = reconcile();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.AwaitingApproval);
        assertThat(fleet.getStatus().getNextWave()).isEqualTo(2);
        assertThat(reasons(awaiting)).containsExactly("WaveAwaitingApproval");
        assertThat(reasons(reconcile())).isEmpty();
        fleet.getMetadata().getAnnotations().put(KratosFleetUpgrade.APPROVE_WAVE_ANNOTATION, "2");
        assertThat(created(reconcile())).containsExactly("tenant-2/kratos");
    }

    @Test
    void aNewTemplateStartsANewRunThatRetargetsTheFleetsOwnUpgrades() {
        add(fleetMade(fleet, "tenant-1", "kratos", Phase.Succeeded));
        add(bare("tenant-2", "kratos"));
        fleet.getSpec().getRollout().setMaxConcurrent(new IntOrString(2));
        reconcile();
        assertThat(fleet.getStatus().getRun()).isEqualTo(1);
        assertThat(created(reconcile())).isEmpty();
        finish(Phase.Succeeded, "tenant-2/kratos");
        reconcile();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Succeeded);

        fleet.getSpec().getTemplate().getSpec().setVersion("v1.4.0");
        FleetDecision second = reconcile();
        assertThat(fleet.getStatus().getRun()).isEqualTo(2);
        assertThat(second.actions()).hasSize(2).allSatisfy(a -> assertThat(a).isInstanceOf(FleetAction.RetargetUpgrade.class));
        assertThat(fleet.getStatus().getInProgress()).isEqualTo(2);
    }

    @Test
    void aWaveWhoseUpgradesWereNeverCreatedCreatesThemAgain() {
        tenants(1);
        FleetDecision first = reconcile();
        world.put("tenant-1/kratos", bare("tenant-1", "kratos")); // the operator stopped before the create
        assertThat(created(reconcile())).containsExactly("tenant-1/kratos");
        assertThat(fleet.getStatus().getWaves()).hasSize(1);
        assertThat(first.actions()).hasSize(1);
    }

    @Test
    void anUpgradeDeletedAfterItsWaveFinishedIsNotRunAgain() {
        tenants(2);
        fleet.getSpec().getRollout().setCanary(canaryCount(1));
        reconcile();
        finish(Phase.Succeeded, "tenant-1/kratos");
        assertThat(created(reconcile())).containsExactly("tenant-2/kratos");
        world.put("tenant-1/kratos", bare("tenant-1", "kratos")); // someone cleans up the canary's KratosUpgrade
        assertThat(created(reconcile())).as("the canary had its run").isEmpty();
        assertThat(fleet.getStatus().getPhases()).containsEntry("Untracked", 1);
        finish(Phase.Succeeded, "tenant-2/kratos");
        assertThat(reconcile().actions()).isEmpty();
        assertThat(fleet.getStatus().getPhase()).isEqualTo(FleetPhase.Succeeded);
        assertThat(fleet.getStatus().getProgress()).isEqualTo("1/2");
        assertThat(fleet.getStatus().getMessage()).contains("1 untracked");
    }

    @Test
    void aNamespaceSelectorOutsideTheAdminNamespacesIsRefused() {
        fleet.getSpec().setNamespaceSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("tenant", "true")).build());
        FleetObservation refused = new FleetObserver(Set.of("kratos-upgrade-system")).observe(fleet, ns -> List.of(),
                ns -> List.of(), sel -> Set.of("tenant-1"));
        assertThat(refused.refusal().reason()).isEqualTo("NamespaceSelectorNotAllowed");
        FleetDecision decision = machine.decide(fleet, refused, now);
        assertThat(decision.status().getPhase()).isEqualTo(FleetPhase.Invalid);
        assertThat(decision.actions()).isEmpty();
        assertThat(new FleetObserver(Set.of(NAMESPACE)).observe(fleet, ns -> List.of(), ns -> List.of(),
                sel -> Set.of("tenant-1")).refusal()).isNull();
    }

    /** The fleet sets the finalizer the KratosUpgrade reconciler would add itself; another name would be a second one. */
    @Test
    void aFleetMadeUpgradeCarriesJosdksDefaultFinalizer() {
        KratosUpgrade ku = fleetMade(fleet, "tenant-1", "kratos", null).upgrade();
        assertThat(ku.getMetadata().getFinalizers())
                .containsExactly(new BaseConfigurationService()
                        .getConfigurationFor(new KratosUpgradeReconciler(null, null, null, null, null, null, null, null))
                        .getFinalizerName());
    }

    private static FleetCanary canaryCount(int count) {
        FleetCanary canary = new FleetCanary();
        canary.setCount(count);
        return canary;
    }
}
