package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.resources.MigrationJobBuilder;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MigrationJobBuilderTest {

    private static final String JOB = "kratos-upgrade-1-migrate";

    private static Job build(PodSpec pod, Container server, String version) {
        return MigrationJobBuilder.build(new MigrationJobBuilder.Input(Fixtures.upgrade(), 1, JOB, pod, server,
                "oryd/kratos:" + version, Kratos.INSTANCE.migrateArgs(KratosVersion.parse(version)), Duration.ofMinutes(15)));
    }

    private static Job buildFromFixture(String version) {
        PodSpec pod = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        return build(pod, pod.getContainers().get(0), version);
    }

    @Test
    void keepsWhatTheServerNeedsToReachTheDatabase() {
        PodSpec template = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        Container server = template.getContainers().get(0);

        Job job = build(template, server, "v1.3.1");
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container migrate = pod.getContainers().get(0);

        assertThat(pod.getContainers()).hasSize(1);
        assertThat(migrate.getEnv()).isEqualTo(server.getEnv());
        assertThat(migrate.getEnv().get(0).getValueFrom().getSecretKeyRef().getName()).isEqualTo("kratos-secrets");
        assertThat(migrate.getEnvFrom()).isEqualTo(server.getEnvFrom());
        assertThat(migrate.getVolumeMounts()).isEqualTo(server.getVolumeMounts());
        // The server's own settings, made admissible under the restricted Pod Security Standard.
        assertThat(migrate.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(migrate.getSecurityContext().getRunAsUser()).isEqualTo(10000L);
        assertThat(migrate.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(server.getSecurityContext().getAllowPrivilegeEscalation()).as("the template is not modified").isNull();
        assertThat(migrate.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(pod.getVolumes()).isEqualTo(template.getVolumes());
        assertThat(pod.getServiceAccountName()).isEqualTo("kratos");
        assertThat(pod.getSecurityContext()).isEqualTo(template.getSecurityContext());
        assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("regcred");
    }

    @Test
    void runsTheTargetImagesMigrateCommandWithTheServersConfig() {
        Container migrate = buildFromFixture("v1.3.1").getSpec().getTemplate().getSpec().getContainers().get(0);

        assertThat(migrate.getName()).isEqualTo("migrate");
        assertThat(migrate.getImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(migrate.getCommand()).as("the image's entrypoint (kratos, hydra or keto), as the server's").isNullOrEmpty();
        assertThat(migrate.getArgs()).containsExactly("migrate", "sql", "-e", "--yes", "--config", "/etc/config/kratos.yaml");
    }

    @Test
    void calendarVersionUsesMigrateSqlUp() {
        Container migrate = buildFromFixture("v25.4.0").getSpec().getTemplate().getSpec().getContainers().get(0);

        assertThat(migrate.getArgs()).containsExactly("migrate", "sql", "up", "-e", "--yes", "--config", "/etc/config/kratos.yaml");
    }

    @Test
    void usesTheServersOwnBinaryWhenItSetsACommand() {
        PodSpec template = Fixtures.kratosPodSpec(Fixtures.OLD_IMAGE);
        Container server = new ContainerBuilder(template.getContainers().get(0)).withCommand("/usr/bin/kratos", "--unused").build();

        Container migrate = build(template, server, "v1.3.1").getSpec().getTemplate().getSpec().getContainers().get(0);

        assertThat(migrate.getCommand()).containsExactly("/usr/bin/kratos");
    }

    @Test
    void dropsWhatMakesAServerAServer() {
        Job job = buildFromFixture("v1.3.1");
        PodTemplateSpec template = job.getSpec().getTemplate();
        Container migrate = template.getSpec().getContainers().get(0);

        assertThat(migrate.getReadinessProbe()).isNull();
        assertThat(migrate.getLivenessProbe()).isNull();
        assertThat(migrate.getStartupProbe()).isNull();
        assertThat(migrate.getPorts()).isNullOrEmpty();
        assertThat(template.getMetadata().getLabels()).doesNotContainKey("app")
                .containsEntry(Labels.MANAGED_BY, Labels.OPERATOR)
                .containsEntry(Labels.JOB, JOB)
                .containsEntry(Labels.STEP, "migrate")
                .containsEntry(Labels.RUN, "1");
        assertThat(template.getMetadata().getAnnotations()).containsEntry(Labels.UPGRADE_ANNOTATION, Fixtures.NAME);
    }

    @Test
    void runsOnceWithinTheTimeout() {
        Job job = buildFromFixture("v1.3.1");

        assertThat(job.getMetadata().getName()).isEqualTo(JOB);
        assertThat(job.getMetadata().getNamespace()).isEqualTo(Fixtures.NS);
        assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
    }

    @Test
    void onlyNativeSidecarInitContainersSurvive() {
        PodSpec pod = buildFromFixture("v1.3.1").getSpec().getTemplate().getSpec();

        // The auto-migrate init container would run the OLD release's migrations: it must not come along.
        assertThat(pod.getInitContainers()).extracting(Container::getName).containsExactly("cloud-sql-proxy");
        assertThat(pod.getInitContainers().get(0).getRestartPolicy()).isEqualTo("Always");
    }
}
