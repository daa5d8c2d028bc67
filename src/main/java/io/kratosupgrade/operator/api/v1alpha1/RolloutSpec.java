package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RolloutSpec {

    @Default("10m")
    @Pattern(Durations.PATTERN)
    @ValidationRule(value = Durations.POSITIVE_RULE, message = Durations.POSITIVE_MESSAGE)
    @JsonPropertyDescription("How long the Deployment may take to complete its rollout, by `kubectl rollout status` "
            + "rules (Go duration). Also bounds a rollback's rollout.")
    private String timeout = "10m";

    public String getTimeout() { return timeout; }
    public void setTimeout(String timeout) { this.timeout = timeout; }
}
