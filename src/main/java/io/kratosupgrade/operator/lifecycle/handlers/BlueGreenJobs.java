package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.DumpToolEnvironment;
import io.kratosupgrade.operator.database.InvalidDsnException;
import io.kratosupgrade.operator.database.SubscriptionConnection;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.observe.DsnResolution;
import io.kratosupgrade.operator.resources.BlueGreenJobBuilder;
import io.kratosupgrade.operator.resources.CredentialsSecretBuilder;
import io.kratosupgrade.operator.resources.Names;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the BlueGreen phases share about their database Jobs: the credentials (the old database's PG* variables,
 * the target's as TARGET_PG*), creating a Job with its Secret, and reading its report.
 */
final class BlueGreenJobs {

    /** Freeze and cleanup Jobs: a few statements (the freeze's lock waits 30 s at most for the writes in flight). */
    static final Duration SHORT_TIMEOUT = Duration.ofMinutes(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reasons by the marker the Jobs' scripts put first on the line that says why they failed. */
    private static final Map<String, String> REASONS = Map.of(
            "TARGET_UNREACHABLE", "TargetDatabaseUnreachable",
            "TARGET_TOO_OLD", "TargetDatabaseTooOld",
            "TARGET_NOT_EMPTY", "TargetDatabaseNotEmpty",
            "FREEZE_REFUSED", "FreezeRefused",
            "REPLICATION_UNAVAILABLE", "ReplicationNotPossible",
            "REPLICATION_FAILED", "ReplicationFailed");

    private BlueGreenJobs() {
    }

    /** The reason a failed Job's log names, else {@code fallback}. */
    static String reason(String logTail, String fallback) {
        return REASONS.entrySet().stream().filter(e -> logTail != null && logTail.contains(e.getKey()))
                .map(Map.Entry::getValue).findFirst().orElse(fallback);
    }

    /** Either the Job's credentials, or why they cannot be had (a message for status, never a secret). */
    record Credentials(Map<String, String> environment, String problem) {
    }

    /**
     * @param source whether the Job connects to the old database
     * @param target whether it connects to the target database
     */
    static Credentials credentials(RunContext ctx, boolean source, boolean target) {
        return credentials(ctx, source, target, false);
    }

    /**
     * @param replication whether it also connects as the publisher and the subscriber of copy Replication (PUB_PG*,
     *                    SUB_PG*, and PUB_CONNINFO: the publisher's connection string for CREATE SUBSCRIPTION)
     */
    static Credentials credentials(RunContext ctx, boolean source, boolean target, boolean replication) {
        Map<String, String> env = new LinkedHashMap<>();
        var observed = ctx.observed();
        if (source) {
            Optional<String> problem = add(env, observed.dsn(), "the old database's DSN", Function.identity());
            if (problem.isPresent()) return new Credentials(null, problem.get());
        }
        if (target) {
            Optional<String> problem = add(env, observed.blueGreen().targetDsn(), "spec.blueGreen.targetDatabase", k -> "TARGET_" + k);
            if (problem.isPresent()) return new Credentials(null, problem.get());
        }
        if (replication) {
            DsnResolution publisher = observed.blueGreen().publisherDsn() != null ? observed.blueGreen().publisherDsn() : observed.dsn();
            Optional<String> problem = add(env, publisher, "spec.blueGreen.replication.publisherDatabase", k -> "PUB_" + k);
            if (problem.isPresent()) return new Credentials(null, problem.get());
            DsnResolution subscriber = observed.blueGreen().subscriberDsn() != null ? observed.blueGreen().subscriberDsn()
                    : observed.blueGreen().targetDsn();
            problem = add(env, subscriber, "spec.blueGreen.replication.subscriberDatabase", k -> "SUB_" + k);
            if (problem.isPresent()) return new Credentials(null, problem.get());
            env.put("PUB_CONNINFO", SubscriptionConnection.conninfo(parse(publisher)));
        }
        return new Credentials(env, null);
    }

    private static DatabaseTarget parse(DsnResolution dsn) {
        try {
            return DsnParser.parse(dsn.value());
        } catch (InvalidDsnException e) {
            throw new IllegalStateException("checked by add", e);
        }
    }

    private static Optional<String> add(Map<String, String> env, DsnResolution dsn, String what, Function<String, String> name) {
        if (dsn == null) return Optional.of(what + " was not read");
        if (dsn.result() != DsnResolution.Result.FOUND) return Optional.of(what + " cannot be read: " + dsn.problem());
        DatabaseTarget database;
        try {
            database = DsnParser.parse(dsn.value());
        } catch (InvalidDsnException e) {
            return Optional.of(what + " (" + dsn.source() + ") is not a valid DSN: " + e.getMessage());
        }
        DumpToolEnvironment.of(database).forEach((k, v) -> env.put(name.apply(k), v));
        return Optional.empty();
    }

    /** Secret names may be longer than Job names (253): the Job's name and "-db". */
    static String secretName(StepStatus step) {
        return step.getJobName() + "-db";
    }

    /** The Secret, then the Job (the Actuator creates them in this order). */
    static Action[] create(RunContext ctx, StepStatus step, Credentials credentials, Job job) {
        return new Action[] {
                new Action.CreateSecret(CredentialsSecretBuilder.build(ctx.upgrade(), ctx.run(), secretName(step), credentials.environment())),
                new Action.CreateJob(job)};
    }

    static StepStatus step(RunContext ctx, String name) {
        StepStatus step = new StepStatus();
        step.setJobName(Names.blueGreenJob(ctx.upgrade(), ctx.run(), name));
        step.setStartedAt(ctx.nowText());
        return step;
    }

    /** The report on the termination message, or an empty object when there is none or it is not JSON. */
    static JsonNode report(JobOutcome outcome) {
        try {
            return outcome.terminationMessage() == null ? JSON.createObjectNode() : JSON.readTree(outcome.terminationMessage());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    /**
     * A cleanup Job still to finish (its outcome while waiting, or the failure), or its report once it succeeded with
     * the deletion of its credentials Secret for the caller's outcome.
     */
    record Cleanup(PhaseOutcome pending, JsonNode report, Action deleteSecret) {
        Cleanup(PhaseOutcome pending) {
            this(pending, null, null);
        }
    }

    /**
     * Runs the cleanup Job {@code name} (thaw the old database, empty the target, or both) to its end. Its name is
     * recorded in status.blueGreen.cleanup in the same status write that precedes its creation.
     */
    static Cleanup cleanup(RunContext ctx, String name, boolean thaw, boolean emptyTarget, boolean detach, String what) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        String jobName = Names.blueGreenJob(ctx.upgrade(), ctx.run(), name);
        if (blueGreen.getCleanup() == null || !jobName.equals(blueGreen.getCleanup().getJobName())) {
            blueGreen.setCleanup(step(ctx, name));
        }
        StepStatus step = blueGreen.getCleanup();
        Optional<Job> job = RunningJob.job(ctx, step);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.of(ctx);
            if (template.isEmpty()) return new Cleanup(KratosTemplate.gone(ctx));
            Credentials credentials = credentials(ctx, thaw || detach, emptyTarget || detach, detach);
            if (credentials.problem() != null) {
                return new Cleanup(Failures.fail(ctx, "DsnUnreadable", "cannot " + what + ": " + credentials.problem()));
            }
            Job built = BlueGreenJobBuilder.build(input(ctx, BlueGreenJobBuilder.Operation.CLEANUP, step, SHORT_TIMEOUT, template.get())
                    .withCleanup(thaw, emptyTarget, detach));
            return new Cleanup(PhaseOutcome.stay(what + " (Job " + step.getJobName() + ")", RunningJob.deadlineLeft(ctx, step, SHORT_TIMEOUT),
                    create(ctx, step, credentials, built)));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), step, SHORT_TIMEOUT);
        Action deleteSecret = new Action.DeleteSecret(secretName(step));
        return switch (outcome.state()) {
            case SUCCEEDED -> {
                step.setFinishedAt(ctx.nowText());
                yield new Cleanup(null, report(outcome), deleteSecret);
            }
            case FAILED -> {
                step.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                yield new Cleanup(Failures.fail(ctx, "CleanupFailed", "could not " + what + ": Job " + step.getJobName() + " failed ("
                        + outcome.message() + ")" + (tail == null ? "" : ": " + tail), actions.toArray(Action[]::new)));
            }
            default -> new Cleanup(PhaseOutcome.stay(what + " (Job " + step.getJobName() + "): " + outcome.message(),
                    RunningJob.recheckIn(ctx, step, SHORT_TIMEOUT)));
        };
    }

    static BlueGreenJobBuilder.Input input(RunContext ctx, BlueGreenJobBuilder.Operation operation, StepStatus step, Duration timeout,
                                           KratosTemplate template) {
        return new BlueGreenJobBuilder.Input(ctx.upgrade(), ctx.run(), operation, step.getJobName(), secretName(step), ctx.toolsImage(),
                timeout, template.pod(), template.container(), null, null, null, null, ctx.product().coreTables(), false, false,
                ctx.blueGreen().replicates() ? subscription(ctx) : null, false);
    }

    /** copy Replication: the run's publication, slot and subscription, named in status before anything creates them. */
    static String subscription(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        if (blueGreen.getSubscription() == null) blueGreen.setSubscription(Names.subscription(ctx.upgrade(), ctx.run()));
        return blueGreen.getSubscription();
    }
}
