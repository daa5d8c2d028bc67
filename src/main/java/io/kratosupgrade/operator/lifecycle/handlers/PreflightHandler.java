package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.InspectionStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RolloutStatus;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.InvalidDsnException;
import io.kratosupgrade.operator.kratos.ImageReference;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.resources.Containers;
import io.kratosupgrade.operator.resources.UpgradeLock;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.preflight.GitOpsOwnership;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kratosupgrade.operator.product.DataMigration;
import java.time.ZoneOffset;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.preflight.ConfigRuleCheck;
import io.kratosupgrade.operator.preflight.PlanBuilder;
import io.kratosupgrade.operator.preflight.UpgradeHops;
import io.kratosupgrade.operator.preflight.RuleFinding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Optional;

/**
 * Checks everything that can be checked before touching anything, then takes the Deployment for this run.
 * Each refusal has its own reason; the first one found is reported.
 */
public class PreflightHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Preflight;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        KratosUpgrade ku = ctx.upgrade();
        String deploymentName = ctx.spec().getDeploymentName();
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + deploymentName + " does not exist in namespace "
                    + ku.getMetadata().getNamespace());
        }
        Optional<Container> container = Containers.of(deployment.getSpec().getTemplate().getSpec(), ctx.spec().getContainerName(), ctx.product().defaultContainerName());
        if (container.isEmpty()) {
            return Failures.fail(ctx, "ContainerNotFound", ctx.spec().getContainerName() != null
                    ? "Deployment " + deploymentName + " has no container named " + ctx.spec().getContainerName()
                    : "Deployment " + deploymentName + " has several containers and none is named 'kratos': set spec.containerName");
        }
        Optional<String> holder = activeHolder(ctx);
        if (holder.isPresent()) {
            return Failures.fail(ctx, "ConcurrentUpgrade", "KratosUpgrade " + holder.get() + " is already upgrading Deployment "
                    + deploymentName + "; only one run may act on a Deployment at a time");
        }

        String currentImage = container.get().getImage();
        ImageReference currentRef;
        try {
            currentRef = ImageReference.parse(currentImage);
        } catch (IllegalArgumentException e) {
            return Failures.fail(ctx, "CurrentVersionUnknown", "cannot tell which " + ctx.product().displayName() + " release image " + currentImage
                    + " is: it is not an image reference the operator understands (registry/path:tag)");
        }
        Optional<KratosVersion> current = KratosVersion.fromImageTag(currentRef.tag());
        if (current.isEmpty()) {
            return Failures.fail(ctx, "CurrentVersionUnknown", "cannot tell which " + ctx.product().displayName() + " release image " + currentImage
                    + " is: its tag is not a version (vX.Y.Z); deploy a versioned tag first");
        }
        KratosVersion target = KratosVersion.parse(ctx.spec().getVersion());
        if (target.compareTo(current.get()) < 0) {
            return Failures.fail(ctx, "Downgrade", "target " + target + " is older than the running " + current.get()
                    + "; " + ctx.product().displayName() + " migrations only go forward, so downgrades are refused");
        }
        String databaseVersion = ctx.status().getDatabaseVersion();
        if (databaseVersion != null && target.compareTo(KratosVersion.parse(databaseVersion)) < 0) {
            return Failures.fail(ctx, "Downgrade", "the database was already migrated to " + databaseVersion
                    + " by an earlier run; target " + target + " is older");
        }

        Optional<DataMigration> dataMigration = ctx.product().dataMigration(current.get(), target);
        if (dataMigration.isPresent()) {
            Optional<String> unavailable = dataMigration.get().unavailableIn(target);
            if (unavailable.isPresent()) {
                return Failures.fail(ctx, "DataMigrationUnavailable", unavailable.get());
            }
            if (ctx.spec().getStrategy() != Strategy.BlueGreen) {
                return Failures.fail(ctx, "DataMigrationNeedsBlueGreen", current.get() + " -> " + target + " needs "
                        + dataMigration.get().description() + ", which runs with the old side's writes frozen and a new server "
                        + "beside the old one (Ory's procedure): set spec.strategy BlueGreen with spec.blueGreen.targetDatabase. "
                        + "Nothing was changed");
            }
        }

        if (!ctx.gate() && !ctx.spec().isImageExcludedFromGitOps()) {
            Optional<GitOpsOwnership.Owner> owner = GitOpsOwnership.of(deployment, container.get().getName());
            if (owner.isPresent()) {
                return Failures.fail(ctx, "ManagedByGitOps", "the image of Deployment " + deploymentName + " is applied by "
                        + owner.get().describe() + ": it would put " + current.get() + " back over a database migrated for "
                        + target + ". Nothing was changed. Either change the image in Git and let this KratosUpgrade gate the "
                        + "rollout (spec.mode: Gate), or carve the image out of " + owner.get().tool() + " (docs/gitops.md) and set "
                        + "spec.imageExcludedFromGitOps: true");
            }
        }

        DsnResolution dsn = ctx.observed().dsn();
        if (dsn.result() == DsnResolution.Result.NOT_FOUND) {
            return Failures.fail(ctx, "DsnNotFound", dsn.problem());
        }
        if (dsn.result() == DsnResolution.Result.UNREADABLE) {
            return Failures.fail(ctx, "DsnUnreadable", "the DSN cannot be read: " + dsn.problem());
        }
        DatabaseKind kind;
        try {
            kind = ctx.spec().getBackup().getPolicy() == BackupPolicy.Required
                    ? DsnParser.parse(dsn.value()).kind() : DsnParser.kindOf(dsn.value());
        } catch (InvalidDsnException e) {
            return Failures.fail(ctx, "InvalidDsn", "the DSN from " + dsn.source() + " is not valid: " + e.getMessage());
        }
        boolean backup = ctx.spec().getBackup().getPolicy() == BackupPolicy.Required;
        if (backup && !kind.dumpable()) {
            return Failures.fail(ctx, "UnsupportedDatabase", "backups support PostgreSQL and MySQL, but the DSN names a "
                    + kind.id() + " database; back it up yourself and set spec.backup.policy: Skip");
        }
        if (backup && !Boolean.TRUE.equals(ctx.observed().backupVolumeExists())) {
            return Failures.fail(ctx, "BackupVolumeNotFound", "PersistentVolumeClaim "
                    + ctx.spec().getBackup().getPersistentVolumeClaim() + " (spec.backup.persistentVolumeClaim) does not exist");
        }

        if (ctx.spec().getStrategy() == Strategy.BlueGreen) {
            Optional<PhaseOutcome> refused = BlueGreenPreflight.check(ctx, deployment, parseQuietly(dsn.value()).orElseThrow());
            if (refused.isPresent()) return refused.get();
        } else {
            ctx.status().setBlueGreen(null);
        }

        // Every configuration rule of every release crossed, on the configuration the Deployment really runs.
        EffectiveConfig config = ctx.observed().config();
        ConfigRuleCheck rules = ConfigRuleCheck.evaluate(ctx.product().knowledge().rulesCrossing(current.get(), target), config,
                ctx.product(), Set.copyOf(ctx.spec().getAcknowledgedWarnings()));
        if (!rules.blocks().isEmpty()) {
            return Failures.fail(ctx, "BreakingConfigChange", ctx.product().displayName() + " " + target
                    + " would refuse the configuration Deployment " + deploymentName + " runs: "
                    + String.join("; ", rules.blocks().stream().map(RuleFinding::describe).toList())
                    + ". Nothing was changed; fix the configuration, then the run starts again on its own when the spec "
                    + "changes, or on a retry request");
        }
        // Read-only look at the database: what is applied, against what the running and the target release expect.
        Optional<DatabaseTarget> database = parseQuietly(dsn.value());
        boolean inspectedByBackup = database.isPresent() && DatabaseInspection.deferrableToBackup(ctx, backup, kind);
        if (inspectedByBackup) {
            DatabaseInspection.deferToBackup(ctx);
        } else if (database.isPresent()) {
            Optional<PhaseOutcome> inspecting = DatabaseInspection.step(ctx, deployment.getSpec().getTemplate().getSpec(),
                    container.get(), database.get(), current.get(), target);
            if (inspecting.isPresent()) return takingTheDeployment(ctx, inspecting.get());
        }
        Optional<String> unmovable = dataMigration.flatMap(d -> DatabaseInspection.unmovable(ctx, ctx.status().getInspection(), d));
        if (unmovable.isPresent()) {
            return Failures.fail(ctx, "BrokenRecords", unmovable.get());
        }
        if (ctx.spec().getStrategy() == Strategy.BlueGreen) {
            KratosTemplate template = new KratosTemplate(deployment.getSpec().getTemplate().getSpec(), container.get());
            Optional<PhaseOutcome> checking = BlueGreenPreflight.targetCheck(ctx, template);
            if (checking.isPresent()) return checking.get().failed() ? checking.get() : takingTheDeployment(ctx, checking.get());
            // After the target check (the restore needs an empty target), before the plan, which names what it measured.
            Optional<PhaseOutcome> rehearsing = BlueGreenPreflight.copyRehearsal(ctx, template);
            if (rehearsing.isPresent()) return rehearsing.get().failed() ? rehearsing.get() : takingTheDeployment(ctx, rehearsing.get());
        }
        InspectionStatus inspection = ctx.status().getInspection();
        Optional<String> ahead = DatabaseInspection.ahead(ctx, inspection, target);
        if (ahead.isPresent()) {
            return Failures.fail(ctx, "DatabaseAhead", ahead.get());
        }


        // Gate mode: the owner rolled out before this run began (no dependsOn or sync wave); the new pods wait for us.
        boolean early = ctx.gate() && current.get().equals(target) && (!RolloutCheck.of(deployment).complete()
                || (inspection != null && inspection.getPendingForTarget() != null && inspection.getPendingForTarget() > 0));
        List<HopStatus> hops = UpgradeHops.plan(ctx.spec(), ctx.product().knowledge(), currentRef, current.get(), target);
        String toImage = hops.get(hops.size() - 1).getImage();
        int replicas = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
        ctx.status().setPlan(PlanBuilder.build(new PlanBuilder.Input(ctx.product(), ctx.spec(), current.get(), target, hops,
                deploymentName, replicas, kind, config, rules, inspection, early, inspectedByBackup,
                ctx.status().getBlueGreen() == null ? null : ctx.status().getBlueGreen().getNewDeployment(),
                ctx.status().getBlueGreen() == null ? null : ctx.status().getBlueGreen().getCopyRehearsal())));

        KratosUpgradeStatus status = ctx.status();
        status.setContainerName(container.get().getName());
        status.setFromImage(currentImage);
        status.setFromVersion(current.get().toString());
        status.setToVersion(target.toString());
        status.setToImage(toImage);
        status.setHops(hops);
        RolloutStatus rollout = new RolloutStatus();
        rollout.setOriginalReplicas(replicas);
        status.setRollout(rollout);
        status.setStrategy(ctx.spec().getStrategy());
        status.setMode(ctx.spec().getMode());
        status.setBackup(null);
        if (backup) {
            status.setBackup(new io.kratosupgrade.operator.api.v1alpha1.BackupStatus());
            status.getBackup().setDatabase(kind.id());
        }

        List<Decision.Event> warnings = new ArrayList<>(rules.warnings().stream()
                .map(w -> new Decision.Event(true, "ConfigurationWarning", w.rule().id() + ": " + w.describe())).toList());
        status.getPlan().getWarnings().stream().filter(w -> w.getRule().startsWith(PlanBuilder.DATABASE_RULE_PREFIX))
                .forEach(w -> warnings.add(new Decision.Event(true, "DatabaseWarning", w.getRule() + ": " + w.getWhat())));
        if (ctx.spec().isDryRun()) {
            return PhaseOutcome.advance(Phase.Planned, "DryRun", "dry run: plan " + status.getPlan().getHash()
                    + " written to status.plan (" + current.get() + " -> " + target + "); nothing was changed")
                    .withEvents(warnings);
        }
        if (!UpgradeLock.heldBy(ctx.observed().lock(), ku.getMetadata().getName())) {
            // Take the Deployment and look again (the Lease informer wakes this): a lock taken meanwhile is reported above.
            return PhaseOutcome.stay("preflight checks passed; taking Deployment " + deploymentName, Duration.ofSeconds(5),
                    acquireLock(ctx));
        }
        if (early) {
            status.getRollout().setRolledOutBeforeMigrationAt(ctx.nowText());
            warnings.add(new Decision.Event(true, "RolledOutBeforeMigration", "Deployment " + deploymentName + " already runs "
                    + target + " but the database is not migrated for it: its new pods answer 503 until it is. Migrating as soon "
                    + "as possible; approval, backup verification and rehearsal are skipped. Order the rollout after this "
                    + "KratosUpgrade is Ready (Flux dependsOn, Argo CD sync waves)"));
        }

        String summary = "preflight passed: " + current.get() + " -> " + target + " (" + ctx.spec().getStrategy()
                + ", " + kind.id() + " database, DSN from " + dsn.source() + "); plan " + status.getPlan().getHash()
                + (rules.warnings().isEmpty() ? "" : "; " + rules.warnings().size() + " configuration warnings in status.plan.warnings: "
                + String.join(", ", rules.warnings().stream().map(w -> w.rule().id()).toList()));
        Phase next = ctx.spec().getApproval().isRequired() && !early ? Phase.AwaitingApproval : ctx.firstStep();
        return PhaseOutcome.advance(next, "PreflightPassed", summary).withEvents(warnings);
    }

    /**
     * While the database is inspected, the Deployment is taken too (not for a dry run, which changes nothing): the
     * inspection's result then finds the lock held and preflight ends in the same pass, a status write fewer per run.
     */
    private static PhaseOutcome takingTheDeployment(RunContext ctx, PhaseOutcome inspecting) {
        if (inspecting.transitions() || inspecting.continuesNow() || ctx.spec().isDryRun()
                || UpgradeLock.heldBy(ctx.observed().lock(), ctx.upgrade().getMetadata().getName())) {
            return inspecting;
        }
        return inspecting.withAction(acquireLock(ctx));
    }

    private static Action acquireLock(RunContext ctx) {
        Lease lock = ctx.observed().lock();
        String namespace = ctx.upgrade().getMetadata().getNamespace();
        return new Action.AcquireLock(UpgradeLock.lease(namespace, ctx.spec().getDeploymentName(), ctx.upgrade().getMetadata().getName(),
                ctx.now().atZone(ZoneOffset.UTC)), lock == null ? null : lock.getMetadata().getResourceVersion());
    }

    private static Optional<DatabaseTarget> parseQuietly(String dsn) {
        try {
            return Optional.of(DsnParser.parse(dsn));
        } catch (InvalidDsnException e) {
            return Optional.empty();
        }
    }

    /** Another KratosUpgrade that holds the Deployment and is still running. */
    private static Optional<String> activeHolder(RunContext ctx) {
        String self = ctx.upgrade().getMetadata().getName();
        String holder = UpgradeLock.holder(ctx.observed().lock());
        if (holder != null && !holder.equals(self)) {
            Optional<KratosUpgrade> peer = ctx.observed().peers().stream()
                    .filter(p -> p.getMetadata().getName().equals(holder)).findFirst();
            // A lock left by a deleted or finished object is stale and may be taken over.
            if (peer.isPresent() && isActive(peer.get())) {
                return Optional.of(holder);
            }
        }
        return ctx.observed().peers().stream()
                .filter(p -> !p.getMetadata().getName().equals(self))
                .filter(PreflightHandler::isActive)
                .filter(p -> p.getStatus().getPhase() != Phase.Pending && p.getStatus().getPhase() != Phase.Preflight)
                .map(p -> p.getMetadata().getName())
                .findFirst();
    }

    private static boolean isActive(KratosUpgrade ku) {
        return ku.getStatus() != null && ku.getStatus().getPhase() != null && !ku.getStatus().getPhase().isTerminal();
    }
}
