package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
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

    @Default("3")
    @Min(1)
    @Max(10)
    @JsonPropertyDescription("How many times the data migration some upgrades need after the schema migration (Keto v0.6 "
            + "to v0.7: keto namespace migrate legacy) is started before the run gives up and switches back. Ory's guide "
            + "says to re-run it until it succeeds; an attempt that reports broken records is not re-run.")
    private Integer dataMigrationAttempts = 3;

    public Integer getDataMigrationAttempts() { return dataMigrationAttempts; }
    public void setDataMigrationAttempts(Integer dataMigrationAttempts) { this.dataMigrationAttempts = dataMigrationAttempts; }
    public String getTimeout() { return timeout; }
    public void setTimeout(String timeout) { this.timeout = timeout; }
}
