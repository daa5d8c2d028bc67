package io.kratosupgrade.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeStatus;
import io.kratosupgrade.operator.lifecycle.Times;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Writes the status of a KratosUpgrade (or a KratosFleetUpgrade), only if the object is still the one the status was decided from:
 * the write carries that object's resourceVersion, so the API server refuses it (409) when anything changed
 * in between (a spec edit, a retry annotation, another writer). A refused write is never re-applied to the
 * newer object: the status was decided from what is now stale, so the reconcile starts over.
 */
public class StatusWriter {

    private static final Logger LOG = Logger.getLogger(StatusWriter.class);

    private final KubernetesClient client;
    private final Clock clock;

    public StatusWriter(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /** Raised when the object changed since the status was decided; reconcile again from the newer object. */
    public static class StaleDecisionException extends RuntimeException {
        public StaleDecisionException(HasMetadata basis, Throwable cause) {
            super(basis.getKind() + " " + basis.getMetadata().getNamespace() + "/" + basis.getMetadata().getName()
                    + " changed since resourceVersion " + basis.getMetadata().getResourceVersion()
                    + "; deciding again from the newer object", cause);
        }
    }

    /**
     * @param basis  the object the decision was made from (its resourceVersion guards the write); not modified
     * @param status the decided status
     * @return the object as stored
     * @throws StaleDecisionException when the object changed since {@code basis} was read
     */
    public <S, R extends CustomResource<?, S>> R write(R basis, S status) {
        R copy = client.getKubernetesSerialization().clone(basis);
        copy.setStatus(status);
        try {
            return client.resource(copy).updateStatus();
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                throw new StaleDecisionException(basis, e);
            }
            throw e;
        }
    }

    /**
     * Records a failed reconcile in the newest stored object (never in a possibly stale copy), keeping its
     * phase and every other field; writes nothing when that is already recorded. Best effort: when the API
     * server cannot be written either, it is logged.
     */
    public void recordReconcileError(String namespace, String name, String reason, String message, boolean stalled) {
        updateLatest(namespace, name, (status, generation, now) ->
                Conditions.reconcileError(status, generation, reason, message, stalled, now));
    }

    /** Clears an active ReconcileError once a reconcile got through (in the newest stored object). */
    public void recordRecovery(String namespace, String name) {
        updateLatest(namespace, name, (status, generation, now) -> {
            if (Conditions.reconcileErrorActive(status)) {
                Conditions.recovered(status, generation, now);
            }
        });
    }

    private interface StatusEdit {
        void apply(KratosUpgradeStatus status, long generation, String now);
    }

    private void updateLatest(String namespace, String name, StatusEdit edit) {
        try {
            KratosUpgrade current = client.resources(KratosUpgrade.class).inNamespace(namespace).withName(name).get();
            if (current == null || current.getMetadata().getDeletionTimestamp() != null) {
                return;
            }
            KratosUpgradeStatus status = Optional.ofNullable(current.getStatus()).orElseGet(KratosUpgradeStatus::new);
            String before = client.getKubernetesSerialization().asJson(status);
            edit.apply(status, Optional.ofNullable(current.getMetadata().getGeneration()).orElse(1L), Times.format(clock.instant()));
            if (before.equals(client.getKubernetesSerialization().asJson(status))) {
                return;
            }
            current.setStatus(status);
            client.resource(current).updateStatus();
        } catch (KubernetesClientException e) {
            LOG.warnf("could not update the status of %s/%s: %s", namespace, name, e.getMessage());
        }
    }
}
