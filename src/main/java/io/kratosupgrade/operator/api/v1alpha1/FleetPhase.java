package io.kratosupgrade.operator.api.v1alpha1;

/** Where a fleet run stands. */
public enum FleetPhase {
    /** A wave is running, or the next one starts now. */
    Progressing,
    /** The last wave finished; the next starts once spec.rollout.pauseBetweenWaves has passed. */
    Paused,
    /** The last wave finished; the next waits for the annotation kratos-upgrade.io/approve-wave. */
    AwaitingApproval,
    /** More instances failed than spec.rollout.maxFailures allows: nothing new starts until a retry. */
    Halted,
    /** Every selected instance was upgraded. */
    Succeeded,
    /** Every selected instance finished and some failed, within the failure budget. */
    CompletedWithFailures,
    /** The spec cannot be carried out (see the message); nothing was started. */
    Invalid;

    public boolean isFinished() {
        return this == Succeeded || this == CompletedWithFailures;
    }
}
