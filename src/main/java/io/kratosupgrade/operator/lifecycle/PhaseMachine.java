package io.kratosupgrade.operator.lifecycle;

import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.ConditionTypes;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.RunRecord;
import io.kratosupgrade.operator.config.OperatorSettings;
import io.kratosupgrade.operator.lifecycle.handlers.AwaitingApprovalHandler;
import io.kratosupgrade.operator.lifecycle.handlers.AwaitingRolloutHandler;
import io.kratosupgrade.operator.lifecycle.handlers.CopyingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.CredentialsSecrets;
import io.kratosupgrade.operator.lifecycle.handlers.FinalizingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.FreezingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.ReplicatingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.KeepingOldHandler;
import io.kratosupgrade.operator.lifecycle.handlers.MigratingDataHandler;
import io.kratosupgrade.operator.lifecycle.handlers.StartingNewSideHandler;
import io.kratosupgrade.operator.lifecycle.handlers.SwitchingBackHandler;
import io.kratosupgrade.operator.lifecycle.handlers.SwitchingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.BackingUpHandler;
import io.kratosupgrade.operator.lifecycle.handlers.MigratingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.PendingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.PreflightHandler;
import io.kratosupgrade.operator.lifecycle.handlers.RestoringDatabaseHandler;
import io.kratosupgrade.operator.lifecycle.handlers.RollingBackHandler;
import io.kratosupgrade.operator.lifecycle.handlers.RollingOutHandler;
import io.kratosupgrade.operator.lifecycle.handlers.RehearsingHandler;
import io.kratosupgrade.operator.lifecycle.handlers.ScalingDownHandler;
import io.kratosupgrade.operator.lifecycle.handlers.VerifyingBackupHandler;
import io.kratosupgrade.operator.lifecycle.handlers.TerminalHandler;
import io.kratosupgrade.operator.lifecycle.handlers.VerifyingHandler;
import io.kratosupgrade.operator.observe.Observation;
import io.kratosupgrade.operator.product.Products;
import io.kratosupgrade.operator.status.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides what one reconcile does: which run is current (new target, retry, superseded target), what the
 * current phase's handler wants, and how a transition updates status (phase, step conditions, kstatus
 * conditions, history). No I/O: it only fills in the working copy of status and returns a {@link Decision}.
 */
public class PhaseMachine {

    /** How often one decision runs a phase's handler at most (see {@link PhaseOutcome#continueNow}). */
    private static final int MAX_PASSES = 3;

    private final Map<Phase, PhaseHandler> handlers = new EnumMap<>(Phase.class);
    private final OperatorSettings settings;

    public PhaseMachine(OperatorSettings settings) {
        this.settings = settings;
        for (PhaseHandler h : List.of(new PendingHandler(), new PreflightHandler(), new AwaitingApprovalHandler(), new ScalingDownHandler(),
                new BackingUpHandler(), new VerifyingBackupHandler(), new RehearsingHandler(), new MigratingHandler(), new AwaitingRolloutHandler(), new RollingOutHandler(), new VerifyingHandler(),
                new RestoringDatabaseHandler(), new RollingBackHandler(), new ReplicatingHandler(), new FreezingHandler(), new CopyingHandler(),
                new MigratingDataHandler(), new StartingNewSideHandler(), new SwitchingHandler(), new KeepingOldHandler(), new FinalizingHandler(), new SwitchingBackHandler(), new TerminalHandler(Phase.Succeeded), new TerminalHandler(Phase.Planned), new TerminalHandler(Phase.Failed),
                new TerminalHandler(Phase.RolledBack))) {
            handlers.put(h.phase(), h);
        }
        if (handlers.size() != Phase.values().length) {
            throw new IllegalStateException("phases without a handler: " + java.util.EnumSet.complementOf(
                    java.util.EnumSet.copyOf(handlers.keySet())));
        }
    }

