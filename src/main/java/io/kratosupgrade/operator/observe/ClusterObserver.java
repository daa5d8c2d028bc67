package io.kratosupgrade.operator.observe;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec;
import io.kratosupgrade.operator.product.Products;
import io.kratosupgrade.operator.api.v1alpha1.ReplicationSpec;
import io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.resources.Names;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kube.DeploymentPods;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.resources.Containers;
import io.kratosupgrade.operator.resources.Labels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads what a decision needs. Jobs, their pods and the lock Leases come from informer caches (label selected),
 * the Deployment from an informer on every Deployment (mapped to the KratosUpgrades that name it); the rest is read from the API server only in the phases that need it: the DSN's Secret and
 * the backup PVC in Preflight, the DSN again when the backup Job is created, the Deployment's pods while
 * waiting for them to stop (Recreate) and while verifying.
 */
public class ClusterObserver {

    public static final String BY_DEPLOYMENT_INDEX = "byDeployment";
    /** The name of the KratosUpgrade reconciler's informer on the operator's Jobs. */
    public static final String JOBS_EVENT_SOURCE = "jobs";

    private final MigrationSlots migrationSlots;

    public ClusterObserver(MigrationSlots migrationSlots) {
        this.migrationSlots = migrationSlots;
    }

    public Observation observe(KratosUpgrade ku, Context<KratosUpgrade> context) {
        KubernetesClient client = context.getClient();
        String ns = ku.getMetadata().getNamespace();
        Phase phase = ku.getStatus() == null || ku.getStatus().getPhase() == null ? Phase.Pending : ku.getStatus().getPhase();

        Deployment deployment = context.getSecondaryResource(Deployment.class)
                .orElseGet(() -> client.apps().deployments().inNamespace(ns).withName(ku.getSpec().getDeploymentName()).get());
        Map<String, Job> jobs = context.getSecondaryResources(Job.class).stream()
                .collect(Collectors.toMap(j -> j.getMetadata().getName(), Function.identity(), (a, b) -> a));
        Map<String, List<Pod>> podsByJob = context.getSecondaryResources(Pod.class).stream()
                .filter(p -> p.getMetadata().getLabels() != null && p.getMetadata().getLabels().containsKey(Labels.JOB))
                .collect(Collectors.groupingBy(p -> p.getMetadata().getLabels().get(Labels.JOB)));
        Map<String, String> podCreationFailures = podCreationFailures(jobs, context.getSecondaryResources(Event.class));
        List<KratosUpgrade> peers = context.getPrimaryCache()
                .byIndex(BY_DEPLOYMENT_INDEX, deploymentKey(ns, ku.getSpec().getDeploymentName())).stream()
                .filter(p -> !p.getMetadata().getName().equals(ku.getMetadata().getName()))
                .toList();

        Boolean backupVolumeExists = null;
        DsnResolution dsn = null;
        EffectiveConfig config = null;
        String defaultContainer = Products.of(ku.getSpec().getProduct()).defaultContainerName();
        List<Pod> deploymentPods = null;
        // The DSN is read only when a Job that connects to production is about to be created.
        boolean backupJobMissing = phase == Phase.BackingUp && ku.getStatus().getBackup() != null
                && !jobs.containsKey(ku.getStatus().getBackup().getJobName());
        boolean restoreJobMissing = phase == Phase.RestoringDatabase && ku.getStatus().getDatabaseRestore() != null
                && !jobs.containsKey(ku.getStatus().getDatabaseRestore().getJobName());
        // The DSN and the configuration often come from the same Secret and ConfigMap: each is read once per pass.
        DsnLocator.ConfigData configData = configData(client, ns);
        if ((phase == Phase.Preflight || backupJobMissing || restoreJobMissing) && deployment != null) {
            String containerName = phase == Phase.Preflight ? ku.getSpec().getContainerName() : ku.getStatus().getContainerName();
            Optional<Container> container = Containers.of(deployment.getSpec().getTemplate().getSpec(), containerName, defaultContainer);
            dsn = container.map(c -> locate(c, configData)).orElse(null);
        }
        if (phase == Phase.Preflight && deployment != null) {
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Optional<Container> container = Containers.of(pod, ku.getSpec().getContainerName(), defaultContainer);
            if (container.isPresent()) {
                List<String> denied = new ArrayList<>();
                config = EffectiveConfig.read(pod, container.get(), tolerant(configData, denied));
                config.problems().addAll(denied);
            }
        }
        if (phase == Phase.Preflight && ku.getSpec().getBackup().getPolicy() == BackupPolicy.Required) {
            backupVolumeExists = client.persistentVolumeClaims().inNamespace(ns)
                    .withName(ku.getSpec().getBackup().getPersistentVolumeClaim()).get() != null;
        }
        boolean blueGreen = blueGreenRun(ku, phase);
        // BlueGreen: the freeze and the way back connect to the old database; the old side's pods say its pod-template-hash.
        boolean blueGreenSourceJob = blueGreen && (phase == Phase.Freezing || phase == Phase.Replicating || phase == Phase.Copying
                || phase == Phase.SwitchingBack || phase == Phase.Finalizing);
        if (blueGreenSourceJob && dsn == null && deployment != null) {
            dsn = Containers.of(deployment.getSpec().getTemplate().getSpec(), ku.getStatus().getContainerName(), defaultContainer)
                    .map(c -> locate(c, configData)).orElse(null);
        }
        if ((phase == Phase.ScalingDown || phase == Phase.Verifying || phase == Phase.RestoringDatabase
                || (blueGreen && (phase == Phase.StartingNewSide || phase == Phase.Finalizing || phase == Phase.SwitchingBack)))
                && deployment != null) {
            deploymentPods = deploymentPods(client, deployment);
        }
        BlueGreenObservation blueGreenObservation = blueGreen ? observeBlueGreen(client, ku, phase, configData) : BlueGreenObservation.NONE;
        Lease lock = context.getSecondaryResource(Lease.class).orElse(null);
        boolean migrationJobMissing = phase == Phase.Migrating && ku.getStatus().getMigration() != null
                && !jobs.containsKey(ku.getStatus().getMigration().getJobName());
        String key = ns + "/" + ku.getMetadata().getName();
        boolean migrationSlot = true;
        if (migrationJobMissing) {
            migrationSlot = migrationSlots.hold(key, runningMigrations(context));
        } else {
            migrationSlots.release(key);
        }
        return new Observation(deployment, jobs, podsByJob, podCreationFailures, peers, lock, backupVolumeExists, dsn, config,
                deploymentPods == null ? List.of() : deploymentPods, migrationSlot, blueGreenObservation);
    }

