package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.LabelSelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class KratosFleetUpgradeSpec {

    @Required
    @JsonPropertyDescription("The Kratos Deployments to upgrade, by label. An empty selector selects every Deployment "
            + "of the namespaces in scope.")
    private LabelSelector selector;

    @JsonPropertyDescription("Namespaces whose Deployments the fleet selects, by label. Without it the fleet selects in "
            + "its own namespace only. Only fleets in the operator's fleet-admin namespaces (the Helm chart: the "
            + "operator's namespace) may set it; elsewhere the fleet is refused (NamespaceSelectorNotAllowed).")
    private LabelSelector namespaceSelector;

    @Required
    @JsonPropertyDescription("The KratosUpgrade each instance gets: its spec, less deploymentName, which the fleet fills "
            + "in. Changing it starts a new fleet run: instances are upgraded again, wave by wave.")
    private FleetTemplate template = new FleetTemplate();

    @Default("{}")
    @JsonPropertyDescription("Canary, wave size, pauses and failure budget.")
    private FleetRolloutPolicy rollout = new FleetRolloutPolicy();

    public LabelSelector getSelector() { return selector; }
    public void setSelector(LabelSelector selector) { this.selector = selector; }
    public LabelSelector getNamespaceSelector() { return namespaceSelector; }
    public void setNamespaceSelector(LabelSelector namespaceSelector) { this.namespaceSelector = namespaceSelector; }
    public FleetTemplate getTemplate() { return template; }
    public void setTemplate(FleetTemplate template) { this.template = template; }
    public FleetRolloutPolicy getRollout() { return rollout; }
    public void setRollout(FleetRolloutPolicy rollout) { this.rollout = rollout; }
}
