package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationSpec {

    @Default("15m")
    @Pattern(Durations.PATTERN)
    @ValidationRule(value = Durations.POSITIVE_RULE, message = Durations.POSITIVE_MESSAGE)
    @JsonPropertyDescription("How long the migration Job may run (Go duration). Kratos retries an unreachable "
            + "database for about 5 minutes before it gives up, so keep this above 5m.")
    private String timeout = "15m";

    public String getTimeout() { return timeout; }
    public void setTimeout(String timeout) { this.timeout = timeout; }
}
