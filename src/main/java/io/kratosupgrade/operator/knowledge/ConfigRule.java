package io.kratosupgrade.operator.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.List;

/**
 * A configuration change of one release that breaks or changes behaviour for an upgrade crossing into it.
 * It applies when every condition holds (and, with {@code schemaLacks}, when no identity schema carries that
 * keyword).
 *
 * @param schemaLacks a JSON path of a keyword identity schemas must carry (e.g. ory.sh/kratos.credentials.code.identifier), or null
 */
public record ConfigRule(String id, KratosVersion release, RuleSeverity severity, List<Condition> when, String schemaLacks,
                         String what, String fix, String link) {

    /**
     * One test on a configuration key.
     *
     * @param path  dotted path; {@code []} steps into every element of a list (hooks[].hook)
     * @param op    present, absent or equals
     * @param value for equals
     */
    public record Condition(String path, String op, JsonNode value) {
    }
}
