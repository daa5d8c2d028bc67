package io.kratosupgrade.operator.lifecycle.handlers;

import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.lifecycle.PhaseHandler;
import io.kratosupgrade.operator.lifecycle.PhaseOutcome;
import io.kratosupgrade.operator.lifecycle.RunContext;
import java.util.Map;

/**
 * The plan waits for someone to approve exactly it: the approve annotation must carry status.plan.hash. An
 * approval of another plan (an older one, before the spec or the configuration changed) is ignored, and said so.
 * The annotation wakes the reconciler; nothing polls.
 */
public class AwaitingApprovalHandler implements PhaseHandler {

    @Override
    public Phase phase() {
        return Phase.AwaitingApproval;
    }

    @Override
    public PhaseOutcome handle(RunContext ctx) {
        String hash = ctx.status().getPlan().getHash();
        Map<String, String> annotations = ctx.upgrade().getMetadata().getAnnotations();
        String approval = annotations == null ? null : annotations.get(KratosUpgrade.APPROVE_ANNOTATION);
        if (hash.equals(approval)) {
            return PhaseOutcome.advance(ctx.firstStep(), "Approved", "plan " + hash + " approved; the upgrade starts");
        }
        String how = "kubectl annotate ku " + ctx.upgrade().getMetadata().getName() + " " + KratosUpgrade.APPROVE_ANNOTATION
                + "=" + hash + " --overwrite";
        if (approval != null) {
            return PhaseOutcome.stay("approval of plan " + approval + " ignored: the plan to approve is " + hash + " (" + how + ")", null);
        }
        return PhaseOutcome.stay("waiting for approval of plan " + hash + " (status.plan): " + how, null);
    }
}
