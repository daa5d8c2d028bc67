package io.kratosupgrade.operator.fleet;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kratosupgrade.operator.api.v1alpha1.FleetInstanceReport;
import io.kratosupgrade.operator.api.v1alpha1.FleetPhase;
import io.kratosupgrade.operator.api.v1alpha1.FleetRolloutPolicy;
import io.kratosupgrade.operator.api.v1alpha1.FleetWave;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosFleetUpgradeStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.UpgradeSettings;
import io.kratosupgrade.operator.lifecycle.Decision;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Decides a fleet's next step from its status and the instances it selects: finish the running wave, halt when the
 * failure budget is used up, resume on a retry, wait out a pause or an approval, start the next wave. Pure: the
 * reconciler observes and acts. Every instance's progress is read from its KratosUpgrade, never remembered, so a
 * restarted operator (or a person's retry of one instance) leaves nothing to reconcile by hand; the fleet's status
 * remembers only which instances each wave took.
 */
public final class FleetMachine {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    /** Bound on names listed in an event or message. */
    private static final int LISTED = 10;
    /** While instances run, a backstop in case an event was missed (KratosUpgrade changes wake the fleet). */
    private static final Duration BACKSTOP = Duration.ofMinutes(2);

    public FleetDecision decide(KratosFleetUpgrade fleet, FleetObservation observed, Instant now) {
        KratosFleetUpgradeStatus status = fleet.getStatus() == null ? new KratosFleetUpgradeStatus()
                : JSON.clone(fleet.getStatus());
        String nowText = Times.format(now);
        long generation = Optional.ofNullable(fleet.getMetadata().getGeneration()).orElse(1L);
        FleetPhase before = status.getPhase();
        List<FleetAction> actions = new ArrayList<>();
        List<Decision.Event> events = new ArrayList<>();
        status.setObservedGeneration(generation);

        if (observed.refusal() != null) {
            status.setPhase(FleetPhase.Invalid);
            status.setMessage(observed.refusal().message());
            if (before != FleetPhase.Invalid) events.add(new Decision.Event(true, observed.refusal().reason(), observed.refusal().message()));
            FleetConditions.summarize(status, observed.refusal().reason(), generation, nowText);
            return new FleetDecision(status, actions, events, null);
        }

        String hash = FleetUpgrades.templateHash(fleet);
        UpgradeSettings template = fleet.getSpec().getTemplate().getSpec();
        if (!hash.equals(status.getTemplateHash())) {
            startRun(fleet, status, hash, nowText);
            events.add(new Decision.Event(false, "FleetRunStarted", "run " + status.getRun() + ": "
                    + observed.instances().size() + " instances to " + template.getVersion()));
        }

        Map<String, FleetInstance> byKey = new LinkedHashMap<>();
        Map<String, InstanceState> states = new LinkedHashMap<>();
        for (FleetInstance instance : observed.instances()) {
            byKey.put(instance.key(), instance);
            states.put(instance.key(), InstanceState.of(instance, hash, template));
        }
        Set<String> inWaves = status.getWaves().stream().flatMap(w -> w.getInstances().stream()).collect(Collectors.toSet());

        // A running wave's member without its KratosUpgrade for this run: the operator stopped between the status write
        // that started the wave and the create (or the upgrade was deleted mid-run). Ask again; a create that finds one
        // is a no-op. A finished wave's member has had its run: its upgrade was deleted since, and is not run again.
        for (FleetWave wave : status.getWaves()) {
            for (String key : wave.getInstances()) {
                FleetInstance instance = byKey.get(key);
                if (instance == null || states.get(key) != InstanceState.NotStarted) continue;
                if (wave.getFinishedAt() != null) {
                    states.put(key, InstanceState.Untracked);
                } else {
                    actions.add(upgradeAction(fleet, instance, hash, wave.getNumber()));
                    states.put(key, InstanceState.InProgress);
                }
            }
        }

        resume(fleet, status, byKey, states, now, actions, events);
        finishWave(status, states, now, events);

        tally(status, byKey, states, inWaves);
        FleetRolloutPolicy policy = fleet.getSpec().getRollout();
        Duration requeue = null;
        FleetWave running = runningWave(status);
        List<String> waiting = states.entrySet().stream()
                .filter(e -> e.getValue() == InstanceState.NotStarted && !inWaves.contains(e.getKey()))
                .map(Map.Entry::getKey).toList();
        status.setNextWave(null);
        String halt = null;
        if (status.getFailed() > policy.getMaxFailures()) {
            status.setPhase(FleetPhase.Halted);
            halt = "FailureBudgetExceeded";
            status.setMessage(status.getFailed() + " instance(s) failed, more than maxFailures " + policy.getMaxFailures()
                    + " allows: " + listed(status.getFailedInstances().stream().map(r -> r.getInstance() + " ("
                    + r.getReason() + ")").toList()) + "; no new instance starts"
                    + (status.getInProgress() > 0 ? " (" + status.getInProgress() + " running finish their run)" : "")
                    + ". Fix them, then set the annotation kratos-upgrade.io/retry on the fleet to a new value to retry "
                    + "them and resume.");
            if (before != FleetPhase.Halted) events.add(new Decision.Event(true, "FleetHalted", status.getMessage()));
            requeue = status.getInProgress() > 0 ? BACKSTOP : null;
        } else if (running != null) {
            status.setPhase(FleetPhase.Progressing);
            long done = running.getInstances().stream().filter(k -> states.containsKey(k) && states.get(k).finished()).count();
            status.setMessage("wave " + running.getNumber() + (running.isCanary() ? " (canary)" : "") + ": " + done + " of "
                    + running.getInstances().size() + " finished; " + status.getProgress() + " upgraded");
            requeue = BACKSTOP;
        } else if (waiting.isEmpty()) {
            if (status.getInProgress() > 0) {
                status.setPhase(FleetPhase.Progressing);
                status.setMessage("waiting for " + status.getInProgress() + " instance(s) to finish; " + status.getProgress() + " upgraded");
                requeue = BACKSTOP;
            } else {
                status.setPhase(status.getFailed() == 0 ? FleetPhase.Succeeded : FleetPhase.CompletedWithFailures);
                status.setMessage(status.getSucceeded() + " of " + status.getTotal() + " instances run " + template.getVersion()
                        + (status.getFailed() > 0 ? "; " + status.getFailed() + " failed (within maxFailures)" : "")
                        + (status.getSkipped() > 0 ? "; " + status.getSkipped() + " skipped" : "")
                        + (untracked(status) > 0 ? "; " + untracked(status) + " untracked (KratosUpgrade deleted after its wave)" : ""));
                if (status.getFinishedAt() == null || before != status.getPhase()) {
                    status.setFinishedAt(nowText);
                    events.add(new Decision.Event(status.getFailed() > 0, "Fleet" + status.getPhase(), status.getMessage()));
                }
            }
        } else {
            requeue = startNextWave(fleet, status, before, byKey, states, waiting, hash, now, actions, events);
        }
        if (!status.getPhase().isFinished()) status.setFinishedAt(null);
        status.setCurrentWave(status.getWaves().isEmpty() ? null : status.getWaves().get(status.getWaves().size() - 1).getNumber());
        tally(status, byKey, states, status.getWaves().stream().flatMap(w -> w.getInstances().stream()).collect(Collectors.toSet()));
        FleetConditions.summarize(status, halt, generation, nowText);
        return new FleetDecision(status, actions, events, requeue);
    }

    private static void startRun(KratosFleetUpgrade fleet, KratosFleetUpgradeStatus status, String hash, String now) {
        status.setRun(status.getRun() == null ? 1 : status.getRun() + 1);
        status.setTemplateHash(hash);
        status.setTargetVersion(fleet.getSpec().getTemplate().getSpec().getVersion());
        status.setStartedAt(now);
        status.setFinishedAt(null);
        status.setWaves(new ArrayList<>());
        status.setPhase(FleetPhase.Progressing);
        // A retry value set before this run is not a request to this run.
        status.setRetryToken(annotation(fleet, KratosUpgrade.RETRY_ANNOTATION));
    }

    /**
     * A new value of the fleet's retry annotation retries every failed instance the fleet made, and lifts a halt. The
     * retried instances form a wave of their own (or join the one still running): the fix is proven on them before
     * anyone else starts.
     */
    private static void resume(KratosFleetUpgrade fleet, KratosFleetUpgradeStatus status, Map<String, FleetInstance> byKey,
                               Map<String, InstanceState> states, Instant now, List<FleetAction> actions,
                               List<Decision.Event> events) {
        String retry = annotation(fleet, KratosUpgrade.RETRY_ANNOTATION);
        if (retry == null || retry.equals(status.getRetryToken())) return;
        status.setRetryToken(retry);
        List<String> retried = new ArrayList<>();
        states.forEach((key, state) -> {
            FleetInstance instance = byKey.get(key);
            if (state == InstanceState.Failed && instance.fleetMade()) {
                // Per fleet run, so that a value used in an earlier run still counts as new for the KratosUpgrade.
                actions.add(new FleetAction.RetryUpgrade(instance.namespace(), instance.upgrade().getMetadata().getName(),
                        "fleet-run" + status.getRun() + "-" + retry));
                states.put(key, InstanceState.InProgress);
                retried.add(key);
            }
        });
        if (!retried.isEmpty()) {
            FleetWave running = runningWave(status);
            if (running == null) {
                status.getWaves().add(new FleetWave(status.getWaves().size() + 1, false, retried, Times.format(now)));
            } else {
                retried.stream().filter(k -> !running.getInstances().contains(k)).forEach(running.getInstances()::add);
            }
        }
        events.add(new Decision.Event(false, "FleetResumed", retried.isEmpty() ? "retry " + retry + ": no failed instance to retry"
                : "retry " + retry + ": retrying " + retried.size() + " failed instance(s): " + listed(retried)));
    }

    private static void finishWave(KratosFleetUpgradeStatus status, Map<String, InstanceState> states, Instant now,
                                   List<Decision.Event> events) {
        FleetWave wave = runningWave(status);
        if (wave == null) return;
        // Instances no longer selected are left alone; they do not hold the wave.
        List<String> members = wave.getInstances().stream().filter(states::containsKey).toList();
        if (!members.stream().allMatch(k -> states.get(k).finished())) return;
        int succeeded = (int) members.stream().filter(k -> states.get(k) == InstanceState.Succeeded).count();
        int failed = (int) members.stream().filter(k -> states.get(k) == InstanceState.Failed).count();
        wave.setFinishedAt(Times.format(now));
        wave.setDurationSeconds(Duration.between(Times.parse(wave.getStartedAt()), now).toSeconds());
        wave.setSucceeded(succeeded);
        wave.setFailed(failed);
        events.add(new Decision.Event(failed > 0, "WaveFinished", "wave " + wave.getNumber() + (wave.isCanary() ? " (canary)" : "")
                + " finished in " + wave.getDurationSeconds() + "s: " + succeeded + " succeeded, " + failed + " failed"));
    }

    private static Duration startNextWave(KratosFleetUpgrade fleet, KratosFleetUpgradeStatus status, FleetPhase before,
                                          Map<String, FleetInstance> byKey, Map<String, InstanceState> states,
                                          List<String> waiting, String hash, Instant now, List<FleetAction> actions,
                                          List<Decision.Event> events) {
        FleetRolloutPolicy policy = fleet.getSpec().getRollout();
        int number = status.getWaves().size() + 1;
        FleetWave last = status.getWaves().isEmpty() ? null : status.getWaves().get(status.getWaves().size() - 1);
        status.setNextWave(number);
        if (last != null && policy.getPauseBetweenWaves() != null) {
            Instant resumeAt = Times.parse(last.getFinishedAt()).plus(Times.goDuration(policy.getPauseBetweenWaves()));
            if (now.isBefore(resumeAt)) {
                status.setPhase(FleetPhase.Paused);
                status.setMessage("wave " + last.getNumber() + " finished; wave " + number + " starts at " + Times.format(resumeAt)
                        + " (pauseBetweenWaves " + policy.getPauseBetweenWaves() + "); " + status.getProgress() + " upgraded");
                return Duration.between(now, resumeAt);
            }
        }
        if (last != null && policy.isApproveEachWave()
                && !Integer.toString(number).equals(annotation(fleet, KratosFleetUpgrade.APPROVE_WAVE_ANNOTATION))) {
            status.setPhase(FleetPhase.AwaitingApproval);
            status.setMessage("wave " + last.getNumber() + " finished; wave " + number + " (" + waiting.size()
                    + " instances waiting) starts once the annotation " + KratosFleetUpgrade.APPROVE_WAVE_ANNOTATION + " is \""
                    + number + "\"; " + status.getProgress() + " upgraded");
            if (before != FleetPhase.AwaitingApproval) events.add(new Decision.Event(false, "WaveAwaitingApproval", status.getMessage()));
            return null;
        }
        WavePlanner.Wave next = WavePlanner.next(waiting, last == null, policy.getCanary(), policy.getMaxConcurrent(),
                status.getTotal(), fleet.getMetadata().getNamespace());
        FleetWave wave = new FleetWave(number, next.canary(), next.instances(), Times.format(now));
        status.getWaves().add(wave);
        for (String key : next.instances()) {
            actions.add(upgradeAction(fleet, byKey.get(key), hash, number));
            states.put(key, InstanceState.InProgress);
        }
        status.setNextWave(null);
        status.setPhase(FleetPhase.Progressing);
        status.setMessage("wave " + number + (next.canary() ? " (canary)" : "") + " started: " + listed(next.instances()));
        events.add(new Decision.Event(false, "WaveStarted", "wave " + number + (next.canary() ? " (canary)" : "") + ": "
                + next.instances().size() + " instance(s): " + listed(next.instances())
                + (next.unmatched().isEmpty() ? "" : "; canary names that select no instance waiting to start: "
                + listed(next.unmatched()))));
        return BACKSTOP;
    }

    private static FleetAction upgradeAction(KratosFleetUpgrade fleet, FleetInstance instance, String hash, int wave) {
        KratosUpgrade upgrade = FleetUpgrades.build(fleet, instance, hash, wave);
        return instance.upgrade() == null ? new FleetAction.CreateUpgrade(upgrade) : new FleetAction.RetargetUpgrade(upgrade);
    }

    /** Counts, per-phase counts and the reports of failed and skipped instances. */
    private static void tally(KratosFleetUpgradeStatus status, Map<String, FleetInstance> byKey, Map<String, InstanceState> states,
                              Set<String> inWaves) {
        Map<InstanceState, Integer> counts = new EnumMap<>(InstanceState.class);
        Map<String, Integer> phases = new TreeMap<>();
        List<FleetInstanceReport> failed = new ArrayList<>();
        List<FleetInstanceReport> skipped = new ArrayList<>();
        states.forEach((key, state) -> {
            counts.merge(state, 1, Integer::sum);
            KratosUpgrade upgrade = byKey.get(key).upgrade();
            phases.merge(phaseName(state, upgrade), 1, Integer::sum);
            if (state == InstanceState.Failed) {
                failed.add(new FleetInstanceReport(key, upgrade.getMetadata().getName(), upgrade.getStatus().getPhase().name(),
                        upgrade.getStatus().getFailureReason(), upgrade.getStatus().getFailureMessage()));
            } else if (state == InstanceState.Skipped) {
                skipped.add(new FleetInstanceReport(key, upgrade.getMetadata().getName(), null, "HandMadeUpgrade",
                        "the KratosUpgrade " + upgrade.getMetadata().getName() + " made by hand targets "
                                + upgrade.getSpec().getVersion() + ": the fleet leaves this instance alone (set its "
                                + "spec.version, or delete it and the fleet makes its own)"));
            }
        });
        status.setTotal(states.size());
        status.setSucceeded(counts.getOrDefault(InstanceState.Succeeded, 0));
        status.setFailed(counts.getOrDefault(InstanceState.Failed, 0));
        status.setSkipped(counts.getOrDefault(InstanceState.Skipped, 0));
        int notStarted = counts.getOrDefault(InstanceState.NotStarted, 0);
        int notStartedInWaves = (int) states.entrySet().stream()
                .filter(e -> e.getValue() == InstanceState.NotStarted && inWaves.contains(e.getKey())).count();
        status.setInProgress(counts.getOrDefault(InstanceState.InProgress, 0) + notStartedInWaves);
        status.setPending(notStarted - notStartedInWaves);
        status.setPhases(phases);
        status.setFailedInstances(failed);
        status.setSkippedInstances(skipped);
        status.setProgress(status.getSucceeded() + "/" + status.getTotal());
    }

    /** The phase of the instance's run in this fleet run: NotStarted, Pending until the engine took the run up. */
    private static String phaseName(InstanceState state, KratosUpgrade upgrade) {
        if (state == InstanceState.NotStarted || state == InstanceState.Skipped || state == InstanceState.Untracked) return state.name();
        boolean takenUp = upgrade != null && upgrade.getStatus() != null && upgrade.getStatus().getPhase() != null
                && (state != InstanceState.InProgress || !upgrade.getStatus().getPhase().isTerminal());
        return takenUp ? upgrade.getStatus().getPhase().name() : "Pending";
    }

    private static int untracked(KratosFleetUpgradeStatus status) {
        return status.getPhases().getOrDefault(InstanceState.Untracked.name(), 0);
    }

    private static FleetWave runningWave(KratosFleetUpgradeStatus status) {
        List<FleetWave> waves = status.getWaves();
        FleetWave last = waves.isEmpty() ? null : waves.get(waves.size() - 1);
        return last != null && last.getFinishedAt() == null ? last : null;
    }

    private static String annotation(KratosFleetUpgrade fleet, String key) {
        Map<String, String> annotations = fleet.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }

    static String listed(List<String> names) {
        return names.size() <= LISTED ? String.join(", ", names)
                : String.join(", ", names.subList(0, LISTED)) + " and " + (names.size() - LISTED) + " more";
    }
}
