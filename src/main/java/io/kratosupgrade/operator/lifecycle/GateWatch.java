package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.lifecycle.handlers.AwaitingRolloutHandler;
import io.kratosupgrade.operator.resources.Names;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Gate mode, before the database is ready: what the Deployment's owner did meanwhile. Rolled to the target early
 * (the field report's 503 window: the new pods cannot become ready until the migration ran), the run says so once
 * and migrates as soon as it safely can: approval, verification and rehearsal are dropped, a running backup
 * finishes (the dump is the way back), a running migration goes on. Rolled to any other release, the run fails
 * before it migrates anything (a running migration finishes first; AwaitingRollout then reports it).
 */
final class GateWatch {

    static final String ROLLED_OUT_EARLY = "RolledOutBeforeMigration";
    private static final Set<Phase> WATCHED = EnumSet.of(Phase.AwaitingApproval, Phase.BackingUp, Phase.VerifyingBackup,
            Phase.Rehearsing, Phase.Migrating);

    private GateWatch() {
    }

    /** Empty when the phase's handler decides as usual; the events go with whatever is decided. */
    static Optional<PhaseOutcome> check(RunContext ctx, List<Decision.Event> events) {
        Phase phase = ctx.status().getPhase();
        if (!ctx.gate() || !WATCHED.contains(phase)) return Optional.empty();
        Optional<KratosVersion> running = ctx.templateVersion();
        KratosVersion from = KratosVersion.parse(ctx.status().getFromVersion());
        KratosVersion to = KratosVersion.parse(ctx.status().getToVersion());
        if (running.isEmpty() || running.get().equals(from)) return Optional.empty();
        String deployment = ctx.spec().getDeploymentName();
        if (!running.get().equals(to)) {
            if (phase == Phase.Migrating) return Optional.empty();
            return Optional.of(Failures.fail(ctx, AwaitingRolloutHandler.UNMIGRATED_RELEASE, "Deployment " + deployment + " was rolled to "
                    + ctx.templateImage().orElse(running.get().toString()) + " while this run prepared the database for " + to
                    + " (nothing was migrated): " + running.get() + " needs its own migration. Set spec.version to "
                    + running.get() + ", or roll the Deployment back to " + from));
        }
        if (!ctx.rolledOutBeforeMigration()) {
            ctx.status().getRollout().setRolledOutBeforeMigrationAt(ctx.nowText());
            events.add(new Decision.Event(true, ROLLED_OUT_EARLY, "Deployment " + deployment + " was rolled to " + to
                    + " before its migration ran (phase " + phase + "): its new pods answer 503 until it has. Migrating now"
                    + (phase == Phase.BackingUp ? ", right after the running backup" : "") + "; approval, backup verification "
                    + "and rehearsal are skipped. Order the rollout after this KratosUpgrade is Ready (Flux dependsOn, Argo CD "
                    + "sync waves)"));
        }
        return switch (phase) {
            case AwaitingApproval -> Optional.of(PhaseOutcome.advance(ctx.firstStep(), ROLLED_OUT_EARLY,
                    "the Deployment already runs " + to + ": approval skipped, " + (ctx.backsUp() ? "backing up, then migrating"
                    : "migrating")));
            case VerifyingBackup, Rehearsing -> Optional.of(PhaseOutcome.advance(Phase.Migrating, ROLLED_OUT_EARLY,
                    "the Deployment already runs " + to + ": " + phase + " stopped, migrating now", stopSafetyJobs(ctx)));
            default -> Optional.empty();
        };
    }

    /** The verification and rehearsal Jobs touch only their own copy; they are suspended (kept for inspection). */
    private static Action[] stopSafetyJobs(RunContext ctx) {
        List<Action> actions = new ArrayList<>();
        for (String name : List.of(Names.backupVerificationJob(ctx.upgrade(), ctx.run()), Names.rehearsalJob(ctx.upgrade(), ctx.run()))) {
            ctx.observed().job(name).filter(job -> job.getStatus() == null || job.getStatus().getCompletionTime() == null)
                    .ifPresent(job -> actions.add(new Action.SuspendJob(name)));
        }
        return actions.toArray(Action[]::new);
    }
}
