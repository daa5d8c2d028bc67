package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.Mode;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.preflight.GitOpsOwnership;
import io.kratosupgrade.operator.resources.Labels;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Living beside a GitOps tool: Managed mode refuses a Deployment whose image the tool applies, Gate mode never
 * writes the Deployment and follows the rollout someone else makes, and after a run an image put back is
 * reported, never fought.
 */
class GitOpsTest {

    private final UpgradeScenario s = new UpgradeScenario();

    private Condition condition(String type) {
        return Conditions.get(s.status(), type).orElseThrow(() -> new AssertionError("no condition " + type));
    }

    /** managedFields as the API server writes them for a server-side apply of the whole Deployment by {@code manager}. */
    static ManagedFieldsEntry applied(String manager, String container, boolean withImage) {
        Map<String, Object> containerFields = new HashMap<>();
        containerFields.put(".", Map.of());
        containerFields.put("f:name", Map.of());
        if (withImage) containerFields.put("f:image", Map.of());
        FieldsV1 fields = new FieldsV1();
        fields.setAdditionalProperty("f:spec", Map.of("f:replicas", Map.of(), "f:template", Map.of("f:spec",
                Map.of("f:containers", Map.of("k:{\"name\":\"" + container + "\"}", containerFields)))));
        return new ManagedFieldsEntryBuilder().withManager(manager).withOperation("Apply").withApiVersion("apps/v1")
                .withFieldsType("FieldsV1").withFieldsV1(fields).build();
    }

    @Nested
    class OwnerDetection {

        @Test
        void theFieldManagerThatOwnsTheImageNamesTheTool() {
            s.world.deployment.getMetadata().setManagedFields(List.of(applied("kube-controller-manager", "kratos", false),
                    applied("kustomize-controller", "kratos", true)));

            assertThat(GitOpsOwnership.of(s.world.deployment, "kratos")).hasValueSatisfying(o -> {
                assertThat(o.tool()).isEqualTo("Flux");
                assertThat(o.evidence()).contains("kustomize-controller").contains("kratos");
            });
            assertThat(GitOpsOwnership.of(s.world.deployment, "sidecar")).as("another container's image").isEmpty();
        }

        @Test
        void aToolThatOwnsOtherFieldsButNotTheImageDoesNotCount() {
            s.world.deployment.getMetadata().setManagedFields(List.of(applied("argocd-controller", "kratos", false)));

            assertThat(GitOpsOwnership.of(s.world.deployment, "kratos")).isEmpty();
        }

        @Test
        void argoTrackingAnnotationAndFluxLabelsCountWithoutManagedFields() {
            s.world.deployment.getMetadata().setAnnotations(Map.of("argocd.argoproj.io/tracking-id", "kratos:apps/Deployment:ory/kratos"));
            assertThat(GitOpsOwnership.of(s.world.deployment, "kratos")).hasValueSatisfying(o -> assertThat(o.tool()).isEqualTo("Argo CD"));

            s.world.deployment.getMetadata().setAnnotations(Map.of());
            s.world.deployment.getMetadata().setLabels(Map.of("kustomize.toolkit.fluxcd.io/name", "kratos"));
            assertThat(GitOpsOwnership.of(s.world.deployment, "kratos")).hasValueSatisfying(o -> assertThat(o.tool()).isEqualTo("Flux"));
        }

        @Test
        void fluxToldToApplyCreateOnlyDoesNotFight() {
            s.world.deployment.getMetadata().setManagedFields(List.of(applied("kustomize-controller", "kratos", true)));
            s.world.deployment.getMetadata().setLabels(Map.of("kustomize.toolkit.fluxcd.io/name", "kratos"));
            s.world.deployment.getMetadata().setAnnotations(Map.of("kustomize.toolkit.fluxcd.io/ssa", "IfNotPresent"));

            assertThat(GitOpsOwnership.of(s.world.deployment, "kratos")).isEmpty();
        }

        @Test
        void managedModeRefusesAGitOpsOwnedImageAndTouchesNothing() {
            s.world.deployment.getMetadata().setManagedFields(List.of(applied("kustomize-controller", "kratos", true)));
            s.toPreflight();
            Decision d = s.decideInPreflight();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("ManagedByGitOps");
            assertThat(s.status().getMessage()).contains("kustomize-controller").contains("spec.mode: Gate")
                    .contains("spec.imageExcludedFromGitOps: true");
            assertThat(d.events()).anySatisfy(e -> assertThat(e.reason()).isEqualTo("ManagedByGitOps"));
            assertThat(d.actions()).noneMatch(a -> a instanceof Action.CreateJob || a instanceof Action.AcquireLock
                    || a instanceof Action.PatchDeployment);
        }

