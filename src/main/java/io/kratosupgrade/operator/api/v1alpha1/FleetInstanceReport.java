package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** An instance that needs a look: it failed, or the fleet leaves it alone. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FleetInstanceReport {

    @JsonPropertyDescription("namespace/deployment")
    private String instance;

    @JsonPropertyDescription("The KratosUpgrade that upgrades it (kubectl describe ku -n NAMESPACE NAME).")
    private String upgrade;

    private String phase;
    private String reason;
    private String message;

    public FleetInstanceReport() {
    }

    public FleetInstanceReport(String instance, String upgrade, String phase, String reason, String message) {
        this.instance = instance;
        this.upgrade = upgrade;
        this.phase = phase;
        this.reason = reason;
        this.message = message;
    }

    public String getInstance() { return instance; }
    public void setInstance(String instance) { this.instance = instance; }
    public String getUpgrade() { return upgrade; }
    public void setUpgrade(String upgrade) { this.upgrade = upgrade; }
    public String getPhase() { return phase; }
    public void setPhase(String phase) { this.phase = phase; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
}
