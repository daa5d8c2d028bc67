package io.kratosupgrade.operator.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the operator knows of a product's releases, loaded from a data file in its resources
 * (products/&lt;product&gt;/releases.json): each release's migrate command and migrations, and the configuration
 * rules of each release. The file's releases list what each adds to (or removes from) the one before it.
 */
public final class ReleaseKnowledge {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Release> releases;
    private final List<ConfigRule> rules;

    ReleaseKnowledge(List<Release> releases, List<ConfigRule> rules) {
        this.releases = releases.stream().sorted(Comparator.comparing(Release::version)).toList();
        this.rules = List.copyOf(rules);
    }

    public static ReleaseKnowledge load(String resource) {
        try (InputStream in = ReleaseKnowledge.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("knowledge base " + resource + " is not on the class path");
            return parse(JSON.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the knowledge base " + resource, e);
        }
    }

    static ReleaseKnowledge parse(JsonNode root) {
        List<Release> releases = new ArrayList<>();
        Map<String, Set<String>> current = new LinkedHashMap<>();
        for (JsonNode r : root.path("releases")) {
            r.path("migrations").path("removed").forEach(m -> current.remove(entry(m.asText()).getKey()));
            r.path("migrations").path("added").forEach(m -> {
                var e = entry(m.asText());
                current.put(e.getKey(), e.getValue());
            });
            List<String> args = new ArrayList<>();
            r.path("migrateArgs").forEach(a -> args.add(a.asText()));
            releases.add(new Release(KratosVersion.parse(r.path("version").asText()), r.path("date").asText(null),
                    List.copyOf(args), r.path("migrationsFrom").asText(null), Map.copyOf(current)));
        }
        List<ConfigRule> rules = new ArrayList<>();
        for (JsonNode r : root.path("rules")) {
            List<ConfigRule.Condition> when = new ArrayList<>();
            r.path("when").forEach(c -> when.add(new ConfigRule.Condition(c.path("path").asText(), c.path("op").asText(),
                    c.has("value") ? c.get("value") : null)));
            rules.add(new ConfigRule(r.path("id").asText(), KratosVersion.parse(r.path("release").asText()),
                    RuleSeverity.valueOf(r.path("severity").asText()), List.copyOf(when), r.path("schemaLacks").asText(null),
                    r.path("what").asText(), r.path("fix").asText(), r.path("link").asText(null)));
        }
        return new ReleaseKnowledge(releases, rules);
    }

    /** "20230920171028000000@cockroach,postgres" -> (version, {cockroach, postgres}); no '@': every database. */
    private static Map.Entry<String, Set<String>> entry(String text) {
        int at = text.indexOf('@');
        if (at < 0) return Map.entry(text, Set.of());
        return Map.entry(text.substring(0, at), new LinkedHashSet<>(List.of(text.substring(at + 1).split(","))));
    }

    public List<Release> releases() {
        return releases;
    }

    public List<ConfigRule> rules() {
        return rules;
    }

    public Optional<Release> release(KratosVersion version) {
        return releases.stream().filter(r -> r.version().compareTo(version) == 0).findFirst();
    }

    public Release newest() {
        return releases.get(releases.size() - 1);
    }

    /** The known releases an upgrade from {@code from} to {@code to} crosses: newer than from, up to to, in order. */
    public List<Release> crossed(KratosVersion from, KratosVersion to) {
        return releases.stream().filter(r -> r.version().compareTo(from) > 0 && r.version().compareTo(to) <= 0).toList();
    }

    /** The rules of the releases between {@code from} (exclusive) and {@code to} (inclusive), oldest release first. */
    public List<ConfigRule> rulesCrossing(KratosVersion from, KratosVersion to) {
        return rules.stream().filter(r -> r.release().compareTo(from) > 0 && r.release().compareTo(to) <= 0)
                .sorted(Comparator.comparing(ConfigRule::release)).toList();
    }

    /**
     * The release whose command line and migrations apply to {@code version}: itself when known, else the newest
     * known release older than it (a patch release the file does not list yet), else empty.
     */
    public Optional<Release> closest(KratosVersion version) {
        Release found = null;
        for (Release r : releases) {
            if (r.version().compareTo(version) <= 0) found = r;
        }
        return Optional.ofNullable(found);
    }
}
