package io.kratosupgrade.operator.lifecycle.handlers;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
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
        return Containers.kratos(pod, ctx.status().getContainerName()).map(c -> new KratosTemplate(pod, c));
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
