package io.kratosupgrade.operator.apiserver;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kratosupgrade.operator.resources.BackupVerificationJobBuilder;
import io.kratosupgrade.operator.resources.DatabaseRestoreJobBuilder;
import io.kratosupgrade.operator.resources.InspectionJobBuilder;
import io.kratosupgrade.operator.resources.RehearsalJobBuilder;
import io.kratosupgrade.operator.testsupport.Edits;
import io.kratosupgrade.operator.resources.Labels;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Plays the controllers kube-api-test does not run (Job controller, Deployment controller, kubelet),
 * for one namespace, by writing the status those would write. What each Job does is set per step
 * (backup, migrate); which images the Deployment can make ready is set per test.
 */
final class FakeControllers implements AutoCloseable {

    /** FAILED_CREATE: the pod is refused (as by a quota or PodSecurity admission): no pod, a FailedCreate event. */
    /** VOLUME_UNBOUND: the scheduler cannot place the pod, whose claim no volume matches, and has said so for 35 s (the grace of 60 s leaves 25 s, more than the progress interval, to see it wait). */
    enum JobBehavior { SUCCEED, FAIL, IMAGE_PULL_BACKOFF, HANG, FAILED_CREATE, VOLUME_UNBOUND }

    static final Duration VOLUME_UNBOUND_FOR = Duration.ofSeconds(35);

    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, JobBehavior> jobBehavior = new ConcurrentHashMap<>(Map.of(
            "backup", JobBehavior.SUCCEED, "migrate", JobBehavior.SUCCEED));
    private final Set<String> neverReadyImages = ConcurrentHashMap.newKeySet();
    private final Set<String> unreadyAfterRolloutImages = ConcurrentHashMap.newKeySet();
    private final Set<String> handledJobs = ConcurrentHashMap.newKeySet();
    /** Every backup and migration Job the operator created, in order, with the Deployment's spec.replicas at that moment. */
    final List<String> jobsCreated = new CopyOnWriteArrayList<>();
    /** The read-only database inspection Jobs, apart: they change nothing. */
    final List<String> inspectionJobs = new CopyOnWriteArrayList<>();
    /** What the inspection reports (the inspection Job's termination message, or in the backup Job's). */
    volatile String inspectionReport = "{\"schemaMigration\":true,\"applied\":282,\"newest\":\"20240119094628000000\","
            + "\"pendingForTarget\":33,\"missingForRunning\":0,\"unknownToRunning\":0,\"unknownToTarget\":0,"
            + "\"aheadExamples\":[],\"missingExamples\":[],\"networks\":1}";
    /** The row counts the backup Job reports for its snapshot. */
    static final String DUMPED_COUNTS = "{\"identities\":3,\"schema_migration\":282}";
    /** What the verification Job reports: by default, every row came back. */
    volatile String verificationReport = "{\"restoreMillis\":120,\"counts\":" + DUMPED_COUNTS + "}";
    final Map<String, Integer> replicasWhenJobCreated = new ConcurrentHashMap<>();
    /** Every image the Deployment's template got, in order (the initial one included). */
    final List<String> deploymentImages = new CopyOnWriteArrayList<>();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

    /**
     * A client of its own, closed with these fakes: stopping the operator (RestartIT) interrupts threads of the client it
     * ran on, and one of them could be running a handler of these fakes (a Job then never got its pod).
     */
    FakeControllers(KubernetesClient client, String namespace) {
        this.client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
        this.namespace = namespace;
    }

    /** How the pod of a failing Job of a step (or one Job, by name) exits, and the end of its log. */
    private final Map<String, Map.Entry<Integer, String>> failures = new ConcurrentHashMap<>();

    /** Jobs of a step (or one Job, by name) fail, their pod exiting 1 with its log ending in {@code log}. */
    FakeControllers failing(String stepOrJobName, String log) {
        return failing(stepOrJobName, 1, log);
    }

