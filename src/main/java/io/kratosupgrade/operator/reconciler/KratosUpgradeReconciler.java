package io.kratosupgrade.operator.reconciler;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.act.Actuator;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Deletion;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.observe.ClusterObserver;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.observe.CachePruning;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.kratosupgrade.operator.status.Conditions;
import io.kratosupgrade.operator.status.ProgressThrottle;
import io.kratosupgrade.operator.status.StatusWriter;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Thin on purpose: observe the cluster, let the {@link PhaseMachine} decide, write status, then act.
 * Status is written before any action it announces, and only if the object has not changed since it was
 * read, so a restart at any point resumes from status and a stale decision is never stored.
 * Informers on the operator's Jobs, their pods and FailedCreate events, its lock Leases, and the Deployments that
 * KratosUpgrades name wake it;
 * timers enforce deadlines, and look at the Kratos pods while waiting for them (they carry no label of ours).
 */
@ControllerConfiguration(name = KratosUpgradeReconciler.NAME,
        // Annotations (retry requests) and status must wake the reconciler too, not only spec changes.
        generationAwareEventProcessing = false,
        informer = @Informer(genericFilter = CachePruning.KratosUpgrades.class),
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
@RBACRule(apiGroups = "apps", resources = "deployments", verbs = {"get", "list", "watch", "patch", "create", "delete"})
@RBACRule(apiGroups = "batch", resources = "jobs", verbs = {"get", "list", "watch", "create", "patch", "update", "delete"})
@RBACRule(apiGroups = "", resources = "pods", verbs = {"get", "list", "watch"})
@RBACRule(apiGroups = "coordination.k8s.io", resources = "leases", verbs = {"get", "list", "watch", "create", "update", "delete"})
@RBACRule(apiGroups = "", resources = "secrets", verbs = {"get", "create", "delete"})
@RBACRule(apiGroups = "", resources = "configmaps", verbs = {"get"})
@RBACRule(apiGroups = "", resources = "persistentvolumeclaims", verbs = {"get"})
@RBACRule(apiGroups = "", resources = "events", verbs = {"get", "list", "watch", "create", "patch"})
@RBACRule(apiGroups = "", resources = "services", verbs = {"list", "patch"})
public class KratosUpgradeReconciler implements Reconciler<KratosUpgrade>, Cleaner<KratosUpgrade> {

    public static final String NAME = "kratosupgrade";
    private static final Logger LOG = Logger.getLogger(KratosUpgradeReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BY_NEW_SIDE_INDEX = "byNewSide";
    /** How often deletion looks again while it waits for a running migration Job (the Job informer wakes it too). */
    private static final Duration DELETION_RECHECK = Duration.ofSeconds(15);
    /** Bound on reconcile error messages in status and events. */
    private static final int MAX_ERROR_MESSAGE = 512;

    private final PhaseMachine machine;
    private final ClusterObserver observer;
    private final Actuator actuator;
    private final EventRecorder events;
    private final StatusWriter statusWriter;
    private final ProgressThrottle progress;
    private final UpgradeMetrics metrics;
    private final Clock clock;

    public KratosUpgradeReconciler(PhaseMachine machine, ClusterObserver observer, Actuator actuator, EventRecorder events,
                                   StatusWriter statusWriter, ProgressThrottle progress, UpgradeMetrics metrics, Clock clock) {
        this.machine = machine;
        this.observer = observer;
        this.actuator = actuator;
        this.events = events;
        this.statusWriter = statusWriter;
        this.progress = progress;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public List<EventSource<?, KratosUpgrade>> prepareEventSources(EventSourceContext<KratosUpgrade> context) {
        var primaries = context.getPrimaryCache();
        primaries.addIndexer(ClusterObserver.BY_DEPLOYMENT_INDEX, ku -> List.of(
                ClusterObserver.deploymentKey(ku.getMetadata().getNamespace(), ku.getSpec().getDeploymentName())));
        // A BlueGreen run waits on its new Deployment too: its status writes wake the run.
        primaries.addIndexer(BY_NEW_SIDE_INDEX, ku -> ku.getStatus() == null || ku.getStatus().getBlueGreen() == null
                || ku.getStatus().getBlueGreen().getNewDeployment() == null ? List.of()
                : List.of(ClusterObserver.deploymentKey(ku.getMetadata().getNamespace(), ku.getStatus().getBlueGreen().getNewDeployment())));

        var jobs = new InformerEventSource<>(InformerEventSourceConfiguration.from(Job.class, KratosUpgrade.class)
                .withName(ClusterObserver.JOBS_EVENT_SOURCE)
                .withLabelSelector(Labels.OWNED_SELECTOR)
                .withGenericFilter(CachePruning.jobs())
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(KratosUpgrade.class))
                .build(), context);
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, KratosUpgrade.class)
                .withName("job-pods")
                .withLabelSelector(Labels.OWNED_SELECTOR)
                .withGenericFilter(CachePruning.jobPods())
                .withSecondaryToPrimaryMapper(Mappers.fromAnnotation(Labels.UPGRADE_ANNOTATION, null, KratosUpgrade.class))
                .build(), context);
        // A Job whose pod the API server refuses (admission, quota, missing service account) has no pod and no
        // condition; only the Job controller's FailedCreate events say why. Only those events are watched.
        var podCreationFailures = new InformerEventSource<>(InformerEventSourceConfiguration.from(Event.class, KratosUpgrade.class)
                .withName("job-failed-create-events")
                .withFieldSelector(new FieldSelector(new FieldSelector.Field("involvedObject.kind", "Job"),
                        new FieldSelector.Field("reason", "FailedCreate")))
                .withSecondaryToPrimaryMapper(e -> jobs.get(new ResourceID(e.getInvolvedObject().getName(),
                                e.getMetadata().getNamespace()))
                        .map(job -> Mappers.fromOwnerReferences(KratosUpgrade.class).toPrimaryResourceIDs(job))
                        .orElse(Set.of()))
                .build(), context);
        // Every Deployment, not only those a run holds: in Gate mode, and after a run, the changes that matter are made
        // by someone else (a GitOps tool rolling out, or putting an old image back), on a Deployment the operator never labels.
        var deployments = new InformerEventSource<>(InformerEventSourceConfiguration.from(Deployment.class, KratosUpgrade.class)
                .withName("deployments")
                .withGenericFilter(CachePruning.deployments())
                .withSecondaryToPrimaryMapper(d -> {
                    Set<ResourceID> upgrades = new HashSet<>(upgradesOf(primaries, d.getMetadata().getNamespace(), d.getMetadata().getName()));
                    primaries.byIndex(BY_NEW_SIDE_INDEX, ClusterObserver.deploymentKey(d.getMetadata().getNamespace(), d.getMetadata().getName()))
                            .forEach(ku -> upgrades.add(ResourceID.fromResource(ku)));
                    return upgrades;
                })
                .withPrimaryToSecondaryMapper((KratosUpgrade ku) ->
                        Set.of(new ResourceID(ku.getSpec().getDeploymentName(), ku.getMetadata().getNamespace())))
                .build(), context);
        // A lock wakes every KratosUpgrade naming the Deployment: a waiting run learns that it was freed.
        var locks = new InformerEventSource<>(InformerEventSourceConfiguration.from(Lease.class, KratosUpgrade.class)
                .withName("locks")
                .withLabelSelector(Labels.OWNED_SELECTOR)
                .withSecondaryToPrimaryMapper(l -> l.getMetadata().getAnnotations() == null ? Set.of() : upgradesOf(primaries,
                        l.getMetadata().getNamespace(), l.getMetadata().getAnnotations().get(UpgradeLock.DEPLOYMENT_ANNOTATION)))
                .withPrimaryToSecondaryMapper((KratosUpgrade ku) -> Set.of(new ResourceID(
                        UpgradeLock.leaseName(ku.getSpec().getDeploymentName()), ku.getMetadata().getNamespace())))
                .build(), context);
        return List.of(jobs, pods, podCreationFailures, deployments, locks);
    }

    private static Set<ResourceID> upgradesOf(IndexerResourceCache<KratosUpgrade> primaries, String namespace, String deployment) {
        if (deployment == null) return Set.of();
        return primaries.byIndex(ClusterObserver.BY_DEPLOYMENT_INDEX, ClusterObserver.deploymentKey(namespace, deployment))
                .stream().map(ResourceID::fromResource).collect(Collectors.toSet());
    }

    @Override
    public UpdateControl<KratosUpgrade> reconcile(KratosUpgrade resource, Context<KratosUpgrade> context) {
        KratosUpgrade working = context.getClient().getKubernetesSerialization().clone(resource);
        if (working.getStatus() == null) {
            working.setStatus(new KratosUpgradeStatus());
        }
        Observation observed = observer.observe(working, context);
        Decision decision = machine.decide(working, observed, clock.instant());

        // Write-ahead: the status announcing a step is stored before the step's side effects happen. Only a change
        // of progress text may wait (what it announces, a Job name, a phase, is never held back).
        Duration heldBack = Duration.ZERO;
        if (!sameJson(resource.getStatus(), decision.status())) {
            heldBack = progress.holdBack(resource, resource.getStatus(), decision.status(), ProgressThrottle.UPGRADE_PROGRESS);
            if (heldBack.isZero()) {
                try {
                    KratosUpgrade stored = statusWriter.write(resource, decision.status());
                    progress.written(resource);
                    context.eventSourceRetriever().getControllerEventSource()
                            .handleRecentResourceUpdate(ResourceID.fromResource(resource), stored, resource);
                } catch (StatusWriter.StaleDecisionException e) {
                    // The change that made this decision stale wakes the reconciler again; the timer is a backstop.
                    LOG.debug(e.getMessage());
                    return UpdateControl.<KratosUpgrade>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
                }
            }
        }
        actuator.execute(resource, decision.actions(), created -> remember(context, created));
        if (Conditions.reconcileErrorActive(decision.status())) {
            statusWriter.recordRecovery(resource.getMetadata().getNamespace(), resource.getMetadata().getName());
        }

        decision.events().forEach(e -> events.record(resource, e.warning(), e.reason(), e.message()));
        decision.transitions().forEach(t -> {
            LOG.infof("%s/%s run %s: %s -> %s", resource.getMetadata().getNamespace(), resource.getMetadata().getName(),
                    decision.status().getRun(), t.from(), t.to());
            metrics.record(t);
        });
        metrics.track(resource.getMetadata().getUid(), resource.getMetadata().getNamespace(), resource.getMetadata().getName(),
                decision.status());

        UpdateControl<KratosUpgrade> control = UpdateControl.noUpdate();
        Duration requeue = ProgressThrottle.sooner(decision.requeueAfter(), heldBack);
        if (requeue != null) {
            control.rescheduleAfter(requeue.isNegative() ? Duration.ZERO : requeue);
        }
        return control;
    }

    /**
     * A Job just created goes into the Job informer's cache at once: the next reconcile, often woken before the
     * informer has seen the Job, would otherwise decide to create it (and its Secret) again and meet a 409.
     */
    @SuppressWarnings("unchecked")
    private static void remember(Context<KratosUpgrade> context, HasMetadata created) {
        if (created instanceof Job job) {
            ((InformerEventSource<Job, KratosUpgrade>) context.eventSourceRetriever()
                    .getEventSourceFor(Job.class, ClusterObserver.JOBS_EVENT_SOURCE))
                    .handleRecentResourceCreate(ResourceID.fromResource(job), job);
        }
    }

    /**
     * A reconcile failed (the API server refused or failed a request): JOSDK retries it. The error goes to a
     * ReconcileError condition of the newest stored object, and to Stalled once the retries are used up, so a
     * missing permission or a failing API server is visible in status; the run's phase is kept.
     */
    @Override
    public ErrorStatusUpdateControl<KratosUpgrade> updateErrorStatus(KratosUpgrade resource, Context<KratosUpgrade> context,
                                                                    Exception e) {
        boolean lastAttempt = context.getRetryInfo().map(RetryInfo::isLastAttempt).orElse(false);
        String reason = errorReason(e);
        String message = errorMessage(e);
        LOG.warnf("reconcile of %s/%s failed (%s%s): %s", resource.getMetadata().getNamespace(),
                resource.getMetadata().getName(), reason, lastAttempt ? ", retries used up" : ", will retry", message);
        statusWriter.recordReconcileError(resource.getMetadata().getNamespace(), resource.getMetadata().getName(),
                reason, message, lastAttempt);
        metrics.reconcileError(reason);
        events.record(resource, true, "ReconcileError", message);
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    /** Deletion abandons the run without leaving Kratos down or half-way: see {@link Deletion}. */
    @Override
    public DeleteControl cleanup(KratosUpgrade resource, Context<KratosUpgrade> context) {
        if (Deletion.finishesRunFirst(resource)) {
            // The run goes on to its own end (the machine sees the deletion); the finalizer stays until then.
            reconcile(resource, context);
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(DELETION_RECHECK);
        }
        KratosUpgrade working = context.getClient().getKubernetesSerialization().clone(resource);
        Deletion deletion = Deletion.decide(working, observer.observe(working, context));
        if (deletion.waits()) {
            events.record(resource, true, "DeletionDeferred", deletion.waitReason());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(DELETION_RECHECK);
        }
        actuator.execute(resource, deletion.actions(), created -> { });
        deletion.actions().stream().filter(a -> a instanceof Action.PatchDeployment)
                .forEach(a -> events.record(resource, true, "DeletionRestoredReplicas", a.describe()));
        metrics.forget(resource.getMetadata().getUid());
        progress.forget(resource);
        return DeleteControl.defaultDelete();
    }

    static String errorReason(Exception e) {
        Throwable cause = e;
        while (cause != null && !(cause instanceof KubernetesClientException)) {
            cause = cause.getCause();
        }
        if (cause == null) {
            return "InternalError";
        }
        int code = ((KubernetesClientException) cause).getCode();
        return switch (code) {
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 409 -> "Conflict";
            case 422 -> "Invalid";
            case 429 -> "TooManyRequests";
            default -> code >= 500 ? "ApiServerError" : code == 0 ? "ApiServerUnreachable" : "ApiError";
        };
    }

    /** The exception's message, bounded; API error messages name objects and verbs, never Secret data. */
    static String errorMessage(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.length() <= MAX_ERROR_MESSAGE ? message : message.substring(0, MAX_ERROR_MESSAGE) + "...";
    }

    private static boolean sameJson(Object a, Object b) {
        return JSON.valueToTree(a).equals(JSON.valueToTree(b));
    }
}
