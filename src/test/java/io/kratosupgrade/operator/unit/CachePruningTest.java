package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.observe.CachePruning;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CachePruningTest {

    @Test
    void aCachedJobKeepsItsStatusAndSuspendButNotItsPodTemplateOrManagedFields() {
        Job job = new JobBuilder().withNewMetadata().withName("kratos-1-migrate").addToLabels("a", "b")
                .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kube-controller-manager").build()).endMetadata()
                .withNewSpec().withSuspend(true).withNewTemplate().withNewSpec().addNewContainer().withName("migrate")
                .withArgs("a long script").endContainer().endSpec().endTemplate().endSpec()
                .withNewStatus().withSucceeded(1).endStatus().build();

        assertThat(CachePruning.jobs().accept(job)).isTrue();

        assertThat(job.getSpec().getTemplate()).isNull();
        assertThat(job.getSpec().getSuspend()).isTrue();
        assertThat(job.getStatus().getSucceeded()).isEqualTo(1);
        assertThat(job.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(job.getMetadata().getLabels()).containsEntry("a", "b");
    }

    @Test
    void aCachedJobPodKeepsWhatAStepReadsOfItsStatusAndNothingElse() {
        Pod pod = new PodBuilder().withNewMetadata().withName("kratos-1-migrate-x").addToLabels("job-name", "kratos-1-migrate")
                .withCreationTimestamp("2026-11-30T04:00:00Z").endMetadata()
                .withNewSpec().addNewContainer().withName("migrate").withImage("oryd/kratos:v1.3.1").endContainer().endSpec()
                .withNewStatus().withPhase("Failed").withHostIP("10.0.0.1").withPodIP("10.1.0.7").withQosClass("Burstable")
                .addNewCondition().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                .withMessage("persistentvolumeclaim \"backups\" not found").withLastTransitionTime("2026-11-30T04:00:01Z")
                .withLastProbeTime("2026-11-30T04:00:02Z").endCondition()
                .addNewInitContainerStatus().withName("wait").withImage("busybox").withImageID("sha256:1")
                .withNewState().withNewTerminated().withExitCode(0).endTerminated().endState().endInitContainerStatus()
                .addNewContainerStatus().withName("migrate").withImage("oryd/kratos:v1.3.1").withContainerID("containerd://a")
                .withRestartCount(0).withReady(false).addNewVolumeMount().withName("config").withMountPath("/etc/config").endVolumeMount()
                .withNewState().withNewTerminated().withExitCode(1).withReason("Error").withMessage("migration failed")
                .withStartedAt("2026-11-30T04:00:03Z").withFinishedAt("2026-11-30T04:00:05Z").endTerminated().endState()
                .endContainerStatus().endStatus().build();

        assertThat(CachePruning.jobPods().accept(pod)).isTrue();

        assertThat(pod.getSpec()).isNull();
        assertThat(pod.getMetadata().getLabels()).containsEntry("job-name", "kratos-1-migrate");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Failed");
        assertThat(pod.getStatus().getPodIP()).isNull();
        assertThat(pod.getStatus().getHostIP()).isNull();
        assertThat(pod.getStatus().getQosClass()).isNull();
        var scheduled = pod.getStatus().getConditions().get(0);
        assertThat(scheduled.getReason()).isEqualTo("Unschedulable");
        assertThat(scheduled.getMessage()).contains("backups");
        assertThat(scheduled.getLastTransitionTime()).isEqualTo("2026-11-30T04:00:01Z");
        assertThat(scheduled.getLastProbeTime()).isNull();
        ContainerStatus migrate = pod.getStatus().getContainerStatuses().get(0);
        assertThat(migrate.getName()).isEqualTo("migrate");
        assertThat(migrate.getState().getTerminated().getExitCode()).isEqualTo(1);
        assertThat(migrate.getState().getTerminated().getMessage()).isEqualTo("migration failed");
        assertThat(migrate.getState().getTerminated().getFinishedAt()).isEqualTo("2026-11-30T04:00:05Z");
        assertThat(migrate.getImage()).isNull();
        assertThat(migrate.getContainerID()).isNull();
        assertThat(migrate.getVolumeMounts()).isNullOrEmpty();
        assertThat(pod.getStatus().getInitContainerStatuses()).extracting(ContainerStatus::getName).containsExactly("wait");
        assertThat(pod.getStatus().getInitContainerStatuses().get(0).getImageID()).isNull();
    }

    @Test
    void aCachedDeploymentKeepsOnlyTheManagedFieldsOfGitOpsControllers() {
        Deployment d = Fixtures.deployment("oryd/kratos:v1.1.0");
        d.getMetadata().setManagedFields(new ArrayList<>(List.of(
                new ManagedFieldsEntryBuilder().withManager("kube-controller-manager").build(),
                new ManagedFieldsEntryBuilder().withManager("kustomize-controller").build())));

        CachePruning.deployments().accept(d);

        assertThat(d.getMetadata().getManagedFields()).extracting(f -> f.getManager()).containsExactly("kustomize-controller");
        assertThat(d.getSpec().getTemplate().getSpec().getContainers()).isNotEmpty();
    }

    @Test
    void theFleetsViewOfAnUpgradeIsItsStateAndOnlyAChangeOfThatStateWakesTheFleet() {
        KratosUpgrade before = upgrade(Phase.Migrating, "migrating: Job is starting");
        KratosUpgrade progressed = upgrade(Phase.Migrating, "migrating: Job is running");
        KratosUpgrade failed = upgrade(Phase.Failed, "migration failed");
        failed.getStatus().setFailureReason("MigrationFailed");
        var view = new CachePruning.FleetUpgrades();
        List.of(before, progressed, failed).forEach(view::accept);

        assertThat(before.getStatus().getMessage()).isNull();
        assertThat(before.getStatus().getPhase()).isEqualTo(Phase.Migrating);
        assertThat(before.getStatus().getRunGeneration()).isEqualTo(1L);
        assertThat(CachePruning.<KratosUpgrade>viewChanged().accept(progressed, before)).isFalse();
        assertThat(CachePruning.<KratosUpgrade>viewChanged().accept(failed, progressed)).isTrue();
    }

    private static KratosUpgrade upgrade(Phase phase, String message) {
        KratosUpgrade ku = new KratosUpgrade();
        ku.getMetadata().setName("kratos");
        ku.getMetadata().setGeneration(1L);
        KratosUpgradeStatus status = new KratosUpgradeStatus();
        status.setPhase(phase);
        status.setRunGeneration(1L);
        status.setMessage(message);
        ku.setStatus(status);
        return ku;
    }
}