    /** Jobs of a step (or one Job, by name) fail, their pod exiting {@code exitCode} with its log ending in {@code log}. */
    FakeControllers failing(String stepOrJobName, int exitCode, String log) {
        failures.put(stepOrJobName, Map.entry(exitCode, log));
        return jobs(stepOrJobName, JobBehavior.FAIL);
    }

    /** How Jobs of a step ("backup", "migrate") or one Job, by name, behave. */
    FakeControllers jobs(String stepOrJobName, JobBehavior behavior) {
        jobBehavior.put(stepOrJobName, behavior);
        return this;
    }

    FakeControllers neverReady(String image) {
        neverReadyImages.add(image);
        return this;
    }

    /**
     * The rollout to {@code image} completes by the Deployment's status, but one of its pods is not ready yet: the
     * status lags the pods, as the real controller's does between its syncs. {@link #podsBecomeReady} catches up.
     */
    FakeControllers oneUnreadyAfterRollout(String image) {
        unreadyAfterRolloutImages.add(image);
        return this;
    }

    /** Every pod turns ready, and the Deployment controller writes its status again, as the real one does on a pod change. */
    void podsBecomeReady() {
        Edits.retryingConflicts(() -> {
            for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
                if (pod.getMetadata().getLabels().containsKey("pod-template-hash")) {
                    pod.getStatus().setConditions(List.of(new PodConditionBuilder().withType("Ready").withStatus("True").build()));
                    pod.getStatus().getContainerStatuses().forEach(cs -> cs.setReady(true));
                    client.pods().inNamespace(namespace).resource(pod).updateStatus();
                }
            }
            Deployment d = client.apps().deployments().inNamespace(namespace).list().getItems().get(0);
            d.getStatus().getConditions().forEach(c -> c.setMessage("synced at " + System.nanoTime()));
            return client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
        });
    }

    /**
     * Pods of {@code image} start becoming ready from now on; every Deployment running it is synced again, as the real
     * controller does when its pods change.
     */
    void becomeReady(String image) {
        neverReadyImages.remove(image);
        for (Deployment d : client.apps().deployments().inNamespace(namespace).list().getItems()) {
            if (image.equals(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())) {
                Edits.retryingConflicts(() -> {
                    Deployment current = client.apps().deployments().inNamespace(namespace).withName(d.getMetadata().getName()).get();
                    current.getStatus().setObservedGeneration(0L);
                    return client.apps().deployments().inNamespace(namespace).resource(current).updateStatus();
                });
            }
        }
    }

    FakeControllers start() {
        informers.add(client.batch().v1().jobs().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(Job job) { onJob(job); }
            public void onUpdate(Job oldJob, Job job) { onJob(job); }
            public void onDelete(Job job, boolean unknown) { }
        }));
        informers.add(client.apps().deployments().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            public void onAdd(Deployment d) { onDeployment(d); }
            public void onUpdate(Deployment old, Deployment d) { onDeployment(d); }
            public void onDelete(Deployment d, boolean unknown) { }
        }));
        return this;
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        client.close();
    }

    // ---- Job controller + kubelet ----

    private synchronized void onJob(Job job) {
        String name = job.getMetadata().getName();
        if (Boolean.TRUE.equals(job.getSpec().getSuspend())) {
            client.pods().inNamespace(namespace).withLabel("job-name", name).withGracePeriod(0).delete();
            return;
        }
        if (!handledJobs.add(name)) {
            return;
        }
        String step = job.getMetadata().getLabels().get(Labels.STEP);
        (InspectionJobBuilder.STEP.equals(step) ? inspectionJobs : jobsCreated).add(name);
        Deployment d = client.apps().deployments().inNamespace(namespace).list().getItems().stream().findFirst().orElse(null);
        if (d != null) {
            replicasWhenJobCreated.put(name, d.getSpec().getReplicas());
        }
        JobBehavior behavior = jobBehavior.getOrDefault(name, jobBehavior.getOrDefault(step, JobBehavior.SUCCEED));
        if (behavior == JobBehavior.FAILED_CREATE) {
            recordFailedCreate(job);
            return;
        }
        Pod pod = createJobPod(job);
        String now = now();
        JobStatus status;
        switch (behavior) {
            case SUCCEED -> {
                setPodTerminated(pod, 0, successReport(job));
                status = new JobStatusBuilder().withStartTime(now).withCompletionTime(now).withSucceeded(1).withActive(0)
                        .withConditions(
                                new JobConditionBuilder().withType("SuccessCriteriaMet").withStatus("True").withReason("CompletionsReached")
                                        .withLastTransitionTime(now).withLastProbeTime(now).build(),
                                new JobConditionBuilder().withType("Complete").withStatus("True").withReason("CompletionsReached")
                                        .withLastTransitionTime(now).withLastProbeTime(now).build())
                        .build();
            }
            case FAIL -> {
                Map.Entry<Integer, String> failure = failures.getOrDefault(name, step == null ? null : failures.get(step));
                setPodTerminated(pod, failure == null ? 1 : failure.getKey(), failure == null ? null : failure.getValue());
                status = new JobStatusBuilder().withStartTime(now).withFailed(1).withActive(0)
                        .withConditions(
                                new JobConditionBuilder().withType("FailureTarget").withStatus("True").withReason("BackoffLimitExceeded")
                                        .withMessage("Job has reached the specified backoff limit").withLastTransitionTime(now).withLastProbeTime(now).build(),
                                new JobConditionBuilder().withType("Failed").withStatus("True").withReason("BackoffLimitExceeded")
                                        .withMessage("Job has reached the specified backoff limit").withLastTransitionTime(now).withLastProbeTime(now).build())
                        .build();
            }
            case IMAGE_PULL_BACKOFF -> {
                setPodWaiting(pod, "ImagePullBackOff", "Back-off pulling image \"" + pod.getSpec().getContainers().get(0).getImage() + "\"");
                status = new JobStatusBuilder().withStartTime(now).withActive(1).build();
            }
            case VOLUME_UNBOUND -> {
                // The message the real scheduler writes for a claim that no PersistentVolume matches.
                pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Pending")
                        .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                                .withLastTransitionTime(Instant.now().minus(VOLUME_UNBOUND_FOR).truncatedTo(ChronoUnit.SECONDS).toString())
                                .withMessage("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found").build())
                        .build());
                client.pods().inNamespace(namespace).resource(pod).updateStatus();
                status = new JobStatusBuilder().withStartTime(now).withActive(1).build();
            }
            default -> {
                setPodRunning(pod);
                status = new JobStatusBuilder().withStartTime(now).withActive(1).build();
            }
        }
        job.setStatus(status);
        client.batch().v1().jobs().inNamespace(namespace).resource(job).updateStatus();
    }

    /** The scheduler gives up on a running Job's pod for now (what a full node looks like). */
    void unschedulable(String jobName) {
        Edits.retryingConflicts(() -> {
            Pod pod = client.pods().inNamespace(namespace).withName(jobName + "-pod").get();
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Pending")
                    .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                            .withMessage("0/1 nodes are available: 1 Insufficient memory.").build())
                    .build());
            return client.pods().inNamespace(namespace).resource(pod).updateStatus();
        });
    }

    /** What the Job controller records when the API server refuses the Job's pod. */
    private void recordFailedCreate(Job job) {
        String now = now();
        client.v1().events().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                .withNewMetadata().withGenerateName(job.getMetadata().getName() + ".").endMetadata()
                .withNewInvolvedObject().withApiVersion("batch/v1").withKind("Job").withName(job.getMetadata().getName())
                    .withNamespace(namespace).withUid(job.getMetadata().getUid()).endInvolvedObject()
                .withType("Warning").withReason("FailedCreate")
                .withMessage("Error creating: pods \"" + job.getMetadata().getName() + "-x\" is forbidden: exceeded quota: "
                        + "pods, requested: pods=1, used: pods=2, limited: pods=2")
                .withNewSource().withComponent("job-controller").endSource()
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .build()).create();
    }

    /** Finishes a Job left running (HANG) the way the Job controller would. */
    void completeJob(String name) {
        // Only a Job this fake has started (its pod and startTime written): finishing one before would race that
        // write, and the API server refuses a finished Job without a startTime.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            Job job = client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
            return job != null && job.getStatus() != null && job.getStatus().getStartTime() != null;
        });
        Edits.retryingConflicts(() -> completeJobOnce(name));
    }

    /** What the Job's pod reports on its termination message when its step succeeds. */
    private String successReport(Job job) {
        return switch (job.getMetadata().getLabels().get(Labels.STEP)) {
            case "backup" -> "{\"bytes\":4096,\"sha256\":\"" + "ab".repeat(32) + "\",\"counts\":" + DUMPED_COUNTS
                    + ",\"inspection\":" + (inspects(job) ? inspectionReport : "null") + "}";
            case BackupVerificationJobBuilder.STEP -> verificationReport;
            case DatabaseRestoreJobBuilder.STEP -> "{\"restoreMillis\":140,\"counts\":" + DUMPED_COUNTS + "}";
            case RehearsalJobBuilder.STEP -> "{\"before\":282,\"after\":315,\"restoreMillis\":250}";
            case InspectionJobBuilder.STEP -> inspectionReport;
            case "rehearse-copy" -> "{\"dumpMillis\":1200,\"restoreMillis\":2300,\"bytes\":5400000,\"counts\":" + DUMPED_COUNTS + "}";
            case "freeze" -> "{\"frozenAtMillis\":" + Instant.now().toEpochMilli() + ",\"lockMillis\":3,\"sourceMajor\":15,\"targetMajor\":15}";
            case "copy" -> "{\"restoreMillis\":130,\"counts\":" + DUMPED_COUNTS + "}";
            case "replicate" -> "{\"initialSyncMillis\":800,\"tables\":22}";
            case "catch-up" -> "{\"catchUpMillis\":90,\"copyMillis\":400,\"sourceCounts\":" + DUMPED_COUNTS + ",\"counts\":" + DUMPED_COUNTS + "}";
            case "cleanup" -> "{\"thawed\":true,\"thawedAtMillis\":" + Instant.now().toEpochMilli() + ",\"emptied\":true}";
            default -> null;
        };
    }

    private Job completeJobOnce(String name) {
        Job job = client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
        // Its pod ends as a succeeded pod does, with the step's report.
        client.pods().inNamespace(namespace).withLabel("job-name", name).list().getItems()
                .forEach(pod -> setPodTerminated(pod, 0, successReport(job)));
        String now = now();
        job.setStatus(new JobStatusBuilder(job.getStatus()).withCompletionTime(now).withSucceeded(1).withActive(0)
                .withConditions(
                        new JobConditionBuilder().withType("SuccessCriteriaMet").withStatus("True").withReason("CompletionsReached")
                                .withLastTransitionTime(now).withLastProbeTime(now).build(),
                        new JobConditionBuilder().withType("Complete").withStatus("True").withReason("CompletionsReached")
                                .withLastTransitionTime(now).withLastProbeTime(now).build())
                .build());
        return client.batch().v1().jobs().inNamespace(namespace).resource(job).updateStatus();
    }

    private Pod createJobPod(Job job) {
        Map<String, String> labels = new HashMap<>(job.getSpec().getTemplate().getMetadata().getLabels());
        labels.put("job-name", job.getMetadata().getName());
        labels.put("batch.kubernetes.io/job-name", job.getMetadata().getName());
        Pod pod = new PodBuilder()
                .withNewMetadata()
                    .withName(job.getMetadata().getName() + "-pod")
                    .withNamespace(namespace)
                    .withLabels(labels)
                    .withAnnotations(job.getSpec().getTemplate().getMetadata().getAnnotations())
                    .addNewOwnerReference().withApiVersion("batch/v1").withKind("Job").withName(job.getMetadata().getName())
                        .withUid(job.getMetadata().getUid()).withController(true).endOwnerReference()
                .endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .build();
        return client.pods().inNamespace(namespace).resource(pod).create();
    }

    private void setPodTerminated(Pod pod, int exitCode, String message) {
        Container c = pod.getSpec().getContainers().get(0);
        // A rehearsal pod's restore container reports the verification of the dump.
        List<io.fabric8.kubernetes.api.model.ContainerStatus> init = pod.getSpec().getInitContainers() == null ? List.of()
                : pod.getSpec().getInitContainers().stream().map(ic -> new ContainerStatusBuilder().withName(ic.getName())
                        .withImage(ic.getImage()).withImageID("").withReady(false).withRestartCount(0)
                        .withNewState().withNewTerminated().withExitCode(0).withReason("Completed")
                        .withMessage(RehearsalJobBuilder.RESTORE_CONTAINER.equals(ic.getName()) ? verificationReport : null)
                        .endTerminated().endState().build()).toList();
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                .withInitContainerStatuses(init)
                .withContainerStatuses(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                        .withReady(false).withRestartCount(0)
                        .withNewState().withNewTerminated().withExitCode(exitCode).withMessage(message)
                        .withReason(exitCode == 0 ? "Completed" : "Error").endTerminated().endState().build())
                .build());
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    private void setPodWaiting(Pod pod, String reason, String message) {
        Container c = pod.getSpec().getContainers().get(0);
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Pending")
                .withContainerStatuses(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                        .withReady(false).withRestartCount(0)
                        .withNewState().withNewWaiting().withReason(reason).withMessage(message).endWaiting().endState().build())
                .build());
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    private void setPodRunning(Pod pod) {
        Container c = pod.getSpec().getContainers().get(0);
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
                .withContainerStatuses(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                        .withReady(true).withRestartCount(0)
                        .withNewState().withNewRunning().withStartedAt(now()).endRunning().endState().build())
                .build());
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    // ---- Deployment controller + kubelet ----

    private synchronized void onDeployment(Deployment d) {
        if (d.getMetadata().getDeletionTimestamp() != null) {
            // The garbage collector's foreground deletion: the pods go, then the finalizer that held the Deployment.
            client.pods().inNamespace(namespace).list().getItems().stream().filter(p -> ownedBy(p, d))
                    .forEach(p -> client.pods().inNamespace(namespace).resource(p).withGracePeriod(0).delete());
            try {
                Edits.retryingConflicts(() -> client.apps().deployments().inNamespace(namespace).withName(d.getMetadata().getName())
                        .edit(current -> { current.getMetadata().setFinalizers(java.util.List.of()); return current; }));
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 404) throw e; // already gone
            }
            return;
        }
        long generation = d.getMetadata().getGeneration();
        int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        String image = d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        boolean ready = !neverReadyImages.contains(image);
        if (deploymentImages.isEmpty() || !deploymentImages.get(deploymentImages.size() - 1).equals(image)) {
            deploymentImages.add(image);
        }
        if (d.getStatus() != null && d.getStatus().getObservedGeneration() != null
                && d.getStatus().getObservedGeneration() == generation) {
            return;
        }
        // Its own pods only: a blue/green new side's pods carry the old Deployment's labels too.
        List<Pod> pods = client.pods().inNamespace(namespace).withLabels(d.getSpec().getSelector().getMatchLabels()).list().getItems()
                .stream().filter(p -> ownedBy(p, d)).toList();
        String now = now();
        if (desired == 0) {
            // Scaled to zero: every pod goes, whatever its image.
            pods.forEach(p -> client.pods().inNamespace(namespace).resource(p).withGracePeriod(0).delete());
            d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas(0).withUpdatedReplicas(0)
                    .withReadyReplicas(0).withAvailableReplicas(0).build());
        } else if (ready) {
            // Replace every pod that does not run the template, then bring the count to the desired number.
            for (Pod p : pods) {
                if (!image.equals(p.getSpec().getContainers().get(0).getImage())) {
                    client.pods().inNamespace(namespace).resource(p).withGracePeriod(0).delete();
                }
            }
            long current = pods.stream().filter(p -> image.equals(p.getSpec().getContainers().get(0).getImage())).count();
            List<Pod> matching = new ArrayList<>(pods.stream().filter(p -> image.equals(p.getSpec().getContainers().get(0).getImage())).toList());
            boolean oneUnready = unreadyAfterRolloutImages.contains(image);
            for (long i = current; i < desired; i++) {
                matching.add(createReadyPod(d, image, !(oneUnready && i == current)));
            }
            for (int i = desired; i < matching.size(); i++) {
                client.pods().inNamespace(namespace).resource(matching.get(i)).withGracePeriod(0).delete();
            }
            d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas(desired)
                    .withUpdatedReplicas(desired).withReadyReplicas(desired).withAvailableReplicas(desired)
                    .withConditions(
                            new DeploymentConditionBuilder().withType("Available").withStatus("True").withReason("MinimumReplicasAvailable")
                                    .withLastTransitionTime(now).withLastUpdateTime(now).build(),
                            new DeploymentConditionBuilder().withType("Progressing").withStatus("True").withReason("NewReplicaSetAvailable")
                                    .withLastTransitionTime(now).withLastUpdateTime(now).build())
                    .build());
        } else {
            // The new ReplicaSet's pod never becomes ready; the old pods keep serving (maxUnavailable 0 style).
            createReadyPod(d, image, false);
            long oldReady = pods.stream().filter(p -> !image.equals(p.getSpec().getContainers().get(0).getImage())).count();
            d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas((int) oldReady + 1)
                    .withUpdatedReplicas(1).withReadyReplicas((int) oldReady).withAvailableReplicas((int) oldReady)
                    .withUnavailableReplicas(1)
                    .withConditions(new DeploymentConditionBuilder().withType("Progressing").withStatus("True")
                            .withReason("ReplicaSetUpdated").withLastTransitionTime(now).withLastUpdateTime(now).build())
                    .build());
        }
        client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }

    /** Controlled by the Deployment's ReplicaSet of the pod's own hash, as the real controllers leave them. */
    private static boolean ownedBy(Pod pod, Deployment d) {
        String hash = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get("pod-template-hash");
        return pod.getMetadata().getOwnerReferences() != null && pod.getMetadata().getOwnerReferences().stream()
                .anyMatch(o -> "ReplicaSet".equals(o.getKind()) && (d.getMetadata().getName() + "-" + hash).equals(o.getName()));
    }

    private Pod createReadyPod(Deployment d, String image, boolean ready) {
        Map<String, String> labels = new HashMap<>(d.getSpec().getTemplate().getMetadata().getLabels());
        String hash = Integer.toHexString((d.getMetadata().getName() + image).hashCode() & 0xfffffff);
        labels.put("pod-template-hash", hash);
        Pod pod = client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withGenerateName(d.getMetadata().getName() + "-").withNamespace(namespace).withLabels(labels)
                    .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(d.getMetadata().getName() + "-" + hash)
                        .withUid(java.util.UUID.nameUUIDFromBytes((d.getMetadata().getName() + hash).getBytes()).toString()).withController(true)
                    .endOwnerReference()
                .endMetadata()
                .withSpec(d.getSpec().getTemplate().getSpec())
                .build()).create();
        Container c = pod.getSpec().getContainers().get(0);
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus(ready ? "True" : "False").build())
                .withContainerStatuses(new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                        .withReady(ready).withRestartCount(0).withNewState().withNewRunning().withStartedAt(now()).endRunning().endState().build())
                .build());
        return client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** A backup Job that inspects the database first carries the migration lists. */
    private static boolean inspects(Job job) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .anyMatch(e -> e.getName().equals("TARGET_MIGRATIONS"));
    }

}
