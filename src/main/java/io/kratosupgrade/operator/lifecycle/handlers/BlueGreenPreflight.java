package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.resources.BlueGreenJobBuilder;
import io.kratosupgrade.operator.status.Redaction;
import java.util.ArrayList;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.CopyRehearsalStatus;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.preflight.PlanBuilder;
import java.time.Duration;
import io.kratosupgrade.operator.api.v1alpha1.ServiceSelection;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.InvalidDsnException;
import io.kratosupgrade.operator.kube.RolloutCheck;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.preflight.GitOpsOwnership;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What preflight checks for strategy BlueGreen, before anything is touched, and what it records for the later
 * steps (the new Deployment's name, the replicas, the Services and their selectors); then a Job checks the target
 * database itself (reachable, empty, new enough), which the freeze Job checks again before it freezes anything; with
 * copy Dump another Job then rehearses the copy, so that the plan says how long the freeze's dump and restore take.
 */
final class BlueGreenPreflight {

    private BlueGreenPreflight() {
    }

    static Optional<PhaseOutcome> check(RunContext ctx, Deployment old, DatabaseTarget source) {
        if (source.kind() != DatabaseKind.POSTGRES) {
            return fail(ctx, "UnsupportedDatabase", "strategy BlueGreen copies the database with pg_dump and pg_restore and freezes "
                    + "writes with PostgreSQL privileges: it supports PostgreSQL only, and the DSN names a " + source.kind().id() + " database");
        }
        DsnResolution targetDsn = ctx.observed().blueGreen().targetDsn();
        String where = String.valueOf(ctx.blueGreen().getTargetDatabase());
        if (targetDsn == null || targetDsn.result() != DsnResolution.Result.FOUND) {
            return fail(ctx, "TargetDatabaseNotFound", "spec.blueGreen.targetDatabase (" + where + "): "
                    + (targetDsn == null ? "not read" : targetDsn.problem()));
        }
        DatabaseTarget target;
        try {
            target = DsnParser.parse(targetDsn.value());
        } catch (InvalidDsnException e) {
            return fail(ctx, "InvalidTargetDsn", "the DSN in " + where + " is not valid: " + e.getMessage());
        }
        if (target.kind() != DatabaseKind.POSTGRES) {
            return fail(ctx, "UnsupportedDatabase", "the target database (" + where + ") is " + target.kind().id()
                    + "; blue/green copies PostgreSQL into PostgreSQL");
        }
        if (Objects.equals(target.host(), source.host()) && Objects.equals(port(target), port(source))
                && Objects.equals(target.database(), source.database())) {
            return fail(ctx, "TargetIsSource", "the target database (" + where + ") is the database " + ctx.product().displayName() + " runs on (" + source.host()
                    + "/" + source.database() + "): blue/green needs a second, empty database");
        }
        String newName = Names.newSideDeployment(ctx.upgrade());
        if (ctx.observed().blueGreen().newSide() != null) {
            return fail(ctx, "NewDeploymentExists", "Deployment " + newName + " already exists: the new side needs a name of its own "
                    + "(spec.blueGreen.newDeploymentName)");
        }
        RolloutCheck rollout = RolloutCheck.of(old);
        if (!rollout.complete()) {
            return fail(ctx, "RolloutInProgress", "Deployment " + old.getMetadata().getName() + " is not fully rolled out ("
                    + rollout.message() + "): blue/green starts from one old side");
        }
        Map<String, String> podLabels = old.getSpec().getTemplate().getMetadata().getLabels();
        List<Service> services = ServiceSelectors.selecting(ctx.observed().blueGreen().services(), podLabels == null ? Map.of() : podLabels);
        if (services.isEmpty()) {
            return fail(ctx, "NoServiceSelectsKratos", "no Service in namespace " + old.getMetadata().getNamespace() + " selects the pods of "
                    + "Deployment " + old.getMetadata().getName() + ": blue/green switches traffic by moving Services");
        }
        if (!ctx.blueGreen().isServicesExcludedFromGitOps()) {
            for (Service service : services) {
                Optional<GitOpsOwnership.Owner> owner = GitOpsOwnership.ofSelector(service);
                if (owner.isPresent()) {
                    return fail(ctx, "ManagedByGitOps", "the selector of Service " + service.getMetadata().getName() + " is applied by "
                            + owner.get().describe() + ": the switch rewrites it, and the tool would put it back, which then selects "
                            + "both sides. Nothing was changed. Exclude spec.selector from " + owner.get().tool() + " (docs/blue-green.md) "
                            + "and set spec.blueGreen.servicesExcludedFromGitOps: true");
                }
            }
        }
        BlueGreenStatus status = new BlueGreenStatus();
        // Preflight runs again on every pass; the target check's Job is this run's, whatever pass created it.
        if (ctx.status().getBlueGreen() != null) {
            status.setTargetCheck(ctx.status().getBlueGreen().getTargetCheck());
            // Measured once per run: the plan names these times, and its hash must not move under an approval.
            status.setCopyRehearsal(ctx.status().getBlueGreen().getCopyRehearsal());
        }
        status.setNewDeployment(newName);
        status.setOldReplicas(old.getSpec().getReplicas() == null ? 1 : old.getSpec().getReplicas());
        services.forEach(s -> status.getServices().add(new ServiceSelection(s.getMetadata().getName(), s.getSpec().getSelector())));
        ctx.status().setBlueGreen(status);
        return Optional.empty();
    }

    /**
     * Empty once the target database was checked (reachable, empty, a server as new as the old one); else what preflight
     * does meanwhile: runs the check's Job, or fails with the reason it found. Nothing is changed by it.
     */
    static Optional<PhaseOutcome> targetCheck(RunContext ctx, KratosTemplate template) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        if (blueGreen.getTargetCheck() != null && blueGreen.getTargetCheck().getFinishedAt() != null) return Optional.empty();
        if (blueGreen.getTargetCheck() == null) {
            blueGreen.setTargetCheck(BlueGreenJobs.step(ctx, BlueGreenJobBuilder.Operation.CHECK_TARGET.step()));
        }
        StepStatus check = blueGreen.getTargetCheck();
        Optional<Job> job = RunningJob.job(ctx, check);
        if (job.isEmpty()) {
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, true, true, ctx.blueGreen().replicates());
            if (credentials.problem() != null) return fail(ctx, "DsnUnreadable", "cannot check the target database: " + credentials.problem());
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.CHECK_TARGET, check,
                    DatabaseInspection.TIMEOUT, template));
            return Optional.of(PhaseOutcome.stay("checking the target database (Job " + check.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, check, DatabaseInspection.TIMEOUT), BlueGreenJobs.create(ctx, check, credentials, built)));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), check, DatabaseInspection.TIMEOUT);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(check));
        return switch (outcome.state()) {
            case SUCCEEDED -> {
                check.setFinishedAt(ctx.nowText());
                JsonNode report = BlueGreenJobs.report(outcome);
                yield Optional.of(PhaseOutcome.continueNow("target database checked: reachable, empty, PostgreSQL "
                        + report.path("targetMajor").asText("?") + (ctx.blueGreen().replicates() ? "; logical replication possible ("
                        + report.path("unpublished").asText("?") + " tables or sequences without a replica identity are copied "
                        + "during the freeze)" : ""), deleteSecret));
            }
            case FAILED -> {
                check.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                yield Optional.of(Failures.fail(ctx, BlueGreenJobs.reason(tail, "TargetDatabaseUnchecked"), "the target database ("
                        + ctx.blueGreen().getTargetDatabase() + ") cannot be used: Job " + check.getJobName() + " failed (" + outcome.message()
                        + ")" + (tail == null ? "" : ": " + tail) + ". Nothing was changed", actions.toArray(Action[]::new)));
            }
            default -> Optional.of(PhaseOutcome.stay("checking the target database (Job " + check.getJobName() + "): " + outcome.message(),
                    RunningJob.recheckIn(ctx, check, DatabaseInspection.TIMEOUT)));
        };
    }

    /**
     * copy Dump: empty once the copy was rehearsed (or with copy Replication, which copies before the freeze); else what
     * preflight does meanwhile: runs the rehearsal's Job, or fails with what it found. The Job dumps the live old database
     * (it only reads) and restores the dump into the target in a transaction that it rolls back, timing both: the plan
     * then says how long the freeze's dump and restore took here. Nothing is changed by it.
     */
    static Optional<PhaseOutcome> copyRehearsal(RunContext ctx, KratosTemplate template) {
        if (ctx.blueGreen().replicates()) return Optional.empty();
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        if (blueGreen.getCopyRehearsal() != null && blueGreen.getCopyRehearsal().getFinishedAt() != null) return Optional.empty();
        if (blueGreen.getCopyRehearsal() == null) {
            StepStatus step = BlueGreenJobs.step(ctx, BlueGreenJobBuilder.Operation.REHEARSE_COPY.step());
            CopyRehearsalStatus rehearsal = new CopyRehearsalStatus();
            rehearsal.setJobName(step.getJobName());
            rehearsal.setStartedAt(step.getStartedAt());
            blueGreen.setCopyRehearsal(rehearsal);
        }
        CopyRehearsalStatus rehearsal = blueGreen.getCopyRehearsal();
        Duration timeout = copyRehearsalTimeout(ctx);
        Optional<Job> job = RunningJob.job(ctx, rehearsal);
        if (job.isEmpty()) {
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, true, true);
            if (credentials.problem() != null) return fail(ctx, "DsnUnreadable", "cannot rehearse the copy: " + credentials.problem());
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.REHEARSE_COPY, rehearsal,
                    timeout, template));
            return Optional.of(PhaseOutcome.stay("rehearsing the copy: dumping the old database and restoring it into the target "
                    + "in a transaction that is rolled back (Job " + rehearsal.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, rehearsal, timeout), BlueGreenJobs.create(ctx, rehearsal, credentials, built)));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), rehearsal, timeout);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(rehearsal));
        return switch (outcome.state()) {
            case SUCCEEDED -> {
                boolean measured = readCopyRehearsal(BlueGreenJobs.report(outcome), rehearsal);
                rehearsal.setFinishedAt(ctx.nowText());
                if (!measured) {
                    yield fail(ctx, COPY_REHEARSAL_FAILED, "the rehearsal of the copy (Job " + rehearsal.getJobName()
                            + ") reported no measurement; nothing was changed", deleteSecret);
                }
                yield Optional.of(PhaseOutcome.continueNow("copy rehearsed: the dump took " + rehearsal.getDumpSeconds() + " s ("
                        + PlanBuilder.size(rehearsal.getDumpBytes()) + "), its restore into the target " + rehearsal.getRestoreSeconds()
                        + " s, rolled back (Job " + rehearsal.getJobName() + ")", deleteSecret));
            }
            case FAILED -> {
                rehearsal.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                yield Optional.of(Failures.fail(ctx, BlueGreenJobs.reason(tail, COPY_REHEARSAL_FAILED), "the rehearsal of the copy "
                        + "(dump of the old database, restore into the target, rolled back) failed: Job " + rehearsal.getJobName() + " ("
                        + outcome.message() + ")" + (tail == null ? "" : ": " + tail) + ". Nothing was changed; the copy during the "
                        + "freeze would have failed the same way", actions.toArray(Action[]::new)));
            }
            default -> Optional.of(PhaseOutcome.stay("rehearsing the copy (Job " + rehearsal.getJobName() + "): " + outcome.message(),
                    RunningJob.recheckIn(ctx, rehearsal, timeout)));
        };
    }

    static final String COPY_REHEARSAL_FAILED = "CopyRehearsalFailed";

    /** The dump and the restore, each bounded by backup.timeout as BackingUp's and Copying's Jobs are. */
    static Duration copyRehearsalTimeout(RunContext ctx) {
        return Times.goDuration(ctx.spec().getBackup().getTimeout()).multipliedBy(2);
    }

    /** {"dumpMillis":D,"restoreMillis":R,"bytes":B,"counts":{...}}: false when a measurement is missing. */
    static boolean readCopyRehearsal(JsonNode report, CopyRehearsalStatus rehearsal) {
        if (!report.path("dumpMillis").canConvertToLong() || !report.path("restoreMillis").canConvertToLong()
                || !report.path("bytes").canConvertToLong() || !report.path("counts").isObject()) {
            return false;
        }
        rehearsal.setDumpSeconds(report.get("dumpMillis").asLong() / 1000.0);
        rehearsal.setRestoreSeconds(report.get("restoreMillis").asLong() / 1000.0);
        rehearsal.setDumpBytes(report.get("bytes").asLong());
        Map<String, Long> counts = new TreeMap<>();
        report.get("counts").fields().forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asLong()));
        rehearsal.setRestoredCounts(counts);
        return true;
    }

    private static String port(DatabaseTarget target) {
        return target.port() == null ? "5432" : target.port();
    }

    private static Optional<PhaseOutcome> fail(RunContext ctx, String reason, String message, Action... actions) {
        return Optional.of(Failures.fail(ctx, reason, message, actions));
    }
}
