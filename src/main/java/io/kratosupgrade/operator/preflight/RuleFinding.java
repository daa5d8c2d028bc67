package io.kratosupgrade.operator.preflight;

import io.kratosupgrade.operator.knowledge.ConfigRule;

/**
 * A rule that applies to the running configuration.
 *
 * @param where the key as found: a config path and its file, or the environment variable that sets it
 * @param note  what could not be checked, if anything (an identity schema that could not be read), or null
 */
public record RuleFinding(ConfigRule rule, String where, String note) {

    /** "courier.message_ttl (file /etc/config/kratos.yaml) is refused from v0.11.0: ...; fix: ..." */
    public String describe() {
        return where + ": " + rule.what() + " (" + rule.release() + "); fix: " + rule.fix()
                + (note == null ? "" : "; " + note);
    }
}
