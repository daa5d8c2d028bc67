package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import io.kratosupgrade.operator.testsupport.Edits;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * strategy BlueGreen against a real API server, with the fake Job and Deployment controllers: the Jobs in their order,
 * the new Deployment as the API server stores it, the Services as they are patched, and the way back.
 */
class BlueGreenIT extends ApiServerTestBase {

    static final String NEW_SIDE = "kratos-v1-3-1";
    static final String TARGET_DSN = "postgres://kratos2:an0ther%23pw@db.example.internal:5432/kratos_green";

    @Test
    void theNewSideStartsOnTheCopyTheServicesMoveAndTheOldSideIsReleasedOnRequest() {
        controllers.start();
        installBlueGreen();
        upgrade("bg", "v1.3.1", ApiServerTestBase::blueGreen);

        KratosUpgrade kept = awaitPhase("bg", Phase.KeepingOld);
        assertThat(controllers.jobsCreated).containsExactly("bg-1-check-target", "bg-1-freeze", "bg-1-backup", "bg-1-copy", "bg-1-migrate");
        Deployment newSide = client.apps().deployments().inNamespace(namespace).withName(NEW_SIDE).get();
        assertThat(newSide.getMetadata().getOwnerReferences()).as("it outlives the KratosUpgrade").isEmpty();
        assertThat(newSide.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("oryd/kratos:v1.3.1");
        assertThat(newSide.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("kratos");
        assertThat(deployment().getSpec().getReplicas()).as("the old side stays up").isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
        assertThat(service("kratos-public").getSpec().getSelector()).isEqualTo(Map.of("app", "kratos", ServiceSelectors.COLOUR, NEW_SIDE));
        assertThat(service("kratos-admin").getSpec().getSelector()).isEqualTo(Map.of("app", "kratos", ServiceSelectors.COLOUR, NEW_SIDE));
        assertThat(service("postgres").getSpec().getSelector()).as("not Kratos's").isEqualTo(Map.of("app", "postgres"));
        assertThat(kept.getStatus().getBlueGreen().getFreezeSeconds()).isNotNull().isNotNegative();
        assertThat(kept.getStatus().getBackup().getVerification().getResult()).isEqualTo("Verified");
        assertThat(client.secrets().inNamespace(namespace).withName("bg-1-freeze-db").get()).as("credentials gone").isNull();

        Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName("bg")
                .edit(ku -> { ku.getMetadata().getAnnotations().put(KratosUpgrade.FINALIZE_ANNOTATION, "1"); return ku; }));
        KratosUpgrade done = awaitPhase("bg", Phase.Succeeded);

        assertThat(deployment().getSpec().getReplicas()).isZero();
        assertThat(service("kratos-public").getSpec().getSelector()).as("its own selector, matching only the new pods now")
                .isEqualTo(Map.of("app", "kratos"));
        assertThat(done.getStatus().getMessage()).contains(NEW_SIDE + " serves on the target database");
        awaitEvents("WritesFrozen", "BackupComplete", "DatabaseCopied", "MigrationComplete", "NewSideReady", "TrafficSwitched",
                "FinalizeRequested", "OldSideReleased");
    }

    @Test
    void aNewSideThatNeverBecomesReadyLeavesTheOldSideServingWritableAndTheTargetEmptied() {
        controllers.neverReady("oryd/kratos:v1.3.1").start();
        installBlueGreen();
        upgrade("bg-fails", "v1.3.1", spec -> {
            blueGreen(spec);
            spec.getRollout().setTimeout("5s");
        });

        KratosUpgrade back = awaitPhase("bg-fails", Phase.RolledBack);

        assertThat(back.getStatus().getFailureReason()).isEqualTo("NewSideNotReady");
        assertThat(controllers.jobsCreated).containsExactly("bg-fails-1-check-target", "bg-fails-1-freeze", "bg-fails-1-backup", "bg-fails-1-copy",
                "bg-fails-1-migrate", "bg-fails-1-thaw", "bg-fails-1-empty-target");
        assertThat(back.getStatus().getBlueGreen().getOldWritesRestored()).isTrue();
        assertThat(back.getStatus().getBlueGreen().getTargetEmptied()).isTrue();
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(namespace).withName(NEW_SIDE).get() == null);
        assertThat(service("kratos-public").getSpec().getSelector()).isEqualTo(Map.of("app", "kratos"));
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
    }

    private void installBlueGreen() {
        installKratos();
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName("kratos-green-db").endMetadata()
                .withStringData(Map.of("dsn", TARGET_DSN)).build()).create();
        for (var entry : Map.of("kratos-public", "kratos", "kratos-admin", "kratos", "postgres", "postgres").entrySet()) {
            client.services().inNamespace(namespace).resource(new ServiceBuilder().withNewMetadata().withName(entry.getKey()).endMetadata()
                    .withNewSpec().withSelector(Map.of("app", entry.getValue())).addNewPort().withPort(80).endPort().endSpec().build()).create();
        }
    }

    private Service service(String name) {
        return client.services().inNamespace(namespace).withName(name).get();
    }
}
