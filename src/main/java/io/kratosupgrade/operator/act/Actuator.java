package io.kratosupgrade.operator.act;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.resources.ServiceSelectors;
import io.kratosupgrade.operator.resources.UpgradeLock;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/** Carries out {@link Action}s against the API server, idempotently. */
public class Actuator {

    private static final Logger LOG = Logger.getLogger(Actuator.class);
    private static final PatchContext JSON_PATCH = new PatchContext.Builder().withPatchType(PatchType.JSON).build();

    private final KubernetesClient client;

    public Actuator(KubernetesClient client) {
        this.client = client;
    }

    /** @param created told each object this call created (not one that already existed) */
    public void execute(KratosUpgrade owner, List<Action> actions, Consumer<HasMetadata> created) {
        String ns = owner.getMetadata().getNamespace();
        for (Action action : actions) {
            LOG.infof("%s/%s: %s", ns, owner.getMetadata().getName(), action.describe());
            if (action instanceof Action.CreateJob a) {
                a.job().getMetadata().setOwnerReferences(List.of(ownerReference(owner)));
                createIfAbsent(() -> created.accept(client.batch().v1().jobs().inNamespace(ns).resource(a.job()).create()));
            } else if (action instanceof Action.DeleteJob a) {
                client.batch().v1().jobs().inNamespace(ns).withName(a.name())
                        .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
            } else if (action instanceof Action.SuspendJob a) {
                client.batch().v1().jobs().inNamespace(ns).withName(a.name()).edit(Actuator::suspend);
            } else if (action instanceof Action.CreateSecret a) {
                a.secret().getMetadata().setOwnerReferences(List.of(ownerReference(owner)));
                createIfAbsent(() -> client.secrets().inNamespace(ns).resource(a.secret()).create());
            } else if (action instanceof Action.DeleteSecret a) {
                client.secrets().inNamespace(ns).withName(a.name()).delete();
            } else if (action instanceof Action.PatchDeployment a) {
                client.apps().deployments().inNamespace(ns).withName(a.deployment()).patch(JSON_PATCH, a.jsonPatch());
            } else if (action instanceof Action.CreateDeployment a) {
                createIfAbsent(() -> created.accept(client.apps().deployments().inNamespace(ns).resource(a.deployment()).create()));
            } else if (action instanceof Action.DeleteDeployment a) {
                // Foreground: the Deployment stays visible until its pods are gone, which is what the run waits for.
                client.apps().deployments().inNamespace(ns).withName(a.name()).withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
            } else if (action instanceof Action.SetServiceSelector a) {
                client.services().inNamespace(ns).withName(a.service()).patch(JSON_PATCH, ServiceSelectors.patch(a.selector()));
            } else if (action instanceof Action.AcquireLock a) {
                acquire(owner, a);
            } else if (action instanceof Action.ReleaseLock a) {
                release(ns, a.deployment(), owner.getMetadata().getName());
            }
        }
    }

    /** A lock taken by someone else meanwhile is not an error: preflight reads it again and says who holds it. */
    private void acquire(KratosUpgrade owner, Action.AcquireLock a) {
        Lease lease = a.lease();
        lease.getMetadata().setOwnerReferences(List.of(ownerReference(owner)));
        var leases = client.leases().inNamespace(lease.getMetadata().getNamespace());
        try {
            if (a.staleResourceVersion() == null) {
                leases.resource(lease).create();
            } else {
                lease.getMetadata().setResourceVersion(a.staleResourceVersion());
                leases.resource(lease).update();
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            LOG.debugf("%s: the lock changed while being taken; preflight looks again", a.describe());
        }
    }

    private void release(String ns, String deployment, String holder) {
        var lease = client.leases().inNamespace(ns).withName(UpgradeLock.leaseName(deployment));
        Lease current = lease.get();
        if (current != null && UpgradeLock.heldBy(current, holder)) {
            lease.lockResourceVersion(current.getMetadata().getResourceVersion()).delete();
        }
    }

    private static Job suspend(Job job) {
        job.getSpec().setSuspend(true);
        return job;
    }

    static void createIfAbsent(Runnable create) {
        try {
            create.run();
        } catch (KubernetesClientException e) {
            // Deterministic names: "already exists" means an earlier attempt (maybe before a restart) made it.
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
        }
    }

    static OwnerReference ownerReference(KratosUpgrade owner) {
        return new OwnerReferenceBuilder()
                .withApiVersion(owner.getApiVersion())
                .withKind(owner.getKind())
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }
}
