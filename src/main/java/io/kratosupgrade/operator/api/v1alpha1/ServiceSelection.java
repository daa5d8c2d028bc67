package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.LinkedHashMap;
import java.util.Map;

/** A Service that selected the old Deployment's pods when a BlueGreen run started, and its selector then. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServiceSelection {

    @JsonPropertyDescription("Name of the Service.")
    private String name;

    @JsonPropertyDescription("Its selector before the run changed it: what the run puts back at its end.")
    private Map<String, String> selector = new LinkedHashMap<>();

    public ServiceSelection() {
    }

    public ServiceSelection(String name, Map<String, String> selector) {
        this.name = name;
        this.selector = new LinkedHashMap<>(selector);
    }

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public Map<String, String> getSelector() { return selector; }
    public void setSelector(Map<String, String> selector) { this.selector = selector; }
}
