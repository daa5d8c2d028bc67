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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * BlueGreen copy Replication, before the freeze: one Job copies the schema into the target, publishes the old
 * database's tables, subscribes the target and waits for the initial copy (see {@link BlueGreenJobBuilder}). The old
 * side serves reads and writes meanwhile; once the Job ends the subscription keeps the target in sync, and the freeze
 * that follows waits only for the last changes.
 */
public class ReplicatingHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.Replicating;
    }

    @Override
    public void enter(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        blueGreen.setReplication(BlueGreenJobs.step(ctx, BlueGreenJobBuilder.Operation.REPLICATE.step()));
        BlueGreenJobs.subscription(ctx);
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        BlueGreenStatus blueGreen = ctx.status().getBlueGreen();
        StepStatus replication = blueGreen.getReplication();
        // The initial copy moves every row, as a restore does: the backup's timeout bounds it.
        Duration timeout = Times.goDuration(ctx.spec().getBackup().getTimeout());
        Optional<Job> job = RunningJob.job(ctx, replication);
        if (job.isEmpty()) {
            Optional<KratosTemplate> template = KratosTemplate.of(ctx);
            if (template.isEmpty()) return KratosTemplate.gone(ctx);
            BlueGreenJobs.Credentials credentials = BlueGreenJobs.credentials(ctx, true, true, true);
            if (credentials.problem() != null) {
                return Failures.fail(ctx, "DsnUnreadable", "cannot start replication: " + credentials.problem());
            }
            Job built = BlueGreenJobBuilder.build(BlueGreenJobs.input(ctx, BlueGreenJobBuilder.Operation.REPLICATE, replication, timeout,
                    template.get()));
            return PhaseOutcome.stay("subscribing the target database to the old one (Job " + replication.getJobName() + ")",
                    RunningJob.deadlineLeft(ctx, replication, timeout), BlueGreenJobs.create(ctx, replication, credentials, built));
        }
        JobOutcome outcome = RunningJob.outcome(ctx, job.get(), replication, timeout);
        Action deleteSecret = new Action.DeleteSecret(BlueGreenJobs.secretName(replication));
        switch (outcome.state()) {
            case SUCCEEDED -> {
                replication.setFinishedAt(ctx.nowText());
                JsonNode report = BlueGreenJobs.report(outcome);
                if (report.hasNonNull("initialSyncMillis")) blueGreen.setInitialSyncSeconds(report.get("initialSyncMillis").asLong() / 1000.0);
                return PhaseOutcome.advance(Phase.Freezing, "ReplicaSynced", "the target database follows the old one through "
                        + "subscription " + blueGreen.getSubscription() + ": " + report.path("tables").asText("?") + " tables copied in "
                        + (blueGreen.getInitialSyncSeconds() == null ? "?" : blueGreen.getInitialSyncSeconds()) + " s while the old side "
                        + "served", deleteSecret);
            }
            case FAILED -> {
                replication.setFinishedAt(ctx.nowText());
                String tail = Redaction.tail(outcome.terminationMessage(), VerifyingBackupHandler.LOG_TAIL_CHARS);
                List<Action> actions = new ArrayList<>(RunningJob.stopIfRunning(job.get(), outcome));
                actions.add(deleteSecret);
                return Failures.fail(ctx, BlueGreenJobs.reason(tail, "ReplicationFailed"), "the replication Job " + replication.getJobName()
                        + " failed (" + outcome.message() + ")" + (tail == null ? "" : ": " + tail), actions.toArray(Action[]::new));
            }
            default -> {
                return PhaseOutcome.stay("copying the tables into the target database through subscription " + blueGreen.getSubscription()
                        + " (Job " + replication.getJobName() + "): " + outcome.message(), RunningJob.recheckIn(ctx, replication, timeout));
            }
        }
    }
}
