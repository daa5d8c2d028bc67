package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.resources.NewSideBuilder;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kratosupgrade.operator.lifecycle.Failures;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import io.kratosupgrade.operator.resources.Containers;
import java.util.Optional;

/** The Deployment's pod template and its Kratos container: what the Jobs that run Kratos's own binary are built from. */
record KratosTemplate(PodSpec pod, Container container) {

    /** Empty when the Deployment or its Kratos container has disappeared since preflight. */
    static Optional<KratosTemplate> of(RunContext ctx) {
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) return Optional.empty();
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        return Containers.of(pod, ctx.status().getContainerName(), ctx.product().defaultContainerName()).map(c -> new KratosTemplate(pod, c));
    }

    /**
     * What a Job that runs Kratos's own binary is built from in this run: the Deployment's template or, under
     * BlueGreen, the new side's (the target image, and the DSN of the target database, which is what it migrates).
     */
    static Optional<KratosTemplate> forMigration(RunContext ctx) {
        if (ctx.strategy() != Strategy.BlueGreen) return of(ctx);
        Deployment deployment = ctx.observed().deployment();
        if (deployment == null) return Optional.empty();
        PodTemplateSpec template = NewSideBuilder.podTemplate(deployment.getSpec().getTemplate(),
                ServiceSelectors.colour(ctx.status().getBlueGreen().getNewDeployment()), ctx.status().getContainerName(),
                ctx.hop().getImage(), ctx.blueGreen().getTargetDatabase());
        PodSpec pod = template.getSpec();
        return Containers.of(pod, ctx.status().getContainerName(), ctx.product().defaultContainerName()).map(c -> new KratosTemplate(pod, c));
    }

    /** The step fails: which of the two is gone. */
    static PhaseOutcome gone(RunContext ctx) {
        if (ctx.observed().deployment() == null) {
            return Failures.fail(ctx, "DeploymentNotFound", "Deployment " + ctx.spec().getDeploymentName() + " disappeared");
        }
        return Failures.fail(ctx, "ContainerNotFound", "container " + ctx.status().getContainerName()
                + " disappeared from Deployment " + ctx.spec().getDeploymentName());
    }
}
