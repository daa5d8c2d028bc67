package io.kratosupgrade.operator.reconciler;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.kratosupgrade.operator.act.FleetActuator;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.fleet.FleetDecision;
import io.kratosupgrade.operator.fleet.FleetLabels;
import io.kratosupgrade.operator.fleet.FleetMachine;
import io.kratosupgrade.operator.fleet.FleetObservation;
import io.kratosupgrade.operator.fleet.FleetObserver;
import io.kratosupgrade.operator.fleet.NamespaceLookup;
import io.kratosupgrade.operator.observe.CachePruning;
import io.kratosupgrade.operator.status.ProgressThrottle;
import io.kratosupgrade.operator.status.StatusWriter;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Fleets, as thin as the KratosUpgrade reconciler: observe the selected Deployments and their KratosUpgrades (from
 * informer caches), let the {@link FleetMachine} decide, write status, then create, retarget or retry KratosUpgrades.
 * Any change of a Deployment or a KratosUpgrade in a fleet's scope wakes the fleet.
 */
@ControllerConfiguration(name = KratosFleetUpgradeReconciler.NAME,
        // Annotations (wave approvals, retries) must wake the reconciler too, not only spec changes.
        generationAwareEventProcessing = false,
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
@RBACRule(apiGroups = KratosUpgrade.GROUP, resources = "kratosupgrades", verbs = {"get", "list", "watch", "create", "patch", "update"})
@RBACRule(apiGroups = "apps", resources = "deployments", verbs = {"get", "list", "watch"})
@RBACRule(apiGroups = "", resources = "namespaces", verbs = {"list"})
@RBACRule(apiGroups = "", resources = "events", verbs = {"get", "list", "watch", "create", "patch"})
public class KratosFleetUpgradeReconciler implements Reconciler<KratosFleetUpgrade> {

    public static final String NAME = "kratosfleetupgrade";

    private final FleetMachine machine;
    private final FleetObserver observer;
    private final NamespaceLookup namespaces;
    private final FleetActuator actuator;
    private final EventRecorder events;
    private final StatusWriter statusWriter;
    private final ProgressThrottle progress;
    private final Clock clock;
    private InformerEventSource<Deployment, KratosFleetUpgrade> deployments;
    private InformerEventSource<KratosUpgrade, KratosFleetUpgrade> upgrades;

    public KratosFleetUpgradeReconciler(FleetMachine machine, FleetObserver observer, NamespaceLookup namespaces,
                                        FleetActuator actuator, EventRecorder events, StatusWriter statusWriter, ProgressThrottle progress,
                                        Clock clock) {
        this.machine = machine;
        this.observer = observer;
        this.namespaces = namespaces;
        this.actuator = actuator;
        this.events = events;
        this.statusWriter = statusWriter;
        this.progress = progress;
        this.clock = clock;
    }

    @Override
    public List<EventSource<?, KratosFleetUpgrade>> prepareEventSources(EventSourceContext<KratosFleetUpgrade> context) {
        IndexerResourceCache<KratosFleetUpgrade> fleets = context.getPrimaryCache();
        deployments = new InformerEventSource<>(InformerEventSourceConfiguration.from(Deployment.class, KratosFleetUpgrade.class)
                .withName("fleet-deployments")
                .withGenericFilter(CachePruning.fleetDeployments())
                .withOnUpdateFilter(CachePruning.viewChanged())
                .withSecondaryToPrimaryMapper(d -> fleetsReaching(fleets, d.getMetadata().getNamespace()))
                .build(), context);
        upgrades = new InformerEventSource<>(InformerEventSourceConfiguration.from(KratosUpgrade.class, KratosFleetUpgrade.class)
                .withName("fleet-upgrades")
                .withGenericFilter(new CachePruning.FleetUpgrades())
                .withOnUpdateFilter(CachePruning.viewChanged())
                .withSecondaryToPrimaryMapper(ku -> {
                    String fleet = ku.getMetadata().getAnnotations() == null ? null
                            : ku.getMetadata().getAnnotations().get(FleetLabels.FLEET_ANNOTATION);
                    if (fleet != null && fleet.contains("/")) {
                        String[] parts = fleet.split("/", 2);
                        return Set.of(new ResourceID(parts[1], parts[0]));
                    }
                    // Made by hand: the fleets that may select its Deployment respect it.
                    return fleetsReaching(fleets, ku.getMetadata().getNamespace());
                })
                .build(), context);
        return List.of(deployments, upgrades);
    }

    /** Fleets whose scope may include the namespace: those in it, and those selecting namespaces by label. */
    private static Set<ResourceID> fleetsReaching(IndexerResourceCache<KratosFleetUpgrade> fleets, String namespace) {
        return fleets.list(f -> namespace.equals(f.getMetadata().getNamespace()) || f.getSpec().getNamespaceSelector() != null)
                .map(ResourceID::fromResource).collect(Collectors.toSet());
    }

    @Override
    public UpdateControl<KratosFleetUpgrade> reconcile(KratosFleetUpgrade fleet, Context<KratosFleetUpgrade> context) {
        FleetObservation observed = observer.observe(fleet,
                ns -> deployments.list(ns, d -> true).toList(),
                ns -> upgrades.list(ns, ku -> true).toList(),
                namespaces::select);
        FleetDecision decision = machine.decide(fleet, observed, clock.instant());
        // Write-ahead: a wave is recorded before its KratosUpgrades exist, so a restart finishes starting it. Counts
        // and messages alone may wait (ProgressThrottle): every instance's every phase change would write them.
        Duration heldBack = Duration.ZERO;
        if (!Objects.equals(asJson(context, fleet.getStatus()), asJson(context, decision.status()))) {
            heldBack = progress.holdBack(fleet, fleet.getStatus(), decision.status(), ProgressThrottle.FLEET_PROGRESS);
            if (heldBack.isZero()) {
                try {
                    statusWriter.write(fleet, decision.status());
                    progress.written(fleet);
                } catch (StatusWriter.StaleDecisionException e) {
                    return UpdateControl.<KratosFleetUpgrade>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
                }
            }
        }
        actuator.execute(decision.actions());
        decision.events().forEach(e -> events.record(fleet, e.warning(), e.reason(), e.message()));
        UpdateControl<KratosFleetUpgrade> control = UpdateControl.noUpdate();
        Duration requeue = ProgressThrottle.sooner(decision.requeueAfter(), heldBack);
        if (requeue != null) control.rescheduleAfter(requeue);
        return control;
    }

    private static String asJson(Context<KratosFleetUpgrade> context, Object o) {
        return o == null ? null : context.getClient().getKubernetesSerialization().asJson(o);
    }
}
