package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.LinkedHashMap;
import java.util.Map;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class FleetTemplate {

    @Size(max = 32)
    @JsonPropertyDescription("Labels added to every KratosUpgrade the fleet creates (besides the fleet's own).")
    private Map<String, String> labels = new LinkedHashMap<>();

    @Required
    @JsonPropertyDescription("The spec of every instance's KratosUpgrade, without deploymentName (see KratosUpgrade).")
    private UpgradeSettings spec = new UpgradeSettings();

    public Map<String, String> getLabels() { return labels; }
    public void setLabels(Map<String, String> labels) { this.labels = labels; }
    public UpgradeSettings getSpec() { return spec; }
    public void setSpec(UpgradeSettings spec) { this.spec = spec; }
}
