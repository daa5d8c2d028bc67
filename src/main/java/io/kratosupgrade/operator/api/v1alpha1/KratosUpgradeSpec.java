package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The Kratos Deployment to upgrade, and how ({@link UpgradeSettings}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KratosUpgradeSpec extends UpgradeSettings {

    @Required
    @Size(min = 1, max = 253)
    @Pattern(DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of the Kratos Deployment to upgrade, in the namespace of this object.")
    private String deploymentName;

    public String getDeploymentName() { return deploymentName; }
    public void setDeploymentName(String deploymentName) { this.deploymentName = deploymentName; }
}
