package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** One key of a Secret in the KratosUpgrade's namespace: the operator reads it where it needs it and never copies it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretKeyReference {

    @Required
    @Size(min = 1, max = 253)
    @Pattern(UpgradeSettings.DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of the Secret, in the namespace of this object.")
    private String name;

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[-._a-zA-Z0-9]+$")
    @JsonPropertyDescription("Key in the Secret whose value is used.")
    private String key;

    public SecretKeyReference() {
    }

    public SecretKeyReference(String name, String key) {
        this.name = name;
        this.key = key;
    }

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getKey() { return key; }
    public void setKey(String key) { this.key = key; }

    /** "Secret name, key key": safe to show (it names the value, never holds it). */
    @Override
    public String toString() {
        return "Secret " + name + ", key " + key;
    }
}