        @Test
        void aCarvedOutImageOrGateModeIsNotRefused() {
            s.world.deployment.getMetadata().setManagedFields(List.of(applied("argocd-controller", "kratos", true)));
            s.ku.getSpec().setImageExcludedFromGitOps(true);
            s.passPreflight();
            assertThat(s.phase()).isEqualTo(Phase.BackingUp);

            UpgradeScenario gate = new UpgradeScenario();
            gate.world.deployment.getMetadata().setManagedFields(List.of(applied("argocd-controller", "kratos", true)));
            gate.ku.getSpec().setMode(Mode.Gate);
            gate.passPreflight();
            assertThat(gate.phase()).isEqualTo(Phase.BackingUp);
        }
    }

    @Nested
    class GateMode {

        GateMode() {
            s.ku.getSpec().setMode(Mode.Gate);
        }

        /** The run up to the end of its migration: the database is ready for the target. */
        private void toAwaitingRollout() {
            s.toMigrating();
            s.decide();
            String job = s.status().getMigration().getJobName();
            s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "migrate", 0, "Completed", null));
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.AwaitingRollout);
        }

        @Test
        void theDatabaseIsMigratedThenTheRunIsReadyAndWaitsForTheOwnerWithoutADeadline() {
            toAwaitingRollout();

            assertThat(s.status().getMode()).isEqualTo(Mode.Gate);
            assertThat(condition(ConditionTypes.READY).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.READY).getReason()).isEqualTo(Conditions.READY_FOR_ROLLOUT);
            assertThat(condition(ConditionTypes.RECONCILING).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.STALLED).getStatus()).isEqualTo("False");
            assertThat(condition(ConditionTypes.MIGRATED).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.READY).getMessage()).contains("ready for the owner of Deployment kratos to roll it to v1.3.1");
            s.decide();
            assertThat(s.status().getMessage()).contains("waiting for the owner of Deployment kratos").contains("v1.3.1");
            s.advance(Duration.ofDays(3));
            Decision d = s.decide();
            assertThat(s.phase()).as("no deadline: the owner decides when").isEqualTo(Phase.AwaitingRollout);
            assertThat(d.requeueAfter()).isNull();
            assertThat(d.actions()).isEmpty();
        }

        @Test
        void theOwnersRolloutIsFollowedAndVerifiedWithoutEverPatchingTheDeployment() {
            toAwaitingRollout();
            s.world.setImage("mirror.example.com/oryd/kratos:v1.3.1");
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.RollingOut);
            assertThat(s.status().getToImage()).as("the same release from the owner's registry").isEqualTo("mirror.example.com/oryd/kratos:v1.3.1");
            s.decide();
            assertThat(s.last.actions()).noneMatch(a -> a instanceof Action.PatchDeployment);
            s.world.rolloutComplete();
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.Verifying);
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-1", s.status().getToImage(), true));
            s.world.deploymentPods.add(Fixtures.kratosPod("kratos-new-2", s.status().getToImage(), true));
            s.decide();
            assertThat(s.phase()).isEqualTo(Phase.Succeeded);
            assertThat(condition(ConditionTypes.ROLLOUT_STARTED).getStatus()).isEqualTo("True");
        }

        @Test
        void aRolloutThatTimesOutIsLeftToTheOwnerNotRolledBack() {
            toAwaitingRollout();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.decide();
            s.world.rolloutInProgress();
            s.advance(Duration.ofMinutes(11));
            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("RolloutTimeout");
            assertThat(d.actions()).noneMatch(a -> a instanceof Action.PatchDeployment);
        }

        @Test
        void aRolloutToAnotherReleaseFailsTheRunWithWhatToDo() {
            toAwaitingRollout();
            s.world.setImage("oryd/kratos:v1.2.0");
            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("UnmigratedRelease");
            assertThat(s.status().getMessage()).contains("v1.2.0").contains("Set spec.version to v1.2.0");
            assertThat(d.events()).anySatisfy(e -> assertThat(e.reason()).isEqualTo("UnmigratedRelease"));
        }

        @Test
        void aRolloutBeforeTheMigrationSkipsTheSafetyStepsAndMigratesAtOnce() {
            s.toRehearsing();
            assertThat(s.phase()).isEqualTo(Phase.Rehearsing);
            s.world.setImage(Fixtures.NEW_IMAGE);
            Decision d = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Migrating);
            assertThat(s.status().getRollout().getRolledOutBeforeMigrationAt()).isNotNull();
            assertThat(d.events()).filteredOn(e -> e.reason().equals("RolledOutBeforeMigration")).hasSize(2)
                    .anySatisfy(e -> assertThat(e.message()).contains("503").contains("dependsOn"));
            assertThat(condition(ConditionTypes.REHEARSED).getStatus()).as("skipped, not passed").isEqualTo("False");
            assertThat(d.actions()).contains(new Action.SuspendJob(s.status().getRehearsal().getJobName()));

            s.decide();
            assertThat(s.last.events()).as("said once").noneMatch(e -> e.reason().equals("RolledOutBeforeMigration"));
        }

        @Test
        void aRolloutDuringTheBackupLetsTheBackupFinishThenMigrates() {
            s.toBackingUp();
            s.decide();
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.decide();
            assertThat(s.phase()).as("the dump is the way back").isEqualTo(Phase.BackingUp);
            String job = s.status().getBackup().getJobName();
            s.world.putJob(Fixtures.completeJob(job), Fixtures.terminatedPod(job, "backup", 0, "Completed", UpgradeScenario.BACKUP_REPORT));
            s.decide();

            assertThat(s.phase()).as("no verification, no rehearsal").isEqualTo(Phase.Migrating);
        }

        @Test
        void anApprovalIsNotWaitedForOnceTheOwnerRolledOut() {
            s.ku.getSpec().getApproval().setRequired(true);
            s.passPreflight();
            assertThat(s.phase()).isEqualTo(Phase.AwaitingApproval);
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.BackingUp);
            assertThat(condition(ConditionTypes.APPROVED).getStatus()).isEqualTo("False");
        }

        @Test
        void aDeploymentAlreadyRolledToTheTargetWhenTheRunBeginsIsMigratedWithoutWaitingForApproval() {
            s.ku.getSpec().getApproval().setRequired(true);
            s.world.setImage(Fixtures.NEW_IMAGE);
            s.world.rolloutInProgress(); // the new pods wait on the migration
            s.toPreflight();
            s.decideInPreflight();
            s.world.lock = Fixtures.lockedBy(s.ku.getMetadata().getName());
            Decision d = s.decide();

            assertThat(d.events()).anySatisfy(e -> assertThat(e.reason()).isEqualTo("RolledOutBeforeMigration"));

            assertThat(s.phase()).as("no approval wait while the new pods answer 503").isEqualTo(Phase.BackingUp);
            assertThat(s.status().getRollout().getRolledOutBeforeMigrationAt()).isNotNull();
            assertThat(s.status().getPlan().getNotes()).anySatisfy(n -> assertThat(n).contains("already rolled to v1.3.1"));
        }

        @Test
        void aRolloutToAnotherReleaseBeforeTheMigrationFailsWithNothingMigrated() {
            s.toBackingUp();
            s.world.setImage("oryd/kratos:v1.2.0");
            s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Failed);
            assertThat(s.status().getFailureReason()).isEqualTo("UnmigratedRelease");
            assertThat(s.status().getMessage()).contains("nothing was migrated");
        }
    }

    @Nested
    class AfterASucceededRun {

        @Test
        void anImagePutBackIsReportedOnceAndNeverPatched() {
            s.toSucceeded();
            s.world.setImage(Fixtures.OLD_IMAGE);
            Decision reverted = s.decide();

            assertThat(s.phase()).isEqualTo(Phase.Succeeded);
            assertThat(condition(ConditionTypes.IMAGE_REVERTED).getStatus()).isEqualTo("True");
            assertThat(condition(ConditionTypes.IMAGE_REVERTED).getMessage()).contains("v1.1.0").contains("v1.3.1");
            assertThat(condition(ConditionTypes.READY).getStatus()).as("the run did succeed; Ready stays so GitOps can roll forward")
                    .isEqualTo("True");
            assertThat(reverted.events()).singleElement().satisfies(e -> {
                assertThat(e.reason()).isEqualTo("ImageReverted");
                assertThat(e.warning()).isTrue();
            });
            assertThat(reverted.actions()).noneMatch(a -> a instanceof Action.PatchDeployment);

            Decision again = s.decide();
            assertThat(again.events()).isEmpty();
            assertThat(again.actions()).noneMatch(a -> a instanceof Action.PatchDeployment);

            s.world.setImage(Fixtures.NEW_IMAGE);
            s.decide();
            assertThat(condition(ConditionTypes.IMAGE_REVERTED).getStatus()).isEqualTo("False");
        }

        @Test
        void lockLabelsOfAnOlderOperatorVersionAreRemovedOnceTheRunIsOver() {
            s.toSucceeded();
            s.world.deployment.getMetadata().setLabels(new HashMap<>(Map.of("app", "kratos",
                    Labels.LEGACY_LOCK_LABEL, Fixtures.NAME, Labels.LEGACY_MANAGED_LABEL, "true")));
            s.decide();

            assertThat(s.actions(Action.PatchDeployment.class)).singleElement()
                    .satisfies(p -> assertThat(p.jsonPatch()).contains("kratos-upgrade.io~1locked-by").contains("kratos-upgrade.io~1managed"));

            s.world.deployment.getMetadata().setLabels(new HashMap<>(Map.of("app", "kratos", Labels.LEGACY_LOCK_LABEL, "someone-else")));
            s.decide();
            assertThat(s.actions(Action.PatchDeployment.class)).as("another object's lock is not ours to remove").isEmpty();
        }

        @Test
        void aNewerReleaseIsNotARevert() {
            s.toSucceeded();
            s.world.setImage("oryd/kratos:v25.4.0");
            s.decide();

            assertThat(Conditions.get(s.status(), ConditionTypes.IMAGE_REVERTED)).isEmpty();
        }
    }
}
