package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReleaseImage {

    @Required
    @Pattern(KratosUpgradeSpec.VERSION_PATTERN)
    @JsonPropertyDescription("A release, for example v0.13.0.")
    private String version;

    @Required
    @Size(min = 1, max = 512)
    @Pattern(ImageReferences.PATTERN)
    @JsonPropertyDescription("The full image reference of that release.")
    private String image;

    public ReleaseImage() {
    }

    public ReleaseImage(String version, String image) {
        this.version = version;
        this.image = image;
    }

    public String getVersion() { return version; }
    public void setVersion(String version) { this.version = version; }
    public String getImage() { return image; }
    public void setImage(String image) { this.image = image; }
}
