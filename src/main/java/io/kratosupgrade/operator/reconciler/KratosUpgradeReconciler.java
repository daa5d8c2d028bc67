package io.kratosupgrade.operator.reconciler;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.kratosupgrade.operator.act.Actuator;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.events.EventRecorder;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.PhaseMachine;
import io.kratosupgrade.operator.metrics.UpgradeMetrics;
import io.kratosupgrade.operator.observe.ClusterObserver;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.Names;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Thin on purpose: observe the cluster, let the {@link PhaseMachine} decide, write status, then act.
 * Status is written before any action it announces, so a restart at any point resumes from status.
 * Informers on the operator's Jobs and pods and on held Deployments wake it; timers only enforce deadlines.
 */
@ControllerConfiguration(name = KratosUpgradeReconciler.NAME,
        // Annotations (retry requests) and status must wake the reconciler too, not only spec changes.
        generationAwareEventProcessing = false,
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
@RBACRule(apiGroups = "apps", resources = "deployments", verbs = {"get", "list", "watch", "patch"})
@RBACRule(apiGroups = "batch", resources = "jobs", verbs = {"get", "list", "watch", "create", "patch", "update"})
@RBACRule(apiGroups = "", resources = "pods", verbs = {"get", "list", "watch"})
@RBACRule(apiGroups = "", resources = "secrets", verbs = {"get", "create", "delete"})
@RBACRule(apiGroups = "", resources = "configmaps", verbs = {"get"})
@RBACRule(apiGroups = "", resources = "persistentvolumeclaims", verbs = {"get"})
@RBACRule(apiGroups = "", resources = "events", verbs = {"create", "patch"})
public class KratosUpgradeReconciler implements Reconciler<KratosUpgrade>, Cleaner<KratosUpgrade> {

    public static final String NAME = "kratosupgrade";
    private static final Logger LOG = Logger.getLogger(KratosUpgradeReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PhaseMachine machine;
    private final ClusterObserver observer = new ClusterObserver();
    private final UpgradeMetrics metrics;
    private final Clock clock;

    public KratosUpgradeReconciler(OperatorSettings settings, UpgradeMetrics metrics, Clock clock) {
        this.machine = new PhaseMachine(settings);
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public List<EventSource<?, KratosUpgrade>> prepareEventSources(EventSourceContext<KratosUpgrade> context) {
        var primaries = context.getPrimaryCache();
        primaries.addIndexer(ClusterObserver.BY_DEPLOYMENT_INDEX, ku -> List.of(
                ClusterObserver.deploymentKey(ku.getMetadata().getNamespace(), ku.getSpec().getDeploymentName())));

        var jobs = new InformerEventSource<>(InformerEventSourceConfiguration.from(Job.class, KratosUpgrade.class)
                .withName("jobs")
                .withLabelSelector(Labels.OWNED_SELECTOR)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(KratosUpgrade.class))
                .build(), context);
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, KratosUpgrade.class)
                .withName("job-pods")
                .withLabelSelector(Labels.OWNED_SELECTOR)
                .withSecondaryToPrimaryMapper(Mappers.fromAnnotation(Labels.UPGRADE_ANNOTATION, null, KratosUpgrade.class))
                .build(), context);
        var deployments = new InformerEventSource<>(InformerEventSourceConfiguration.from(Deployment.class, KratosUpgrade.class)
                .withName("deployments")
                .withLabelSelector(Labels.MANAGED_DEPLOYMENT_SELECTOR)
                .withSecondaryToPrimaryMapper(d -> primaries.byIndex(ClusterObserver.BY_DEPLOYMENT_INDEX,
                                ClusterObserver.deploymentKey(d.getMetadata().getNamespace(), d.getMetadata().getName()))
                        .stream().map(ResourceID::fromResource).collect(java.util.stream.Collectors.toSet()))
                .withPrimaryToSecondaryMapper((KratosUpgrade ku) ->
                        Set.of(new ResourceID(ku.getSpec().getDeploymentName(), ku.getMetadata().getNamespace())))
                .build(), context);
        return List.of(jobs, pods, deployments);
    }

    @Override
    public UpdateControl<KratosUpgrade> reconcile(KratosUpgrade resource, Context<KratosUpgrade> context) {
        KratosUpgrade working = context.getClient().getKubernetesSerialization().clone(resource);
        if (working.getStatus() == null) {
            working.setStatus(new KratosUpgradeStatus());
        }
        Observation observed = observer.observe(working, context);
        Decision decision = machine.decide(working, observed, clock.instant());

        // Write-ahead: the status announcing a step is stored before the step's side effects happen.
        if (!sameJson(resource.getStatus(), decision.status())) {
            PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(resource, context, r -> {
                r.setStatus(decision.status());
                return r;
            });
        }
        new Actuator(context.getClient()).execute(resource, decision.actions());

        EventRecorder events = new EventRecorder(context.getClient());
        decision.events().forEach(e -> events.record(resource, e.warning(), e.reason(), e.message()));
        decision.transitions().forEach(t -> {
            LOG.infof("%s/%s run %s: %s -> %s", resource.getMetadata().getNamespace(), resource.getMetadata().getName(),
                    decision.status().getRun(), t.from(), t.to());
            metrics.record(t);
        });
        metrics.track(resource.getMetadata().getUid(), decision.status().getPhase());

        UpdateControl<KratosUpgrade> control = UpdateControl.noUpdate();
        Duration requeue = decision.requeueAfter();
        if (requeue != null) {
            control.rescheduleAfter(requeue.isNegative() ? Duration.ZERO : requeue);
        }
        return control;
    }

    @Override
    public ErrorStatusUpdateControl<KratosUpgrade> updateErrorStatus(KratosUpgrade resource, Context<KratosUpgrade> context,
                                                                    Exception e) {
        // Errors talking to the API server are retried by JOSDK; the run's phase is left as it was.
        LOG.warnf("reconcile of %s/%s failed (will retry): %s", resource.getMetadata().getNamespace(),
                resource.getMetadata().getName(), e.getMessage());
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    /**
     * Deleting a KratosUpgrade while its migration Job runs would have the garbage collector kill the
     * migration half-way: deletion waits until that Job has finished. Then the Deployment is released.
     */
    @Override
    public DeleteControl cleanup(KratosUpgrade resource, Context<KratosUpgrade> context) {
        KratosUpgradeStatus status = resource.getStatus();
        if (status != null && status.getPhase() == Phase.Migrating && status.getMigration() != null) {
            boolean running = context.getSecondaryResources(Job.class).stream()
                    .filter(j -> j.getMetadata().getName().equals(status.getMigration().getJobName()))
                    .anyMatch(j -> !io.kratosupgrade.operator.kube.JobOutcome.of(j, List.of()).finished());
            if (running) {
                new EventRecorder(context.getClient()).record(resource, true, "DeletionDeferred",
                        "migration Job " + status.getMigration().getJobName() + " is running; deletion waits for it to finish");
                return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(15));
            }
        }
        var client = context.getClient();
        String ns = resource.getMetadata().getNamespace();
        if (status != null && status.getRun() != null) {
            client.secrets().inNamespace(ns).withName(Names.backupCredentialsSecret(resource, status.getRun())).delete();
        }
        new Actuator(client).execute(resource, List.of(
                new io.kratosupgrade.operator.act.Action.UnlockDeployment(resource.getSpec().getDeploymentName())));
        metrics.forget(resource.getMetadata().getUid());
        return DeleteControl.defaultDelete();
    }

    private static boolean sameJson(Object a, Object b) {
        return JSON.valueToTree(a).equals(JSON.valueToTree(b));
    }
}
