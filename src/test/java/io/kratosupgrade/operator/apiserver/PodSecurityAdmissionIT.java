package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.product.Kratos;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.resources.BackupJobBuilder;
import io.kratosupgrade.operator.resources.MigrationJobBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real API server's PodSecurity admission, {@code restricted} enforced, judges the pods of the Jobs the
 * operator builds from Kratos pod templates that are themselves admissible but set things at different
 * levels (seccomp on each container rather than on the pod, and so on). Pods are created with a server-side
 * dry run: admission runs, nothing is stored.
 */
class PodSecurityAdmissionIT {

    static KubernetesClient client;
    static String namespace;

    @BeforeAll
    static void restrictedNamespace() {
        client = TestApiServer.client();
        namespace = "restricted-" + UUID.randomUUID().toString().substring(0, 8);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
                .withLabels(Map.of("pod-security.kubernetes.io/enforce", "restricted",
                        "pod-security.kubernetes.io/enforce-version", "latest"))
                .endMetadata().build()).create();
    }

    static Stream<Arguments> kratosPodTemplates() {
        return Stream.of(
                Arguments.of("seccomp and runAsNonRoot on each container, nothing on the pod", new PodSpecBuilder()
                        .addNewContainer().withName("kratos").withImage("oryd/kratos:v1.0.0")
                            .withNewSecurityContext().withRunAsNonRoot(true).withAllowPrivilegeEscalation(false)
                                .withNewCapabilities().withDrop("ALL").endCapabilities()
                                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                            .endSecurityContext()
                        .endContainer().build()),
                Arguments.of("everything on the pod", new PodSpecBuilder()
                        .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10000L)
                            .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                        .addNewContainer().withName("kratos").withImage("oryd/kratos:v1.0.0")
                            .withNewSecurityContext().withAllowPrivilegeEscalation(false)
                                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                        .endContainer().build()),
                Arguments.of("a native sidecar proxy beside Kratos", new PodSpecBuilder()
                        .withNewSecurityContext().withRunAsNonRoot(true)
                            .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                        .addNewInitContainer().withName("proxy").withImage("proxy:1").withRestartPolicy("Always")
                            .withNewSecurityContext().withAllowPrivilegeEscalation(false)
                                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                        .endInitContainer()
                        .addNewContainer().withName("kratos").withImage("oryd/kratos:v1.0.0")
                            .withNewSecurityContext().withAllowPrivilegeEscalation(false)
                                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                        .endContainer().build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kratosPodTemplates")
    void backupAndMigrationPodsAreAdmittedWhereKratosIs(String description, PodSpec kratos) {
        assertThatCode(() -> dryRun("kratos", kratos)).as("the Kratos pod itself").doesNotThrowAnyException();
        KratosUpgrade ku = new KratosUpgrade();
        ku.getMetadata().setName("ku");
        ku.getMetadata().setNamespace(namespace);
        var container = kratos.getContainers().stream().filter(c -> c.getName().equals("kratos")).findFirst().orElseThrow();

        Job backup = BackupJobBuilder.build(new BackupJobBuilder.Input(ku, 1, "ku-1-backup", "ku-1-backup-db", "backups",
                "f.pgdump", DatabaseKind.POSTGRES, "db-tools:1", Duration.ofMinutes(5), kratos, container, Kratos.INSTANCE.coreTables(), null));
        Job migrate = MigrationJobBuilder.build(new MigrationJobBuilder.Input(ku, 1, "ku-1-migrate", kratos, container,
                "oryd/kratos:v1.3.1", List.of("migrate", "sql", "-e", "--yes"), Duration.ofMinutes(5)));

        assertThatCode(() -> dryRun("backup", backup.getSpec().getTemplate().getSpec())).doesNotThrowAnyException();
        assertThatCode(() -> dryRun("migrate", migrate.getSpec().getTemplate().getSpec())).doesNotThrowAnyException();
        assertThat(kratos.getContainers().get(kratos.getContainers().size() - 1).getSecurityContext().getRunAsNonRoot())
                .as("the template is left as it was").isNotEqualTo(Boolean.FALSE);
    }

    private static Pod dryRun(String name, PodSpec spec) {
        return client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).endMetadata().withSpec(spec).build()).dryRun().create();
    }
}
