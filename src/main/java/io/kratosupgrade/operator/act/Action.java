package io.kratosupgrade.operator.act;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.kratosupgrade.operator.resources.UpgradeLock;

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

    /**
     * Creates a Deployment that outlives this object (no owner reference): BlueGreen's new side, which serves once
     * traffic moved to it, whatever happens to the KratosUpgrade.
     */
    record CreateDeployment(Deployment deployment) implements Action {
        public String describe() { return "create Deployment " + deployment.getMetadata().getName(); }
    }

    record DeleteDeployment(String name) implements Action {
        public String describe() { return "delete Deployment " + name; }
    }

    /** Replaces a Service's selector: BlueGreen's switch, and putting the selector back. */
    record SetServiceSelector(String service, java.util.Map<String, String> selector) implements Action {
        public String describe() { return "set the selector of Service " + service + " to " + selector; }
    }

    /**
     * Takes the Deployment for this run: creates the lock Lease, or, when {@code staleResourceVersion} is set, takes over
     * the Lease of a finished or deleted run (optimistically: it fails if the Lease changed since it was read).
     */
    record AcquireLock(Lease lease, String staleResourceVersion) implements Action {
        public String describe() {
            return (staleResourceVersion == null ? "lock" : "take over the stale lock of") + " Deployment "
                    + lease.getMetadata().getAnnotations().get(UpgradeLock.DEPLOYMENT_ANNOTATION) + " for " + lease.getSpec().getHolderIdentity();
        }
    }

    /** Frees the Deployment, if this run still holds it. */
    record ReleaseLock(String deployment) implements Action {
        public String describe() { return "unlock Deployment " + deployment; }
    }
}