    /** A BlueGreen run past Pending (the strategy is fixed in status from Preflight on; Preflight reads the spec's). */
    private static boolean blueGreenRun(KratosUpgrade ku, Phase phase) {
        Strategy strategy = ku.getStatus() != null && ku.getStatus().getStrategy() != null && phase != Phase.Preflight
                ? ku.getStatus().getStrategy() : ku.getSpec().getStrategy();
        return strategy == Strategy.BlueGreen && !phase.isTerminal() && phase != Phase.Pending;
    }

    private static BlueGreenObservation observeBlueGreen(KubernetesClient client, KratosUpgrade ku, Phase phase,
                                                         DsnLocator.ConfigData configData) {
        String ns = ku.getMetadata().getNamespace();
        String newName = ku.getStatus().getBlueGreen() != null && ku.getStatus().getBlueGreen().getNewDeployment() != null
                ? ku.getStatus().getBlueGreen().getNewDeployment() : Names.newSideDeployment(ku);
        Deployment newSide = client.apps().deployments().inNamespace(ns).withName(newName).get();
        boolean podsMatter = phase == Phase.StartingNewSide || phase == Phase.SwitchingBack;
        List<Pod> newSidePods = newSide == null || !podsMatter ? List.of() : deploymentPods(client, newSide);
        List<Service> services = client.services().inNamespace(ns).list().getItems();
        BlueGreenSpec spec = ku.getSpec().getBlueGreen() == null ? new BlueGreenSpec() : ku.getSpec().getBlueGreen();
        boolean targetJob = phase == Phase.Preflight || phase == Phase.Freezing || phase == Phase.Replicating || phase == Phase.Copying
                || phase == Phase.SwitchingBack;
        DsnResolution targetDsn = spec.getTargetDatabase() == null || !targetJob ? null : fromSecret(spec.getTargetDatabase(), configData);
        ReplicationSpec replication = spec.replicates() && targetJob && spec.getReplication() != null ? spec.getReplication() : new ReplicationSpec();
        DsnResolution publisherDsn = replication.getPublisherDatabase() == null ? null : fromSecret(replication.getPublisherDatabase(), configData);
        DsnResolution subscriberDsn = replication.getSubscriberDatabase() == null ? null : fromSecret(replication.getSubscriberDatabase(), configData);
        return new BlueGreenObservation(newSide, newSidePods, services, targetDsn, publisherDsn, subscriberDsn);
    }

    private static DsnResolution fromSecret(SecretKeyReference ref, DsnLocator.ConfigData configData) {
        try {
            return DsnLocator.fromSecret(ref.getName(), ref.getKey(), configData);
        } catch (DsnAccessDeniedException e) {
            return DsnResolution.unreadable(e.getMessage());
        }
    }

    /** namespace/name of every KratosUpgrade whose migration Job is running, operator-wide (the Job informer's cache). */
    @SuppressWarnings("unchecked")
    private static Set<String> runningMigrations(Context<KratosUpgrade> context) {
        var jobs = (InformerEventSource<Job, KratosUpgrade>) context.eventSourceRetriever().getEventSourceFor(Job.class, JOBS_EVENT_SOURCE);
        return jobs.list(j -> "migrate".equals(j.getMetadata().getLabels().get(Labels.STEP)) && !JobOutcome.of(j, List.of()).finished())
                .flatMap(j -> j.getMetadata().getOwnerReferences().stream()
                        .filter(o -> KratosUpgrade.class.getSimpleName().equals(o.getKind()))
                        .map(o -> j.getMetadata().getNamespace() + "/" + o.getName()))
                .collect(Collectors.toSet());
    }

