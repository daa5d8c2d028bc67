package io.kratosupgrade.operator.unit;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.observe.DsnLocator;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.ZonedDateTime;
import io.kratosupgrade.operator.resources.Labels;
import java.time.Instant;
import java.util.ArrayList;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.kratosupgrade.operator.observe.BlueGreenObservation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Hand-built fabric8 objects and KratosUpgrades shared by the unit tests. */
final class Fixtures {

    static final String NS = "ory";
    static final String NAME = "kratos-upgrade";
    static final String UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    static final String DEPLOYMENT = "kratos";
    static final String OLD_IMAGE = "oryd/kratos:v1.1.0";
    static final String NEW_IMAGE = "oryd/kratos:v1.3.1";
    static final String CONFIG_ARG = "/etc/config/kratos.yaml";
    static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    /** A DSN whose password (decoded: {@value #PASSWORD}) must never show up in status or messages. */
    static final String PASSWORD = "Hunter2+s3cr3t@x";
    static final String POSTGRES_DSN =
            "postgres://kratos:Hunter2+s3cr3t%40x@db.ory.svc:5432/kratos?sslmode=disable&max_conns=20&max_idle_conns=4";

    private Fixtures() {
    }

    // ---------------------------------------------------------------- KratosUpgrade

    static KratosUpgrade upgrade() {
        return upgrade(NAME);
    }

