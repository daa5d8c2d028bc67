package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "(has(self.instances) && size(self.instances) > 0) != (has(self.count) && self.count > 0)",
        message = "canary: set either instances or count")
public class FleetCanary {

    @Size(max = 100)
    @JsonPropertyDescription("The canary instances by name: 'deployment' in the fleet's namespace, or "
            + "'namespace/deployment'. Names that select nothing are reported in status and skipped.")
    private List<@Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$") String>
            instances = new ArrayList<>();

    @Min(0)
    @Max(1000)
    @JsonPropertyDescription("Or: the first count instances in a stable order (by namespace, then Deployment name).")
    private Integer count;

    public List<String> getInstances() { return instances; }
    public void setInstances(List<String> instances) { this.instances = instances; }
    public Integer getCount() { return count; }
    public void setCount(Integer count) { this.count = count; }
}
