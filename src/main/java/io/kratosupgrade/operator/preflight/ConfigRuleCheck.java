package io.kratosupgrade.operator.preflight;

import com.fasterxml.jackson.databind.JsonNode;
import io.kratosupgrade.operator.knowledge.ConfigRule;
import io.kratosupgrade.operator.knowledge.RuleSeverity;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.product.Product;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Evaluates the configuration rules of every release an upgrade crosses against the configuration the
 * Deployment really runs. An environment variable that overrides a key counts as that key. No I/O.
 *
 * @param blocks       rules of severity Block that apply: the upgrade must not start
 * @param warnings     rules of severity Warn that apply and were not acknowledged
 * @param acknowledged warnings the spec acknowledged by rule id
 */
public record ConfigRuleCheck(List<RuleFinding> blocks, List<RuleFinding> warnings, List<RuleFinding> acknowledged) {

    public static ConfigRuleCheck evaluate(List<ConfigRule> rules, EffectiveConfig config, Product product, Set<String> acknowledgedIds) {
        List<RuleFinding> blocks = new ArrayList<>();
        List<RuleFinding> warnings = new ArrayList<>();
        List<RuleFinding> acknowledged = new ArrayList<>();
        for (ConfigRule rule : rules) {
            applies(rule, config, product).ifPresent(finding -> {
                if (rule.severity() == RuleSeverity.Block) {
                    blocks.add(finding);
                } else if (acknowledgedIds.contains(rule.id())) {
                    acknowledged.add(finding);
                } else {
                    warnings.add(finding);
                }
            });
        }
        return new ConfigRuleCheck(blocks, warnings, acknowledged);
    }

    static Optional<RuleFinding> applies(ConfigRule rule, EffectiveConfig config, Product product) {
        String where = null;
        for (ConfigRule.Condition c : rule.when()) {
            List<Located> values = values(c.path(), config, product);
            boolean holds = switch (c.op()) {
                case "present" -> !values.isEmpty();
                case "absent" -> values.isEmpty();
                case "equals" -> values.stream().anyMatch(v -> v.value().asText().equals(c.value().asText()));
                default -> throw new IllegalStateException("rule " + rule.id() + ": unknown operator " + c.op());
            };
            if (!holds) return Optional.empty();
            if (where == null) {
                where = values.isEmpty() ? c.path() + " (not set)" : values.get(0).where();
            }
        }
        String note = null;
        if (rule.schemaLacks() != null) {
            if (config.identitySchemas().isEmpty()) {
                note = "no identity schema could be read to check for " + rule.schemaLacks();
            } else if (config.identitySchemas().stream().anyMatch(s -> carries(s, rule.schemaLacks()))) {
                return Optional.empty();
            }
        }
        return Optional.of(new RuleFinding(rule, where, note));
    }

    private record Located(JsonNode value, String where) {
    }

    /** The values at a path: the environment override if the container sets one, else the config files'. */
    private static List<Located> values(String path, EffectiveConfig config, Product product) {
        if (!path.contains("[]")) {
            String env = product.envOverride(path);
            String value = config.environment().get(env);
            if (value != null) {
                return List.of(new Located(com.fasterxml.jackson.databind.node.TextNode.valueOf(value), "environment variable " + env));
            }
        }
        List<Located> found = new ArrayList<>();
        // The files are merged before the rules run, so a key is placed in the files it may come from.
        String files = config.sources().isEmpty() ? "configuration file" : String.join(" or ", config.sources());
        collect(config.file(), path.split("\\."), 0, path, files, found);
        return found;
    }

    private static void collect(JsonNode node, String[] steps, int i, String path, String files, List<Located> out) {
        if (node == null || node.isMissingNode() || node.isNull()) return;
        if (i == steps.length) {
            out.add(new Located(node, path + " (" + files + ")"));
            return;
        }
        String step = steps[i];
        if (step.endsWith("[]")) {
            JsonNode list = node.get(step.substring(0, step.length() - 2));
            if (list != null && list.isArray()) list.forEach(e -> collect(e, steps, i + 1, path, files, out));
        } else {
            collect(node.get(step), steps, i + 1, path, files, out);
        }
    }

    /**
     * Whether a schema carries a keyword such as {@code ory.sh/kratos.credentials.code.identifier} set to true:
     * an {@code "ory.sh/kratos"} object anywhere in it (on a trait) with that path below.
     */
    static boolean carries(JsonNode schema, String keyword) {
        int split = keyword.indexOf('.', keyword.indexOf('/'));
        String anchor = keyword.substring(0, split);
        String[] rest = keyword.substring(split + 1).split("\\.");
        return search(schema, anchor, rest);
    }

    private static boolean search(JsonNode node, String anchor, String[] rest) {
        if (node == null) return false;
        if (node.isObject()) {
            JsonNode at = node.get(anchor);
            if (at != null) {
                JsonNode leaf = at;
                for (String step : rest) leaf = leaf.path(step);
                if (leaf.asBoolean(false)) return true;
            }
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                if (search(fields.next().getValue(), anchor, rest)) return true;
            }
        } else if (node.isArray()) {
            for (JsonNode e : node) {
                if (search(e, anchor, rest)) return true;
            }
        }
        return false;
    }
}