    static KratosUpgrade upgrade(String name) {
        KratosUpgrade ku = new KratosUpgrade();
        ku.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).withUid(UID).withGeneration(1L).build());
        KratosUpgradeSpec spec = new KratosUpgradeSpec();
        spec.setDeploymentName(DEPLOYMENT);
        spec.setVersion("v1.3.1");
        spec.getBackup().setPersistentVolumeClaim("backups");
        ku.setSpec(spec);
        ku.setStatus(new KratosUpgradeStatus());
        return ku;
    }

    /** Another KratosUpgrade for the same Deployment, in the given phase. */
    static KratosUpgrade peer(String name, Phase phase) {
        KratosUpgrade peer = upgrade(name);
        peer.getMetadata().setUid("11111111-2222-3333-4444-555555555555");
        peer.getStatus().setPhase(phase);
        peer.getStatus().setRun(1);
        return peer;
    }

    // ---------------------------------------------------------------- Deployment and its pod template

    static Container kratosContainer(String image) {
        return new ContainerBuilder()
                .withName("kratos")
                .withImage(image)
                .withImagePullPolicy("IfNotPresent")
                .withArgs("serve", "all", "--config", CONFIG_ARG, "--dev")
                .addNewEnv().withName("DSN")
                    .withNewValueFrom().withNewSecretKeyRef().withName("kratos-secrets").withKey("dsn").endSecretKeyRef().endValueFrom()
                .endEnv()
                .addNewEnv().withName("LOG_LEVEL").withValue("debug").endEnv()
                .withEnvFrom(new EnvFromSourceBuilder().withNewConfigMapRef().withName("kratos-env").endConfigMapRef().build())
                .addNewVolumeMount().withName("kratos-config-volume").withMountPath("/etc/config").withReadOnly(true).endVolumeMount()
                .addNewPort().withName("http-public").withContainerPort(4433).endPort()
                .addNewPort().withName("http-admin").withContainerPort(4434).endPort()
                .withNewReadinessProbe().withNewHttpGet().withPath("/admin/health/ready").withPort(new IntOrString(4434)).endHttpGet()
                .endReadinessProbe()
                .withNewLivenessProbe().withNewHttpGet().withPath("/admin/health/alive").withPort(new IntOrString(4434)).endHttpGet()
                .endLivenessProbe()
                .withNewSecurityContext().withReadOnlyRootFilesystem(true).withRunAsUser(10000L).endSecurityContext()
                .build();
    }

    /** A pod template like the Ory Helm chart's, plus an auto-migrate init container and a native sidecar. */
    static PodSpec kratosPodSpec(String image) {
        return new PodSpecBuilder()
                .withServiceAccountName("kratos")
                .withNewSecurityContext().withRunAsNonRoot(true).withFsGroup(10000L).endSecurityContext()
                .addNewImagePullSecret("regcred")
                .addNewVolume().withName("kratos-config-volume")
                    .withNewConfigMap().withName("kratos-config").endConfigMap()
                .endVolume()
                .withInitContainers(
                        new ContainerBuilder().withName("kratos-automigrate").withImage(image)
                                .withArgs("migrate", "sql", "-e", "--yes").build(),
                        new ContainerBuilder().withName("cloud-sql-proxy").withImage("gcr.io/cloud-sql-proxy:2.14.0")
                                .withRestartPolicy("Always").build())
                .withContainers(kratosContainer(image))
                .build();
    }

    /** The Kratos Deployment, fully rolled out at generation 1 with 2 replicas. */
    static Deployment deployment(String image) {
        return new DeploymentBuilder()
                .withNewMetadata().withName(DEPLOYMENT).withNamespace(NS).withGeneration(1L).withResourceVersion("4711")
                .endMetadata()
                .withNewSpec()
                    .withReplicas(2)
                    .withNewSelector().addToMatchLabels("app", "kratos").endSelector()
                    .withNewTemplate()
                        .withNewMetadata().addToLabels("app", "kratos").endMetadata()
                        .withSpec(kratosPodSpec(image))
                    .endTemplate()
                .endSpec()
                .withNewStatus()
                    .withObservedGeneration(1L).withReplicas(2).withUpdatedReplicas(2).withReadyReplicas(2)
                    .withAvailableReplicas(2)
                .endStatus()
                .build();
    }

    /** The lock Lease as the API server keeps it once {@code holder} created it. */
    static Lease lockedBy(String holder) {
        Lease lease = UpgradeLock.lease(NS, DEPLOYMENT, holder, ZonedDateTime.parse("2026-01-01T00:00:00Z"));
        lease.getMetadata().setResourceVersion("4711");
        return lease;
    }

    static String imageOf(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    }

    // ---------------------------------------------------------------- DSN resolutions, through the real locator

    /** The DSN found in Secret kratos-secrets key dsn (how the fixture container references it). */
    static DsnResolution dsnFound(String dsn) {
        return DsnLocator.locate(kratosContainer(OLD_IMAGE), configData(Map.of("kratos-secrets", Map.of("dsn", dsn))));
    }

    /** The container references Secret kratos-secrets, which does not exist. */
    static DsnResolution dsnSecretMissing() {
        return DsnLocator.locate(kratosContainer(OLD_IMAGE), configData(Map.of()));
    }

    /** The container has no DSN variable at all. */
    static DsnResolution dsnNotDefined() {
        Container noDsn = new ContainerBuilder(kratosContainer(OLD_IMAGE))
                .withEnv(new ArrayList<>(kratosContainer(OLD_IMAGE).getEnv().subList(1, 2))).build();
        return DsnLocator.locate(noDsn, configData(Map.of()));
    }

    private static DsnLocator.ConfigData configData(Map<String, Map<String, String>> secrets) {
        return new DsnLocator.ConfigData() {
            @Override
            public Optional<Map<String, String>> secret(String name) {
                return Optional.ofNullable(secrets.get(name));
            }

            @Override
            public Optional<Map<String, String>> configMap(String name) {
                return Optional.of(Map.of("LOG_LEVEL", "debug"));
            }
        };
    }

    /** A configuration as read from the Deployment: one file's YAML, the container's environment, no identity schema. */
    static EffectiveConfig config(String yaml, Map<String, String> environment) {
        try {
            return new EffectiveConfig(new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                    .readTree(yaml), environment, List.of(), List.of("/etc/config/kratos.yaml (ConfigMap kratos-config key kratos.yaml)"),
                    new ArrayList<>());
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    // ---------------------------------------------------------------- Jobs and pods

    static Job job(String name) {
        return new JobBuilder().withNewMetadata().withName(name).withNamespace(NS).withUid(jobUid(name)).endMetadata()
                .withNewSpec().withBackoffLimit(0).endSpec()
                .withNewStatus().withActive(1).endStatus()
                .build();
    }

    /** The uid of {@link #job}, which the Job's pods name as their owner. */
    static String jobUid(String name) {
        return "uid-" + name;
    }

    static Job completeJob(String name) {
        return new JobBuilder(job(name)).editStatus().withActive(0).withSucceeded(1)
                .addNewCondition().withType("SuccessCriteriaMet").withStatus("True").endCondition()
                .addNewCondition().withType("Complete").withStatus("True").endCondition()
                .endStatus().build();
    }

    static Job failedJob(String name, String reason) {
        return new JobBuilder(job(name)).editStatus().withActive(0).withFailed(1)
                .addNewCondition().withType("FailureTarget").withStatus("True").withReason(reason).endCondition()
                .addNewCondition().withType("Failed").withStatus("True").withReason(reason)
                    .withMessage("Job has reached the specified backoff limit").endCondition()
                .endStatus().build();
    }

    /** A Job pod whose container waits for the given reason (ContainerCreating, ErrImagePull, ...). */
    static Pod waitingPod(String jobName, String container, String reason) {
        return new PodBuilder()
                .withNewMetadata().withName(jobName + "-x7k2p").withNamespace(NS).addToLabels(Labels.JOB, jobName)
                    .addNewOwnerReference().withApiVersion("batch/v1").withKind("Job").withName(jobName).withUid(jobUid(jobName))
                    .withController(true).endOwnerReference().endMetadata()
                .withNewSpec().addNewContainer().withName(container).withImage("some/image:1").endContainer().endSpec()
                .withNewStatus().withPhase("Pending")
                    .addNewContainerStatus().withName(container).withReady(false).withRestartCount(0)
                        .withNewState().withNewWaiting().withReason(reason).withMessage("details of " + reason).endWaiting()
                        .endState()
                    .endContainerStatus()
                .endStatus()
                .build();
    }

    /** A Job pod whose container exited. */
    /**
     * The rehearsal Job's pod after it ran: restore and the database sidecar, then migrate-1 from 10:00:00 to
     * 10:00:07 exiting {@code migrateExit} with {@code migrateLog} (its log tail), then the report (when migrate-1
     * succeeded).
     */
    static Pod rehearsalPod(String jobName, int migrateExit, String report, String migrateLog) {
        var status = new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase(migrateExit == 0 ? "Succeeded" : "Failed")
                .addNewInitContainerStatus().withName("restore").withNewState().withNewTerminated().withExitCode(0)
                    .withReason("Completed").withMessage(UpgradeScenario.VERIFICATION_REPORT).endTerminated().endState()
                    .endInitContainerStatus()
                .addNewInitContainerStatus().withName("database").withNewState().withNewTerminated().withExitCode(0)
                    .withReason("Completed").endTerminated().endState().endInitContainerStatus()
                .addNewInitContainerStatus().withName("migrate-1").withNewState().withNewTerminated().withExitCode(migrateExit)
                    .withReason(migrateExit == 0 ? "Completed" : "Error").withMessage(migrateLog)
                    .withStartedAt("2026-11-29T10:00:00Z").withFinishedAt("2026-11-29T10:00:07Z").endTerminated().endState()
                    .endInitContainerStatus();
        if (migrateExit == 0) {
            status.addNewContainerStatus().withName("report").withNewState().withNewTerminated().withExitCode(0)
                    .withReason("Completed").withMessage(report).endTerminated().endState().endContainerStatus();
        }
        return new PodBuilder()
                .withNewMetadata().withName(jobName + "-r4t5y").withNamespace(NS).addToLabels(Labels.JOB, jobName).endMetadata()
                .withNewSpec().addNewContainer().withName("report").withImage("some/image:1").endContainer().endSpec()
                .withStatus(status.build())
                .build();
    }

    /** The rehearsal Job's pod after its restore container reported {@code report}; the database sidecar runs. */
    static Pod rehearsalPodRestored(String jobName, String report) {
        return new PodBuilder()
                .withNewMetadata().withName(jobName + "-r4t5y").withNamespace(NS).addToLabels(Labels.JOB, jobName).endMetadata()
                .withNewSpec().addNewContainer().withName("report").withImage("some/image:1").endContainer().endSpec()
                .withNewStatus().withPhase("Pending")
                    .addNewInitContainerStatus().withName("restore").withNewState().withNewTerminated().withExitCode(0)
                        .withReason("Completed").withMessage(report).endTerminated().endState().endInitContainerStatus()
                    .addNewInitContainerStatus().withName("database").withNewState().withNewRunning().endRunning().endState()
                        .endInitContainerStatus()
                .endStatus()
                .build();
    }

    static Pod terminatedPod(String jobName, String container, int exitCode, String reason, String message) {
        return new PodBuilder()
                .withNewMetadata().withName(jobName + "-q9w8e").withNamespace(NS).addToLabels(Labels.JOB, jobName)
                    .addNewOwnerReference().withApiVersion("batch/v1").withKind("Job").withName(jobName).withUid(jobUid(jobName))
                    .withController(true).endOwnerReference().endMetadata()
                .withNewSpec().addNewContainer().withName(container).withImage("some/image:1").endContainer().endSpec()
                .withNewStatus().withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                    .addNewContainerStatus().withName(container).withReady(false).withRestartCount(0)
                        .withNewState().withNewTerminated().withExitCode(exitCode).withReason(reason).withMessage(message)
                        .endTerminated().endState()
                    .endContainerStatus()
                .endStatus()
                .build();
    }

    /** A Kratos pod of the Deployment, ready or not, running the given image. */
    static Pod kratosPod(String name, String image, boolean ready) {
        return new PodBuilder()
                .withNewMetadata().withName(name).withNamespace(NS).addToLabels("app", "kratos").endMetadata()
                .withNewSpec().addNewContainer().withName("kratos").withImage(image).endContainer().endSpec()
                .withNewStatus().withPhase("Running")
                    .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus()
                .build();
    }

    /** A Service with the given selector. */
    static Service service(String name, Map<String, String> selector) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withSelector(new HashMap<>(selector)).endSpec().build();
    }

    /** A Kratos pod of one of the Deployment's ReplicaSets: it carries the ReplicaSet's pod-template-hash. */
    static Pod kratosPod(String name, String image, boolean ready, String podTemplateHash) {
        Pod pod = kratosPod(name, image, ready);
        pod.getMetadata().getLabels().put("pod-template-hash", podTemplateHash);
        return pod;
    }

    // ---------------------------------------------------------------- the observed cluster

    /** A mutable picture of the cluster that turns into an {@link Observation} for each decision. */
    static final class World {
        Deployment deployment = deployment(OLD_IMAGE);
        final Map<String, Job> jobs = new HashMap<>();
        final Map<String, List<Pod>> pods = new HashMap<>();
        final Map<String, String> podCreationFailures = new HashMap<>();
        final List<KratosUpgrade> peers = new ArrayList<>();
        Lease lock;
        Boolean backupVolumeExists = true;
        DsnResolution dsn = dsnFound(POSTGRES_DSN);
        EffectiveConfig config = config("dsn: memory\nselfservice:\n  default_browser_return_url: http://x/\n", Map.of());
        final List<Pod> deploymentPods = new ArrayList<>();
        boolean migrationSlot = true;
        /** BlueGreen: the new Deployment, its pods, the namespace's Services, the target database's DSN. */
        Deployment newSide;
        final List<Pod> newSidePods = new ArrayList<>();
        final List<Service> services = new ArrayList<>();
        DsnResolution targetDsn;
        /** BlueGreen copy Replication: spec.blueGreen.replication's DSNs (null: not set, the defaults apply). */
        DsnResolution publisherDsn;
        DsnResolution subscriberDsn;

        Observation observe() {
            return new Observation(deployment, Map.copyOf(jobs), Map.copyOf(pods), Map.copyOf(podCreationFailures), List.copyOf(peers), lock,
                    backupVolumeExists, dsn, config, List.copyOf(deploymentPods), migrationSlot,
                    new BlueGreenObservation(newSide, List.copyOf(newSidePods), List.copyOf(services), targetDsn,
                            publisherDsn, subscriberDsn));
        }

        void putJob(Job job, Pod... jobPods) {
            jobs.put(job.getMetadata().getName(), job);
            pods.put(job.getMetadata().getName(), List.of(jobPods));
        }

        /** What the API server does when the operator sets an image: a new generation not yet observed. */
        void setImage(String image) {
            Deployment d = deployment;
            d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
            d.getMetadata().setGeneration(d.getMetadata().getGeneration() + 1);
        }

        void setReplicas(int replicas) {
            deployment.getSpec().setReplicas(replicas);
            deployment.getMetadata().setGeneration(deployment.getMetadata().getGeneration() + 1);
        }

        /** The Deployment controller has observed the newest generation but the new pods are not yet updated. */
        void rolloutInProgress() {
            deployment.getStatus().setObservedGeneration(deployment.getMetadata().getGeneration());
            deployment.getStatus().setUpdatedReplicas(1);
            deployment.getStatus().setReplicas(3);
            deployment.getStatus().setAvailableReplicas(2);
        }

        /** The rollout has completed at the current generation and replica count. */
        void rolloutComplete() {
            int replicas = deployment.getSpec().getReplicas();
            deployment.getStatus().setObservedGeneration(deployment.getMetadata().getGeneration());
            deployment.getStatus().setReplicas(replicas);
            deployment.getStatus().setUpdatedReplicas(replicas);
            deployment.getStatus().setReadyReplicas(replicas);
            deployment.getStatus().setAvailableReplicas(replicas);
        }
    }
}
