package io.kratosupgrade.operator.act;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * A side effect a phase handler asks for. Handlers only describe actions; the {@link Actuator} carries
 * them out after the status announcing them has been written. Every action is idempotent, because a
 * restarted operator may repeat the last one.
 */
public sealed interface Action {

    /** Human-readable summary for logs: never includes Secret data. */
    String describe();

    record CreateJob(Job job) implements Action {
        public String describe() { return "create Job " + job.getMetadata().getName(); }
    }

    /** Deletes a Job of an earlier run and its pods (the dump files on the backup volume stay). */
    record DeleteJob(String name) implements Action {
        public String describe() { return "delete Job " + name + " of an earlier run"; }
    }

    /** Stops a Job's pods but keeps the Job for inspection (used when its pod can never start). */
    record SuspendJob(String name) implements Action {
        public String describe() { return "suspend Job " + name; }
    }

    record CreateSecret(Secret secret) implements Action {
        public String describe() { return "create Secret " + secret.getMetadata().getName(); }

        @Override
        public String toString() { return describe(); }
    }

    record DeleteSecret(String name) implements Action {
        public String describe() { return "delete Secret " + name; }
    }

    /** A JSON patch (RFC 6902) of the Kratos Deployment. */
    record PatchDeployment(String deployment, String jsonPatch, String what) implements Action {
        public String describe() { return "patch Deployment " + deployment + ": " + what; }
    }

    /** Take the Deployment for this run (optimistic: fails if the Deployment changed since it was read). */
    record LockDeployment(String deployment, String resourceVersion, String holder) implements Action {
        public String describe() { return "lock Deployment " + deployment + " for " + holder; }
    }

    record UnlockDeployment(String deployment) implements Action {
        public String describe() { return "unlock Deployment " + deployment; }
    }
}
