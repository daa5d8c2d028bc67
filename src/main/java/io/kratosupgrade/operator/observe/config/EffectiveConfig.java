package io.kratosupgrade.operator.observe.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.kratosupgrade.operator.kratos.MigrateCommand;
import io.kratosupgrade.operator.observe.DsnLocator.ConfigData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration a Kratos container really runs with, read the way Kratos reads it: the files given with
 * {@code -c}/{@code --config}, merged in order (a later file's keys win), from the ConfigMaps and Secrets
 * mounted at their paths; the environment variables the kubelet gives the container (which override file
 * keys); and the identity schemas the configuration points at, where they are mounted files or
 * {@code base64://} URLs. What cannot be read is said in {@link #problems}, never guessed. Values stay in
 * memory: the configuration may hold secrets, and only keys and rule outcomes ever leave this class.
 *
 * @param file            the merged configuration files
 * @param environment     the container's environment variables (names and values)
 * @param identitySchemas the identity schemas that could be read
 * @param sources         where the configuration came from (files and their objects), for the plan
 * @param problems        what could not be read, for the plan
 */
public record EffectiveConfig(JsonNode file, Map<String, String> environment, List<JsonNode> identitySchemas,
                              List<String> sources, List<String> problems) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    public static EffectiveConfig read(PodSpec pod, Container container, ConfigData data) {
        List<String> sources = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        ObjectNode merged = JsonNodeFactory.instance.objectNode();
        List<String> flags = MigrateCommand.configFlags(serverArgs(container));
        List<String> files = new ArrayList<>();
        for (int i = 1; i < flags.size(); i += 2) {
            for (String f : flags.get(i).split(",")) {
                if (!f.isBlank()) files.add(f.trim());
            }
        }
        if (files.isEmpty()) {
            problems.add("the container passes no -c/--config file: only environment variables were checked");
        }
        for (String path : files) {
            readFile(pod, container, path, data, problems).ifPresent(text -> {
                try {
                    JsonNode tree = YAML.readTree(text.content());
                    if (tree != null && tree.isObject()) {
                        deepMerge(merged, (ObjectNode) tree);
                        sources.add(path + " (" + text.from() + ")");
                    } else {
                        problems.add(path + " (" + text.from() + ") is not a YAML or JSON object");
                    }
                } catch (Exception e) {
                    // The parser's message may quote the file: only say where it failed.
                    problems.add(path + " (" + text.from() + ") cannot be parsed as YAML or JSON");
                }
            });
        }
        Map<String, String> environment = environment(container, data, problems);
        List<JsonNode> schemas = new ArrayList<>();
        for (String url : schemaUrls(merged)) {
            readSchema(pod, container, url, data, problems).ifPresent(schemas::add);
        }
        return new EffectiveConfig(merged, environment, schemas, sources, problems);
    }

    private record FileText(String content, String from) {
    }

    private static Optional<FileText> readFile(PodSpec pod, Container container, String path, ConfigData data, List<String> problems) {
        List<MountedFile> candidates = MountedFile.resolve(pod, container, path);
        for (MountedFile m : candidates) {
            if (!m.readable()) {
                problems.add(m.problem());
                return Optional.empty();
            }
            Optional<Map<String, String>> content = "Secret".equals(m.kind()) ? data.secret(m.name()) : data.configMap(m.name());
            if (content.isPresent() && content.get().containsKey(m.key())) {
                return Optional.of(new FileText(content.get().get(m.key()), m.toString()));
            }
        }
        problems.add(path + ": " + candidates.get(0).kind() + " " + candidates.get(0).name() + " or its key "
                + candidates.get(0).key() + " does not exist");
        return Optional.empty();
    }

    private static List<String> serverArgs(Container container) {
        List<String> args = new ArrayList<>();
        if (container.getCommand() != null && container.getCommand().size() > 1) {
            args.addAll(container.getCommand().subList(1, container.getCommand().size()));
        }
        if (container.getArgs() != null) args.addAll(container.getArgs());
        return args;
    }

    /** Later keys win; objects merge key by key, anything else is replaced (koanf's merge). */
    static void deepMerge(ObjectNode into, ObjectNode from) {
        Iterator<Map.Entry<String, JsonNode>> fields = from.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode existing = into.get(f.getKey());
            if (existing != null && existing.isObject() && f.getValue().isObject()) {
                deepMerge((ObjectNode) existing, (ObjectNode) f.getValue());
            } else {
                into.set(f.getKey(), f.getValue().deepCopy());
            }
        }
    }

    /** The kubelet's view: envFrom sources in order (a later one wins), then env entries (which win over envFrom). */
    static Map<String, String> environment(Container container, ConfigData data, List<String> problems) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource source : container.getEnvFrom() == null ? List.<EnvFromSource>of() : container.getEnvFrom()) {
            String prefix = source.getPrefix() == null ? "" : source.getPrefix();
            Optional<Map<String, String>> values = Optional.empty();
            String what = null;
            if (source.getConfigMapRef() != null) {
                values = data.configMap(source.getConfigMapRef().getName());
                what = "ConfigMap " + source.getConfigMapRef().getName();
            } else if (source.getSecretRef() != null) {
                values = data.secret(source.getSecretRef().getName());
                what = "Secret " + source.getSecretRef().getName();
            }
            if (what != null && values.isEmpty()) {
                problems.add("envFrom " + what + " does not exist");
            }
            values.ifPresent(v -> v.forEach((k, val) -> env.put(prefix + k, val)));
        }
        for (EnvVar var : container.getEnv() == null ? List.<EnvVar>of() : container.getEnv()) {
            if (var.getValueFrom() == null) {
                env.put(var.getName(), var.getValue() == null ? "" : var.getValue());
            } else if (var.getValueFrom().getSecretKeyRef() != null) {
                var ref = var.getValueFrom().getSecretKeyRef();
                data.secret(ref.getName()).map(m -> m.get(ref.getKey())).ifPresentOrElse(v -> env.put(var.getName(), v),
                        () -> problems.add("env " + var.getName() + ": Secret " + ref.getName() + " key " + ref.getKey() + " does not exist"));
            } else if (var.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = var.getValueFrom().getConfigMapKeyRef();
                data.configMap(ref.getName()).map(m -> m.get(ref.getKey())).ifPresentOrElse(v -> env.put(var.getName(), v),
                        () -> problems.add("env " + var.getName() + ": ConfigMap " + ref.getName() + " key " + ref.getKey() + " does not exist"));
            }
        }
        return env;
    }

    /** identity.schemas[].url (v0.7+) and identity.default_schema_url (older configurations). */
    private static List<String> schemaUrls(JsonNode config) {
        List<String> urls = new ArrayList<>();
        config.path("identity").path("schemas").forEach(s -> {
            if (s.hasNonNull("url")) urls.add(s.get("url").asText());
        });
        if (config.path("identity").hasNonNull("default_schema_url")) {
            urls.add(config.path("identity").get("default_schema_url").asText());
        }
        return urls;
    }

    private static Optional<JsonNode> readSchema(PodSpec pod, Container container, String url, ConfigData data, List<String> problems) {
        try {
            if (url.startsWith("base64://")) {
                return Optional.of(YAML.readTree(new String(Base64.getDecoder().decode(url.substring(9)), StandardCharsets.UTF_8)));
            }
            if (url.startsWith("file://")) {
                String path = url.substring(7);
                return readFile(pod, container, path, data, problems).map(text -> {
                    try {
                        return YAML.readTree(text.content());
                    } catch (Exception e) {
                        problems.add("identity schema " + path + " cannot be parsed");
                        return null;
                    }
                });
            }
        } catch (Exception e) {
            problems.add("identity schema " + abbreviate(url) + " cannot be decoded");
            return Optional.empty();
        }
        problems.add("identity schema " + abbreviate(url) + " is not a mounted file or base64:// URL: not read (identity schema checks did not run)");
        return Optional.empty();
    }

    private static String abbreviate(String url) {
        return url.length() <= 80 ? url : url.substring(0, 80) + "...";
    }

    @Override
    public String toString() {
        // Never the values: the configuration and the environment may hold secrets.
        return "EffectiveConfig[sources=" + sources + ", " + environment.size() + " environment variables, "
                + identitySchemas.size() + " identity schemas, problems=" + problems + "]";
    }
}
