package io.kratosupgrade.operator.resources;

import java.time.ZonedDateTime;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.util.Map;

/**
 * One run at a time per Deployment: the run that passes preflight creates a Lease named after the Deployment and
 * holding its own name. Creation is atomic (the second creator gets "already exists"), and taking over a stale
 * Lease is an update with the resourceVersion that was read, so two runs racing cannot both win. The lock lives
 * beside the Deployment, not on it: in Gate mode the operator never writes the Deployment, and a label on it would
 * be drift to a GitOps tool. The Lease is owned by the holding KratosUpgrade, so deleting that frees it.
 */
public final class UpgradeLock {

    /** Annotation on the Lease naming the Deployment it locks (names can exceed label length). */
    public static final String DEPLOYMENT_ANNOTATION = io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade.GROUP + "/deployment";

    private UpgradeLock() {
    }

    public static String leaseName(String deployment) {
        return Names.bounded(deployment + "-upgrade-lock", 253);
    }

    /** The Lease locking {@code deployment} for the KratosUpgrade named {@code holder}; the owner reference is added when it is created. */
    public static Lease lease(String namespace, String deployment, String holder, ZonedDateTime now) {
        return new LeaseBuilder()
                .withNewMetadata()
                .withName(leaseName(deployment))
                .withNamespace(namespace)
                .withLabels(Map.of(Labels.MANAGED_BY, Labels.OPERATOR))
                .withAnnotations(Map.of(DEPLOYMENT_ANNOTATION, deployment))
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity(holder)
                .withAcquireTime(now)
                .endSpec()
                .build();
    }

    /** The name of the KratosUpgrade holding the lock, or null for no Lease. */
    public static String holder(Lease lease) {
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    public static boolean heldBy(Lease lease, String upgradeName) {
        return upgradeName.equals(holder(lease));
    }
}
