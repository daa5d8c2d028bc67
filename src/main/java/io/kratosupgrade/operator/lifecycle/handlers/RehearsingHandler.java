package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupStatus;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.PlanStatus;
import io.kratosupgrade.operator.api.v1alpha1.RehearsalStatus;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.resources.RehearsalJobBuilder;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Runs the migration on a copy before production sees it: the rehearsal Job restores the dump into a
 * throw-away server in its own pod and runs every hop's migrate command against it, with the Deployment's
 * configuration. When the backup was verified, VerifyingBackup already started this Job (its restore was the
 * verification) and this phase watches it to the end. A failure ends the run with RehearsalFailed and the
 * migration's log tail, production untouched; success records what was applied and how long it took, and the
 * plan gets the measured duration.
 */
public class RehearsingHandler implements PhaseHandler {

    public static final String PASSED = "Passed";
    public static final String FAILED = "Failed";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Phase phase() {
        return Phase.Rehearsing;
    }

    @Override
    public void enter(RunContext ctx) {
        RehearsalStatus rehearsal = new RehearsalStatus();
        rehearsal.setJobName(Names.rehearsalJob(ctx.upgrade(), ctx.run()));
        rehearsal.setStartedAt(ctx.nowText());
        ctx.status().setRehearsal(rehearsal);
    }