    /** What the current run needs before any handler runs. */
    enum RunTrigger { CONTINUE, NEW_TARGET, RETRY, ADOPT_GENERATION, SUPERSEDE }

    /**
     * @param upgrade a working copy; its status is filled in and returned in the decision
     */
    public Decision decide(KratosUpgrade upgrade, Observation observed, Instant now) {
        KratosUpgradeStatus status = upgrade.getStatus();
        long generation = Optional.ofNullable(upgrade.getMetadata().getGeneration()).orElse(1L);
        String nowText = Times.format(now);
        List<Decision.Event> events = new ArrayList<>();
        List<Decision.Transition> transitions = new ArrayList<>();
        List<Action> actions = new ArrayList<>();

        RunTrigger trigger = trigger(upgrade);
        switch (trigger) {
            case NEW_TARGET, RETRY -> {
                startRun(upgrade, generation, now);
                String why = trigger == RunTrigger.RETRY ? "retry requested" : "new target " + upgrade.getSpec().getVersion();
                events.add(new Decision.Event(false, "RunAccepted", "run " + status.getRun() + " accepted: " + why));
                // Pending's handler needs nothing observed: it runs in this same pass, so a new run never writes Pending alone.
            }
            case ADOPT_GENERATION -> {
                // Same target as the run that succeeded (e.g. only a timeout changed): it is not repeated.
                status.setRunGeneration(generation);
                status.setObservedGeneration(generation);
                Conditions.summarize(status, generation, nowText);
                return new Decision(status, actions, events, transitions, null);
            }
            case SUPERSEDE -> {
                supersede(upgrade, now, events, transitions, Phase.Pending);
                Conditions.summarize(status, generation, nowText);
                return new Decision(status, actions, events, transitions, Duration.ZERO);
            }
            default -> {
            }
        }

        RunContext ctx = new RunContext(upgrade, observed, now, settings, Products.of(upgrade.getSpec().getProduct()));
        Phase phase = status.getPhase();
        List<Decision.Event> gateEvents = new ArrayList<>();
        Optional<PhaseOutcome> overruled = GateWatch.check(ctx, gateEvents).or(() -> Deletion.overrule(ctx));
        PhaseOutcome outcome = overruled.orElseGet(() -> handle(handlers.get(phase), ctx)).withEvents(gateEvents);
        actions.addAll(outcome.actions());
        events.addAll(outcome.events());
        long runGeneration = status.getRunGeneration();
        boolean stale = generation != runGeneration;
        Duration requeue = outcome.requeueAfter();
        if (outcome.transitions() && !outcome.failed() && stale && !outcome.next().isTerminal()
                && ctx.deploymentAsFound()) {
            supersede(upgrade, now, events, transitions, phase);
            requeue = Duration.ZERO;
        } else if (outcome.transitions()) {
            int before = events.size();
            transition(ctx, outcome, events, transitions, actions);
            if (trigger != RunTrigger.CONTINUE) {
                // Accepted and started in one pass: RunAccepted already says it, one event each run is enough.
                events.subList(before, events.size()).clear();
            }
            if (overruled.isPresent() && !outcome.failed()) {
                // The step was skipped, not passed: the Deployment's owner rolled out before the migration.
                phase.stepCondition().ifPresent(type -> Conditions.set(status, type, "False", outcome.reason(),
                        outcome.message(), status.getRunGeneration(), nowText));
            }
            requeue = Duration.ZERO;
        } else if (outcome.message() != null) {
            status.setMessage(stale && !phase.isTerminal()
                    ? outcome.message() + " (the spec changed; the new target runs once this run reaches a safe point)"
                    : outcome.message());
        }
        Conditions.summarize(status, status.getRunGeneration(), nowText);
        return new Decision(status, actions, events, transitions, requeue);
    }

