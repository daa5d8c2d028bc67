package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A configuration change of a release the upgrade crosses that changes behaviour for this installation. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlanWarning {

    @JsonPropertyDescription("Rule id; list it in spec.acknowledgedWarnings to acknowledge the warning.")
    private String rule;

    @JsonPropertyDescription("The release that changes it.")
    private String release;

    @JsonPropertyDescription("The key as found (a config path, or the environment variable that sets it).")
    private String key;

    @JsonPropertyDescription("What changes.")
    private String what;

    @JsonPropertyDescription("What to do about it.")
    private String fix;

    @JsonPropertyDescription("Where the release notes say so.")
    private String link;

    public String getRule() { return rule; }
    public void setRule(String rule) { this.rule = rule; }
    public String getRelease() { return release; }
    public void setRelease(String release) { this.release = release; }
    public String getKey() { return key; }
    public void setKey(String key) { this.key = key; }
    public String getWhat() { return what; }
    public void setWhat(String what) { this.what = what; }
    public String getFix() { return fix; }
    public void setFix(String fix) { this.fix = fix; }
    public String getLink() { return link; }
    public void setLink(String link) { this.link = link; }
}
