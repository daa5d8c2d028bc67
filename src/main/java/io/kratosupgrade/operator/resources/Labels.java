package io.kratosupgrade.operator.resources;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.util.LinkedHashMap;
import java.util.Map;

/** Labels and annotations the operator puts on what it creates or touches; informers select on them. */
public final class Labels {

    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String OPERATOR = "kratos-upgrade-operator";
    /** Selector of the Job and Pod informers. */
    public static final String OWNED_SELECTOR = MANAGED_BY + "=" + OPERATOR;

    public static final String STEP = KratosUpgrade.GROUP + "/step";
    public static final String RUN = KratosUpgrade.GROUP + "/run";
    public static final String JOB = KratosUpgrade.GROUP + "/job";
    /** Annotation naming the KratosUpgrade a Job or pod belongs to (names can exceed label length). */
    public static final String UPGRADE_ANNOTATION = KratosUpgrade.GROUP + "/upgrade";

    /**
     * Labels an operator version before the Lease lock ({@link UpgradeLock}) put on a Deployment it held; a finished
     * run removes them.
     */
    public static final String LEGACY_MANAGED_LABEL = KratosUpgrade.GROUP + "/managed";
    public static final String LEGACY_LOCK_LABEL = KratosUpgrade.GROUP + "/locked-by";

    private Labels() {
    }

    public static Map<String, String> forJob(int run, String step, String jobName) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, OPERATOR);
        labels.put("app.kubernetes.io/name", "kratos-upgrade");
        labels.put("app.kubernetes.io/component", step);
        labels.put(STEP, step);
        labels.put(RUN, Integer.toString(run));
        labels.put(JOB, jobName);
        return labels;
    }

    public static Map<String, String> upgradeAnnotation(KratosUpgrade ku) {
        return Map.of(UPGRADE_ANNOTATION, ku.getMetadata().getName());
    }
}