    /**
     * The latest FailedCreate message of each Job, from the Job controller's Events (the informer selects
     * only those). Matched on the Job's uid, so an Event of an older Job with the same name never counts.
     */
    static Map<String, String> podCreationFailures(Map<String, Job> jobs, Set<Event> events) {
        Map<String, String> failures = new HashMap<>();
        events.stream()
                .filter(e -> e.getInvolvedObject() != null && jobs.containsKey(e.getInvolvedObject().getName()))
                .filter(e -> Objects.equals(e.getInvolvedObject().getUid(),
                        jobs.get(e.getInvolvedObject().getName()).getMetadata().getUid()))
                .sorted(Comparator.comparing(ClusterObserver::lastSeen))
                .forEach(e -> failures.put(e.getInvolvedObject().getName(), e.getMessage()));
        return failures;
    }

    private static String lastSeen(Event e) {
        if (e.getLastTimestamp() != null) return e.getLastTimestamp();
        if (e.getEventTime() != null && e.getEventTime().getTime() != null) return e.getEventTime().getTime();
        return e.getMetadata().getCreationTimestamp() == null ? "" : e.getMetadata().getCreationTimestamp();
    }

    /** The Deployment's own pods, terminating ones included (read from the API server: they carry no label of ours). */
    public static List<Pod> deploymentPods(KubernetesClient client, Deployment deployment) {
        return DeploymentPods.of(deployment, client.pods().inNamespace(deployment.getMetadata().getNamespace())
                .withLabelSelector(deployment.getSpec().getSelector()).list().getItems());
    }

    private static DsnResolution locate(Container container, DsnLocator.ConfigData configData) {
        try {
            return DsnLocator.locate(container, configData);
        } catch (DsnAccessDeniedException e) {
            return DsnResolution.unreadable(e.getMessage());
        }
    }

    /** Config data whose unreadable objects (RBAC) count as missing, each said in {@code denied}. */
    private static DsnLocator.ConfigData tolerant(DsnLocator.ConfigData data, List<String> denied) {
        return new DsnLocator.ConfigData() {
            @Override
            public Optional<Map<String, String>> secret(String name) {
                try {
                    return data.secret(name);
                } catch (DsnAccessDeniedException e) {
                    denied.add(e.getMessage());
                    return Optional.empty();
                }
            }

            @Override
            public Optional<Map<String, String>> configMap(String name) {
                try {
                    return data.configMap(name);
                } catch (DsnAccessDeniedException e) {
                    denied.add(e.getMessage());
                    return Optional.empty();
                }
            }
        };
    }

    public static String deploymentKey(String namespace, String deployment) {
        return namespace + "/" + deployment;
    }

    /**
     * Secret and ConfigMap data as strings, each object read at most once (the instance lives for one pass); an
     * object the operator may not read raises {@link DsnAccessDeniedException}.
     */
    static DsnLocator.ConfigData configData(KubernetesClient client, String ns) {
        return new DsnLocator.ConfigData() {
            private final Map<String, Optional<Map<String, String>>> secrets = new HashMap<>();
            private final Map<String, Optional<Map<String, String>>> configMaps = new HashMap<>();

            @Override
            public Optional<Map<String, String>> secret(String name) {
                return secrets.computeIfAbsent(name, this::readSecret);
            }

            @Override
            public Optional<Map<String, String>> configMap(String name) {
                return configMaps.computeIfAbsent(name, this::readConfigMap);
            }

            private Optional<Map<String, String>> readSecret(String name) {
                Secret secret = readable(() -> client.secrets().inNamespace(ns).withName(name).get(), "Secret", name);
                if (secret == null) return Optional.empty();
                Map<String, String> data = new HashMap<>();
                if (secret.getData() != null) {
                    secret.getData().forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
                }
                if (secret.getStringData() != null) data.putAll(secret.getStringData());
                return Optional.of(data);
            }

            private Optional<Map<String, String>> readConfigMap(String name) {
                ConfigMap cm = readable(() -> client.configMaps().inNamespace(ns).withName(name).get(), "ConfigMap", name);
                return cm == null ? Optional.empty() : Optional.of(cm.getData() == null ? Map.of() : cm.getData());
            }
        };
    }

    private static <T> T readable(java.util.function.Supplier<T> read, String kind, String name) {
        try {
            return read.get();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403) {
                throw new DsnAccessDeniedException("the operator is not allowed to read " + kind + " " + name);
            }
            throw e;
        }
    }

    /** Raised when RBAC hides the DSN; its message names the object, never its content. */
    public static class DsnAccessDeniedException extends RuntimeException {
        public DsnAccessDeniedException(String message) {
            super(message);
        }
    }
}
