package io.kratosupgrade.operator.lifecycle.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.act.Action;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.StepStatus;
import io.kratosupgrade.operator.kube.JobOutcome;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.lifecycle.Times;
import io.kratosupgrade.operator.resources.BlueGreenJobBuilder;
import io.kratosupgrade.operator.status.Redaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One Job checks the target database, then takes the old database user's write privileges (see {@link
 * BlueGreenJobBuilder}). From then on the old side serves reads and refuses writes, so the dump that follows (copy
 * Dump: BlueGreen's first step that changes anything) or the replica's catch-up (copy Replication) holds every write
 * that was acknowledged.
 */
public class FreezingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Freezing;
    }

    @Override
    public void enter(RunContext ctx) {
        ctx.status().getBlueGreen().setFreeze(BlueGreenJobs.step(ctx, BlueGreenJobBuilder.Operation.FREEZE.step()));
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        StepStatus freeze = blueGreen.getFreeze();
        Optional<Job> job = RunningJob.job(ctx, freeze);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.of(ctx);
            if (template.isEmpty()) return KratosTemplate.gone(ctx);
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, true, true);
            if (credentials.problem() != null) {
                return Failures.fail(ctx, "DsnUnreadable", "cannot start the freeze: " + credentials.problem());
            }
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.FREEZE, freeze,
                    BlueGreenJobs.SHORT_TIMEOUT, template.get()));
            return PhaseOutcome.stay("checking the target database, then freezing writes on the old one (Job " + freeze.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, freeze, BlueGreenJobs.SHORT_TIMEOUT), BlueGreenJobs.create(ctx, freeze, credentials, built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), freeze, BlueGreenJobs.SHORT_TIMEOUT);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(freeze));
        switch (outcome.state()) {
            case SUCCEEDED -> {
                freeze.setFinishedAt(ctx.nowText());
                JsonNode report = BlueGreenJobs.report(outcome);
                blueGreen.setFrozenAt(report.hasNonNull("frozenAtMillis")
                        ? Times.formatMillis(Instant.ofEpochMilli(report.get("frozenAtMillis").asLong())) : Times.formatMillis(ctx.now()));
                if (ctx.blueGreen().replicates()) {
                    return PhaseOutcome.advance(Phase.Copying, "WritesFrozen", "writes frozen on the old database at " + blueGreen.getFrozenAt()
                            + " (waited " + report.path("lockMillis").asText("?") + " ms for the writes in flight); the old side serves "
                            + "reads; the target database receives the last changes", deleteSecret);
                }
                return PhaseOutcome.advance(Phase.BackingUp, "WritesFrozen", "target database checked (empty, PostgreSQL "
                        + report.path("targetMajor").asText("?") + ", old " + report.path("sourceMajor").asText("?")
                        + "); writes frozen on the old database at " + blueGreen.getFrozenAt() + " (waited "
                        + report.path("lockMillis").asText("?") + " ms for the writes in flight); the old side serves reads", deleteSecret);
            }
            case FAILED -> {
                freeze.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                String reason = BlueGreenJobs.reason(tail, "FreezeFailed");
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                return Failures.fail(ctx, reason, "the freeze Job " + freeze.getJobName() + " failed (" + outcome.message() + ")"
                        + (tail == null ? "" : ": " + tail), actions.toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("checking the target database and freezing writes (Job " + freeze.getJobName() + "): "
                        + outcome.message(), RunningJob.recheckIn(ctx, freeze, BlueGreenJobs.SHORT_TIMEOUT));
            }
        }
    }
}
