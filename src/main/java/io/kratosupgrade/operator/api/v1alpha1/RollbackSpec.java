package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RollbackSpec {

    @Default("Image")
    @JsonPropertyDescription("Image: when the new release does not complete its rollout in time (or fails "
            + "verification), restore the previous image and replica count; the run ends RolledBack. None: leave the "
            + "Deployment as it is; the run ends Failed.")
    private RollbackPolicy onFailure = RollbackPolicy.Image;

    public RollbackPolicy getOnFailure() { return onFailure; }
    public void setOnFailure(RollbackPolicy onFailure) { this.onFailure = onFailure; }
}
