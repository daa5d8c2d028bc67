package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApprovalSpec {

    @Default("false")
    @JsonPropertyDescription("true: after preflight has written status.plan, the run waits in phase AwaitingApproval, "
            + "touching nothing, until the plan is approved with kubectl annotate ku NAME "
            + "kratos-upgrade.io/approve=<status.plan.hash>. An approval of another plan is ignored.")
    private boolean required;

    public boolean isRequired() { return required; }
    public void setRequired(boolean required) { this.required = required; }
}
