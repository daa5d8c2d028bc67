package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.CopyRehearsalStatus;
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
        assertThat(controllers.jobsCreated).containsExactly("bg-1-check-target", "bg-1-rehearse-copy", "bg-1-freeze", "bg-1-backup", "bg-1-copy", "bg-1-migrate");
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
        assertThat(controllers.jobsCreated).containsExactly("bg-fails-1-check-target", "bg-fails-1-rehearse-copy", "bg-fails-1-freeze", "bg-fails-1-backup", "bg-fails-1-copy",
                "bg-fails-1-migrate", "bg-fails-1-thaw", "bg-fails-1-empty-target");
        assertThat(back.getStatus().getBlueGreen().getOldWritesRestored()).isTrue();
        assertThat(back.getStatus().getBlueGreen().getTargetEmptied()).isTrue();
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(namespace).withName(NEW_SIDE).get() == null);
        assertThat(service("kratos-public").getSpec().getSelector()).isEqualTo(Map.of("app", "kratos"));
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        assertThat(deploymentImage()).isEqualTo(OLD_IMAGE);
    }

    /**
     * copy Dump with approval: preflight rehearses the copy once, and the plan that waits names what it measured; the
     * operator reconciling again (an approval of another plan wakes it) neither rehearses again nor moves the hash, and
     * the approval of that hash runs the upgrade.
     */
    @Test
    void thePlanOfADumpRunNamesTheRehearsedCopyAndKeepsItsHashUntilApproved() {
        controllers.start();
        installBlueGreen();
        upgrade("bg-plan", "v1.3.1", spec -> {
            blueGreen(spec);
            spec.getApproval().setRequired(true);
        });

        KratosUpgrade waiting = awaitPhase("bg-plan", Phase.AwaitingApproval);
        CopyRehearsalStatus rehearsal = waiting.getStatus().getBlueGreen().getCopyRehearsal();
        assertThat(rehearsal.getJobName()).isEqualTo("bg-plan-1-rehearse-copy");
        assertThat(rehearsal.getDumpSeconds()).isEqualTo(1.2);
        assertThat(rehearsal.getRestoreSeconds()).isEqualTo(2.3);
        assertThat(rehearsal.getDumpBytes()).isEqualTo(5_400_000L);
        assertThat(rehearsal.getRestoredCounts()).containsEntry("identities", 3L);
        String hash = waiting.getStatus().getPlan().getHash();
        assertThat(waiting.getStatus().getPlan().getOutage()).contains("the dump took 1.2 s (5.4 MB) and the restore 2.3 s",
                "about 3.5 s plus the migration");
        assertThat(controllers.jobsCreated).as("nothing frozen before the approval").containsExactly("bg-plan-1-check-target", "bg-plan-1-rehearse-copy");
        await().atMost(WAIT).until(() -> client.secrets().inNamespace(namespace).withName("bg-plan-1-rehearse-copy-db").get() == null);

        approve("bg-plan", "0123456789ab");
        KratosUpgrade reconciled = awaitUpgrade("bg-plan", ku -> ku.getStatus().getMessage().contains("approval of plan 0123456789ab ignored"));
        assertThat(reconciled.getStatus().getPlan().getHash()).isEqualTo(hash);
        assertThat(reconciled.getStatus().getBlueGreen().getCopyRehearsal().getFinishedAt()).isEqualTo(rehearsal.getFinishedAt());

        approve("bg-plan", hash);
        KratosUpgrade kept = awaitUpgrade("bg-plan", ku -> ku.getStatus().getPhase() == Phase.KeepingOld || ku.getStatus().getPhase().isTerminal());
        assertThat(kept.getStatus().getPhase()).as(kept.getStatus().getFailureReason() + ": " + kept.getStatus().getFailureMessage())
                .isEqualTo(Phase.KeepingOld);
        assertThat(kept.getStatus().getPlan().getHash()).isEqualTo(hash);
        assertThat(controllers.jobsCreated).as("the rehearsal ran once").containsExactly("bg-plan-1-check-target", "bg-plan-1-rehearse-copy",
                "bg-plan-1-freeze", "bg-plan-1-backup", "bg-plan-1-copy", "bg-plan-1-migrate");
    }

    /** A rehearsal that fails ends the run in Failed before anything is frozen, with the Job's words and no password. */
    @Test
    void aFailedCopyRehearsalFailsTheRunBeforeTheFreezeWithTheJobsWordsRedacted() {
        controllers.failing("rehearse-copy", "psql: error: connection to server at \"db.example.internal\" failed: FATAL:  permission "
                + "denied for database \"kratos_green\" (" + TARGET_DSN + ")\nthe rehearsed restore failed; its transaction was rolled back "
                + "and the target is as it was").start();
        installBlueGreen();
        upgrade("bg-rehearsal", "v1.3.1", ApiServerTestBase::blueGreen);

        KratosUpgrade failed = awaitPhase("bg-rehearsal", Phase.Failed);

        assertThat(failed.getStatus().getFailureReason()).isEqualTo("CopyRehearsalFailed");
        assertThat(failed.getStatus().getFailureMessage()).contains("bg-rehearsal-1-rehearse-copy", "permission denied for database",
                "Nothing was changed");
        assertThat(controllers.jobsCreated).containsExactly("bg-rehearsal-1-check-target", "bg-rehearsal-1-rehearse-copy");
        assertThat(failed.getStatus().getBlueGreen().getFreeze()).isNull();
        assertThat(service("kratos-public").getSpec().getSelector()).isEqualTo(Map.of("app", "kratos"));
        assertThat(deployment().getSpec().getReplicas()).isEqualTo(2);
        awaitEvents("CopyRehearsalFailed");
        assertThat(failed.getStatus().toString() + failed.getStatus().getFailureMessage() + failed.getStatus().getConditions()
                + events().stream().map(e -> e.getMessage()).toList()).doesNotContain("an0ther");
        await().atMost(WAIT).until(() -> client.secrets().inNamespace(namespace).withName("bg-rehearsal-1-rehearse-copy-db").get() == null);
    }

    private void approve(String name, String hash) {
        Edits.retryingConflicts(() -> client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name)
                .edit(ku -> { ku.getMetadata().getAnnotations().put(KratosUpgrade.APPROVE_ANNOTATION, hash); return ku; }));
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