    /** Runs the handler again while it records a result and goes on at once (bounded: a handler must settle). */
    private static PhaseOutcome handle(PhaseHandler handler, RunContext ctx) {
        PhaseOutcome outcome = handler.handle(ctx);
        for (int pass = 1; pass < MAX_PASSES && outcome.continuesNow(); pass++) {
            outcome = handler.handle(ctx).after(outcome);
        }
        return outcome;
    }

    RunTrigger trigger(KratosUpgrade upgrade) {
        KratosUpgradeStatus status = upgrade.getStatus();
        if (status.getRun() == null || status.getPhase() == null) {
            return RunTrigger.NEW_TARGET;
        }
        long generation = Optional.ofNullable(upgrade.getMetadata().getGeneration()).orElse(1L);
        boolean stale = !Objects.equals(generation, status.getRunGeneration());
        Phase phase = status.getPhase();
        if (phase.isTerminal()) {
            if (stale) {
                return phase == Phase.Succeeded && sameTarget(upgrade.getSpec(), status)
                        ? RunTrigger.ADOPT_GENERATION : RunTrigger.NEW_TARGET;
            }
            String retry = retryToken(upgrade);
            if (phase != Phase.Succeeded && retry != null && !retry.equals(status.getRetryToken())) {
                return RunTrigger.RETRY;
            }
            return RunTrigger.CONTINUE;
        }
        if (stale && (phase == Phase.Pending || phase == Phase.Preflight)) {
            return RunTrigger.SUPERSEDE;
        }
        return RunTrigger.CONTINUE;
    }

    private static boolean sameTarget(KratosUpgradeSpec spec, KratosUpgradeStatus status) {
        return spec.getVersion().equals(status.getToVersion())
                && (spec.getImage() == null || spec.getImage().equals(status.getToImage()));
    }

    private static String retryToken(KratosUpgrade upgrade) {
        Map<String, String> annotations = upgrade.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(KratosUpgrade.RETRY_ANNOTATION);
    }

    private void startRun(KratosUpgrade upgrade, long generation, Instant now) {
        KratosUpgradeStatus status = upgrade.getStatus();
        String nowText = Times.format(now);
        status.setRun(status.getRun() == null ? 1 : status.getRun() + 1);
        status.setRunGeneration(generation);
        status.setObservedGeneration(generation);
        status.setRetryToken(retryToken(upgrade));
        status.setPhase(Phase.Pending);
        status.setPhaseStartedAt(nowText);
        status.setStartedAt(nowText);
        status.setFinishedAt(null);
        status.setFailureReason(null);
        status.setFailureMessage(null);
        status.setStrategy(null);
        status.setMode(null);
        status.setFromVersion(null);
        status.setFromImage(null);
        status.setToVersion(upgrade.getSpec().getVersion());
        status.setToImage(upgrade.getSpec().getImage());
        status.setContainerName(null);
        status.setHops(new ArrayList<>());
        status.setInspection(null);
        status.setBackup(null);
        status.setRehearsal(null);
        status.setMigration(null);
        status.setDataMigration(null);
        status.setRollout(null);
        status.setVerification(null);
        status.setDatabaseRestore(null);
        status.setRollback(null);
        status.setBlueGreen(null);
        status.setMessage("run " + status.getRun() + " accepted: target " + upgrade.getSpec().getVersion());
        Conditions.clearSteps(status);
    }

    /** Ends the current run at a safe point because the spec changed, and starts a run for the new target. */
    private void supersede(KratosUpgrade upgrade, Instant now, List<Decision.Event> events,
                           List<Decision.Transition> transitions, Phase completedPhase) {
        KratosUpgradeStatus status = upgrade.getStatus();
        String message = "run " + status.getRun() + " (target " + status.getToVersion() + ") stopped after "
                + completedPhase + ": the spec changed to " + upgrade.getSpec().getVersion();
        Phase from = status.getPhase();
        Duration run = endRun(status, "Superseded", "Superseded", now);
        transitions.add(new Decision.Transition(from, Phase.Pending, false, inPhase(status, now), "Superseded", run));
        events.add(new Decision.Event(false, "Superseded", message));
        long generation = Optional.ofNullable(upgrade.getMetadata().getGeneration()).orElse(1L);
        startRun(upgrade, generation, now);
        status.setMessage(message + "; run " + status.getRun() + " accepted");
    }

