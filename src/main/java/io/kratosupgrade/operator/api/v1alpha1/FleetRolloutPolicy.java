package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class FleetRolloutPolicy {

    @JsonPropertyDescription("The first wave, on its own: a few instances that must succeed before any other starts.")
    private FleetCanary canary;

    @Default("1")
    @ValidationRule(value = "type(self) == int ? self >= 1 : self.matches('^([1-9][0-9]?|100)%$')",
            message = "maxConcurrent is a count of at least 1 or a percentage from 1% to 100%")
    @JsonPropertyDescription("Size of each wave after the canary: a count (5) or a percentage of the selected instances "
            + "('10%', rounded up, at least 1). A wave's instances are upgraded at the same time; the next wave starts "
            + "when every one of them finished. The operator-wide limit on concurrent migrations applies as well.")
    private IntOrString maxConcurrent = new IntOrString(1);

    @Pattern(Durations.PATTERN)
    @ValidationRule(value = Durations.POSITIVE_RULE, message = Durations.POSITIVE_MESSAGE)
    @JsonPropertyDescription("How long to wait after a wave finished before the next one starts (Go duration, e.g. "
            + "10m), to watch the upgraded tenants for a while.")
    private String pauseBetweenWaves;

    @Default("false")
    @JsonPropertyDescription("true: each wave after the first waits until someone sets the annotation "
            + "kratos-upgrade.io/approve-wave on the fleet to its number (status.nextWave).")
    private boolean approveEachWave;

    @Default("0")
    @Min(0)
    @Max(100000)
    @JsonPropertyDescription("How many instances may fail before the fleet halts: no new instance starts, running ones "
            + "finish their run. 0 halts on the first failure. After a fix, a new value of the annotation "
            + "kratos-upgrade.io/retry on the fleet retries the failed instances and resumes; instances that "
            + "succeeded are not upgraded again.")
    private int maxFailures;

    public FleetCanary getCanary() { return canary; }
    public void setCanary(FleetCanary canary) { this.canary = canary; }
    public IntOrString getMaxConcurrent() { return maxConcurrent; }
    public void setMaxConcurrent(IntOrString maxConcurrent) { this.maxConcurrent = maxConcurrent; }
    public String getPauseBetweenWaves() { return pauseBetweenWaves; }
    public void setPauseBetweenWaves(String pauseBetweenWaves) { this.pauseBetweenWaves = pauseBetweenWaves; }
    public boolean isApproveEachWave() { return approveEachWave; }
    public void setApproveEachWave(boolean approveEachWave) { this.approveEachWave = approveEachWave; }
    public int getMaxFailures() { return maxFailures; }
    public void setMaxFailures(int maxFailures) { this.maxFailures = maxFailures; }
}
