package io.kratosupgrade.operator.act;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.resources.DeploymentLock;
import java.net.HttpURLConnection;
import java.util.List;
import org.jboss.logging.Logger;

/** Carries out {@link Action}s against the API server, idempotently. */
public class Actuator {

    private static final Logger LOG = Logger.getLogger(Actuator.class);
    private static final PatchContext JSON_PATCH = new PatchContext.Builder().withPatchType(PatchType.JSON).build();
    private static final PatchContext MERGE_PATCH = new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).build();

    private final KubernetesClient client;

    public Actuator(KubernetesClient client) {
        this.client = client;
    }

    public void execute(KratosUpgrade owner, List<Action> actions) {
        String ns = owner.getMetadata().getNamespace();
        for (Action action : actions) {
            LOG.infof("%s/%s: %s", ns, owner.getMetadata().getName(), action.describe());
            if (action instanceof Action.CreateJob a) {
                a.job().getMetadata().setOwnerReferences(List.of(ownerReference(owner)));
                createIfAbsent(() -> client.batch().v1().jobs().inNamespace(ns).resource(a.job()).create());
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
            } else if (action instanceof Action.LockDeployment a) {
                lock(ns, a);
            } else if (action instanceof Action.UnlockDeployment a) {
                unlock(ns, a.deployment(), owner.getMetadata().getName());
            }
        }
    }

    /** A Deployment that changed since it was read is not locked; preflight reads it again and retries. */
    private void lock(String ns, Action.LockDeployment a) {
        try {
            client.apps().deployments().inNamespace(ns).withName(a.deployment())
                    .patch(MERGE_PATCH, DeploymentLock.lockPatch(a.resourceVersion(), a.holder()));
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            LOG.debugf("%s/%s changed while being locked; preflight looks again", ns, a.deployment());
        }
    }

    private void unlock(String ns, String name, String holder) {
        Deployment current = client.apps().deployments().inNamespace(ns).withName(name).get();
        if (current == null || !DeploymentLock.heldBy(current, holder)) {
            return;
        }
        client.apps().deployments().inNamespace(ns).withName(name).patch(MERGE_PATCH, DeploymentLock.unlockPatch());
    }

    private static Job suspend(Job job) {
        job.getSpec().setSuspend(true);
        return job;
    }

    private static void createIfAbsent(Runnable create) {
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