    private void transition(RunContext ctx, PhaseOutcome outcome, List<Decision.Event> events,
                            List<Decision.Transition> transitions, List<Action> actions) {
        KratosUpgradeStatus status = ctx.status();
        Phase from = status.getPhase();
        Phase to = outcome.next();
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("illegal transition " + from + " -> " + to);
        }
        long generation = status.getRunGeneration();
        String now = ctx.nowText();
        Duration inPhase = inPhase(status, ctx.now());

        Optional<String> stepCondition = from.stepCondition();
        if (outcome.failed()) {
            status.setFailureReason(outcome.reason());
            status.setFailureMessage(outcome.message());
            stepCondition.ifPresent(type -> Conditions.set(status, type, "False", outcome.reason(), outcome.message(), generation, now));
        } else {
            stepCondition.ifPresent(type -> Conditions.set(status, type, "True", outcome.reason(), outcome.message(), generation, now));
        }
        if (from == Phase.Preflight && ctx.spec().getBackup().getPolicy() == BackupPolicy.Skip && !outcome.failed() && to != Phase.Planned) {
            Conditions.set(status, ConditionTypes.BACKED_UP, "False", "BackupSkipped", "spec.backup.policy is Skip", generation, now);
        }
        status.setPhase(to);
        status.setPhaseStartedAt(now);
        status.setMessage(outcome.message());
        handlers.get(to).enter(ctx);
        to.stepCondition().filter(type -> !to.isTerminal())
                .ifPresent(type -> Conditions.set(status, type, "Unknown", "InProgress", to + " in progress", generation, now));

        String result = null;
        Duration runDuration = null;
        if (to.isTerminal()) {
            result = to.name();
            runDuration = endRun(status, result, status.getFailureReason() == null ? outcome.reason() : status.getFailureReason(), ctx.now());
            if (ctx.observed().deployment() != null) {
                actions.add(new Action.ReleaseLock(ctx.observed().deployment().getMetadata().getName()));
            }
            actions.addAll(CredentialsSecrets.deleteAll(ctx.upgrade(), status, actions.stream()
                    .filter(a -> a instanceof Action.DeleteSecret).map(a -> ((Action.DeleteSecret) a).name()).toList()));
        }
        events.add(new Decision.Event(outcome.failed() || to == Phase.Failed || to == Phase.RolledBack, outcome.reason(), outcome.message()));
        transitions.add(new Decision.Transition(from, to, outcome.failed(), inPhase, result, runDuration));
    }

    private Duration endRun(KratosUpgradeStatus status, String result, String reason, Instant now) {
        status.setFinishedAt(Times.format(now));
        Duration duration = status.getStartedAt() == null ? Duration.ZERO : Duration.between(Times.parse(status.getStartedAt()), now);
        RunRecord record = new RunRecord();
        record.setRun(status.getRun());
        record.setResult(result);
        record.setReason(reason);
        record.setFromVersion(status.getFromVersion());
        record.setToVersion(status.getToVersion());
        record.setBackupFile(status.getBackup() == null ? null : status.getBackup().getFile());
        record.setStartedAt(status.getStartedAt());
        record.setFinishedAt(status.getFinishedAt());
        record.setDurationSeconds(duration.toSeconds());
        status.getHistory().add(0, record);
        while (status.getHistory().size() > settings.historyLimit()) {
            status.getHistory().remove(status.getHistory().size() - 1);
        }
        return duration;
    }

    private static Duration inPhase(KratosUpgradeStatus status, Instant now) {
        return status.getPhaseStartedAt() == null ? Duration.ZERO : Duration.between(Times.parse(status.getPhaseStartedAt()), now);
    }
}