    /** Restore (about the backup's time) plus each hop's migration. */
    static Duration timeout(RunContext ctx) {
        Duration migration = Times.goDuration(ctx.spec().getMigration().getTimeout());
        return Times.goDuration(ctx.spec().getBackup().getTimeout()).plus(migration.multipliedBy(ctx.status().getHops().size()));
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        RehearsalStatus rehearsal = ctx.status().getRehearsal();
        Duration timeout = timeout(ctx);
        Optional<Job> job = RunningJob.job(ctx, rehearsal);
        if (job.isEmpty()) {
            return createJob(ctx, rehearsal, timeout);
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), rehearsal, timeout);
        List<Pod> pods = ctx.observed().podsOf(rehearsal.getJobName());
        switch (outcome.state()) {
            case SUCCEEDED -> {
                rehearsal.setFinishedAt(ctx.nowText());
                String report = JobOutcome.terminated(pods, RehearsalJobBuilder.REPORT_CONTAINER).map(t -> t.getMessage()).orElse(null);
                if (!readReport(report, rehearsal)) {
                    rehearsal.setResult(FAILED);
                    return Failures.fail(ctx, "RehearsalFailed", "rehearsal Job " + rehearsal.getJobName()
                            + " completed but its report cannot be read; production was not touched");
                }
                rehearsal.setMigrationSeconds(migrationSeconds(pods).orElse(null));
                rehearsal.setResult(PASSED);
                String measured = describe(ctx, rehearsal);
                amendPlan(ctx, measured);
                return PhaseOutcome.advance(Phase.Migrating, "RehearsalPassed", measured);
            }
            case FAILED -> {
                rehearsal.setFinishedAt(ctx.nowText());
                rehearsal.setResult(FAILED);
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                rehearsal.setLogTail(tail);
                rehearsal.setMigrationSeconds(migrationSeconds(pods).orElse(null));
                String failed = failedContainer(pods).map(c -> c.startsWith(RehearsalJobBuilder.MIGRATE_CONTAINER_PREFIX)
                        ? "the migration (" + hopOf(ctx, c) + ") failed on a restored copy of the database"
                        : "container " + c + " failed before the migration could be tried").orElse("the rehearsal failed");
                return Failures.fail(ctx, "RehearsalFailed", failed + " (Job " + rehearsal.getJobName() + ": " + outcome.message() + ")"
                        + (tail == null ? "" : ": " + tail) + "; production was not touched",
                        RunningJob.stopIfRunning(job.get(), outcome).toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("rehearsing the migration on a restored copy (Job " + rehearsal.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, rehearsal, timeout));
            }
        }
    }

    /**
     * Creates the rehearsal Job named in {@code step}: by Rehearsing, or already by VerifyingBackup, whose
     * verification is this Job's first container.
     */
    static PhaseOutcome createJob(RunContext ctx, StepStatus step, Duration timeout) {
        BackupStatus backup = ctx.status().getBackup();
        Optional<KratosTemplate> template = KratosTemplate.of(ctx);
        if (template.isEmpty()) {
            return KratosTemplate.gone(ctx);
        }
        ctx.hop(); // a run without hops gets its single hop
        List<RehearsalJobBuilder.Migration> migrations = ctx.status().getHops().stream()
                .map(h -> new RehearsalJobBuilder.Migration(h.getImage(), ctx.product().migrateArgs(KratosVersion.parse(h.getVersion()))))
                .toList();
        Job built = RehearsalJobBuilder.build(new RehearsalJobBuilder.Input(ctx.upgrade(), ctx.run(), step.getJobName(),
                backup.getPersistentVolumeClaim(), backup.getFile(), backup.getSha256(), ctx.toolsImage(), timeout, template.get().pod(),
                template.get().container(), migrations, ctx.product().coreTables()));
        return PhaseOutcome.stay("starting rehearsal Job " + step.getJobName() + ": restore, then " + migrations.size()
                + " migration(s) on the copy", RunningJob.deadlineLeft(ctx, step, timeout), new Action.CreateJob(built));
    }

    private static String describe(RunContext ctx, RehearsalStatus rehearsal) {
        return "rehearsed on a restored copy: " + rehearsal.getApplied() + " migration(s) applied"
                + (rehearsal.getMigrationSeconds() == null ? "" : " in " + rehearsal.getMigrationSeconds() + " s")
                + (rehearsal.getRestoreSeconds() == null ? "" : " (restore " + rehearsal.getRestoreSeconds() + " s)")
                + ", up to " + ctx.status().getHops().get(ctx.status().getHops().size() - 1).getVersion()
                + " (Job " + rehearsal.getJobName() + ")";
    }

    /**
     * The plan was written before anything ran; what the rehearsal measured is added to it, and under Recreate
     * the outage becomes a number: the time down so far plus the rehearsed migration. The plan's hash stays that
     * of what was reviewed.
     */
    private static void amendPlan(RunContext ctx, String measured) {
        PlanStatus plan = ctx.status().getPlan();
        if (plan == null) return;
        plan.setRehearsal(measured);
        Long migration = ctx.status().getRehearsal().getMigrationSeconds();
        String downSince = ctx.status().getRollout() == null ? null : ctx.status().getRollout().getScaledDownAt();
        if (ctx.strategy() == Strategy.Recreate && migration != null && downSince != null) {
            long soFar = Duration.between(Times.parse(downSince), ctx.now()).toSeconds();
            plan.setOutage("measured: " + ctx.product().displayName() + " has been down since " + downSince + " (" + soFar + " s so far: drain, backup, "
                    + "verification, rehearsal) and the migration took " + migration + " s in rehearsal, so the outage should be "
                    + "about " + (soFar + migration) + " s plus the time the new pods take to become ready"
                    + (ctx.status().getHops().size() > 1 ? ", then again for each later hop" : "")
                    + ". Planned: " + plan.getOutage());
        }
    }

    private static String hopOf(RunContext ctx, String container) {
        try {
            int index = Integer.parseInt(container.substring(RehearsalJobBuilder.MIGRATE_CONTAINER_PREFIX.length())) - 1;
            HopStatus hop = ctx.status().getHops().get(index);
            return hop.getVersion() + ", " + hop.getImage();
        } catch (RuntimeException e) {
            return container;
        }
    }

    /** {"before":N,"after":M,"restoreMillis":R}. */
    static boolean readReport(String message, RehearsalStatus rehearsal) {
        if (message == null || message.isBlank()) return false;
        try {
            JsonNode report = JSON.readTree(message);
            if (!report.hasNonNull("before") || !report.hasNonNull("after")) return false;
            rehearsal.setApplied(report.get("after").asLong() - report.get("before").asLong());
            if (report.hasNonNull("restoreMillis")) rehearsal.setRestoreSeconds(report.get("restoreMillis").asLong() / 1000.0);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** From the start of the first migrate container to the end of the last, as the kubelet recorded them. */
    static Optional<Long> migrationSeconds(List<Pod> pods) {
        Instant first = null;
        Instant last = null;
        for (Pod pod : pods) {
            for (ContainerStatus cs : initStatuses(pod)) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                if (!cs.getName().startsWith(RehearsalJobBuilder.MIGRATE_CONTAINER_PREFIX) || t == null
                        || t.getStartedAt() == null || t.getFinishedAt() == null) continue;
                Instant started = Instant.parse(t.getStartedAt());
                Instant finished = Instant.parse(t.getFinishedAt());
                first = first == null || started.isBefore(first) ? started : first;
                last = last == null || finished.isAfter(last) ? finished : last;
            }
        }
        return first == null ? Optional.empty() : Optional.of(Duration.between(first, last).toSeconds());
    }

    private static Optional<String> failedContainer(List<Pod> pods) {
        for (Pod pod : pods) {
            for (ContainerStatus cs : initStatuses(pod)) {
                ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
                if (t != null && t.getExitCode() != null && t.getExitCode() != 0
                        && !RehearsalJobBuilder.DATABASE_CONTAINER.equals(cs.getName())) {
                    return Optional.of(cs.getName());
                }
            }
        }
        return Optional.empty();
    }

    private static List<ContainerStatus> initStatuses(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getInitContainerStatuses() == null ? List.of()
                : pod.getStatus().getInitContainerStatuses();
    }
}
