package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RollbackSpec {

    @Default("Image")
    @JsonPropertyDescription("Image: when the new release does not complete its rollout in time (or fails "
            + "verification), restore the previous image and replica count; the run ends RolledBack; the database stays "
            + "migrated. ImageAndDatabase: first scale Kratos to zero and restore the verified dump into the database in "
            + "one transaction (the Kratos schema as it was dumped, row counts checked against the dump's), then the "
            + "previous image; needs backup.policy Required and backup.verify. None: leave the Deployment as it is; the "
            + "run ends Failed.")
    private RollbackPolicy onFailure = RollbackPolicy.Image;

    @Default("false")
    @JsonPropertyDescription("ImageAndDatabase restores the dump only when that loses nothing: under Recreate, when no pod "
            + "of the new release ever became ready (nothing could write to the new schema). Otherwise (any Rolling run, "
            + "a later hop, a new pod that was ready) writes made after the dump would be lost, and the operator rolls "
            + "back the image only and says why, unless this is true.")
    private boolean allowDataLoss;

    public boolean getAllowDataLoss() { return allowDataLoss; }
    public void setAllowDataLoss(boolean allowDataLoss) { this.allowDataLoss = allowDataLoss; }

    public RollbackPolicy getOnFailure() { return onFailure; }
    public void setOnFailure(RollbackPolicy onFailure) { this.onFailure = onFailure; }
}
