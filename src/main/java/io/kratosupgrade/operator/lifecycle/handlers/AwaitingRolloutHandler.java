package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import java.util.Optional;

/**
 * Gate mode: the database is ready for the target; the run is Ready and waits, with no deadline, for the
 * Deployment's owner to roll it. The Deployment informer wakes it when the template changes. The target counts
 * by release, not by image string: an owner may pull the same release from a mirror.
 */
public class AwaitingRolloutHandler implements PhaseHandler {

    /** Failure reason: the Deployment runs neither the release the run found nor the one it migrates for. */
    public static final String UNMIGRATED_RELEASE = "UnmigratedRelease";

    @Override
    public Phase phase() {
        return Phase.AwaitingRollout;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        if (ctx.templateImage().isEmpty()) {
            return KratosTemplate.gone(ctx);
        }
        String image = ctx.templateImage().get();
        Optional<KratosVersion> running = ctx.templateVersion();
        HopStatus hop = ctx.hop();
        String deployment = ctx.spec().getDeploymentName();
        if (running.isPresent() && running.get().equals(KratosVersion.parse(hop.getVersion()))) {
            if (!image.equals(hop.getImage())) {
                hop.setImage(image);
                ctx.status().setToImage(image);
            }
            return PhaseOutcome.advance(Phase.RollingOut, "RolloutStarted", "Deployment " + deployment + " was rolled to "
                    + image + " by its owner; waiting for the rollout to complete");
        }
        if (image.equals(ctx.status().getFromImage())) {
            return PhaseOutcome.stay("the database is ready for " + hop.getVersion() + " (migrated by Job "
                    + ctx.status().getMigration().getJobName() + "); waiting for the owner of Deployment " + deployment
                    + " to roll it to " + hop.getVersion() + " (" + hop.getImage() + "): in Gate mode the operator does not write it", null);
        }
        return unmigratedRelease(ctx, image, running);
    }

    /** The Deployment runs neither the release the run found nor the one it migrated for. */
    static PhaseOutcome unmigratedRelease(RunContext ctx, String image, Optional<KratosVersion> running) {
        String to = ctx.hop().getVersion();
        String what = running.map(v -> v + " (" + image + ")").orElse(image + ", whose tag is not a release");
        return Failures.fail(ctx, UNMIGRATED_RELEASE, "Deployment " + ctx.spec().getDeploymentName() + " was rolled to "
                + what + ", but the database was migrated for " + to + ": pods of another release may refuse to serve on it. "
                + running.map(v -> "Set spec.version to " + v + " to migrate for it, or roll the Deployment to " + to)
                .orElse("Roll the Deployment to " + to));
    }
}
