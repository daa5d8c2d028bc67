package io.kratosupgrade.operator.docs;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import io.kratosupgrade.operator.testsupport.Crds;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Renders docs/api-reference.md from the committed CRDs, so the reference is the schema users install. */
final class ApiReference {

    static final Path DOC = Path.of("docs", "api-reference.md");

    private ApiReference() {
    }

    static String render() throws IOException {
        StringBuilder out = new StringBuilder("# API reference\n\n")
                .append("Generated from the CRDs in `crds/` by `ApiReferenceTest` (run it with `-Dupdate.docs=true` after ")
                .append("changing the model). `kubectl explain` shows the same descriptions.\n");
        for (String file : Crds.FILES) {
            Path path = Crds.committed(file);
            CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(path), CustomResourceDefinition.class);
            var version = crd.getSpec().getVersions().get(0);
            out.append("\n## ").append(crd.getSpec().getNames().getKind()).append(' ')
                    .append(crd.getSpec().getGroup()).append('/').append(version.getName()).append("\n\n")
                    .append("From `").append(path).append("`. Short name: `")
                    .append(String.join("`, `", crd.getSpec().getNames().getShortNames())).append("`; namespaced; ")
                    .append("`kubectl explain ").append(crd.getSpec().getNames().getSingular()).append(".spec`.\n");
            JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
            for (String part : new String[] {"spec", "status"}) {
                out.append("\n### ").append(crd.getSpec().getNames().getKind()).append(' ').append(part).append("\n\n")
                        .append("| field | type | default | validation | description |\n|---|---|---|---|---|\n");
                walk(part, root.getProperties().get(part), out);
            }
        }
        return out.toString();
    }

    private static void walk(String path, JSONSchemaProps node, StringBuilder out) {
        Map<String, JSONSchemaProps> children = new TreeMap<>(node.getProperties() == null ? Map.of() : node.getProperties());
        for (var e : children.entrySet()) {
            String field = path + "." + e.getKey();
            JSONSchemaProps p = e.getValue();
            boolean required = node.getRequired() != null && node.getRequired().contains(e.getKey());
            out.append("| `").append(field).append("`").append(required ? " (required)" : "")
                    .append(" | ").append(type(p))
                    .append(" | ").append(p.getDefault() == null ? "" : "`" + Serialization.asJson(p.getDefault()) + "`")
                    .append(" | ").append(validation(p))
                    .append(" | ").append(cell(p.getDescription())).append(" |\n");
            if (p.getProperties() != null && !p.getProperties().isEmpty()) {
                walk(field, p, out);
            } else if (p.getItems() != null && p.getItems().getSchema() != null && p.getItems().getSchema().getProperties() != null
                    && !"conditions".equals(e.getKey())) {
                walk(field + "[]", p.getItems().getSchema(), out);
            }
        }
    }

    private static String type(JSONSchemaProps p) {
        if ("array".equals(p.getType()) && p.getItems() != null && p.getItems().getSchema() != null) {
            return "array of " + p.getItems().getSchema().getType();
        }
        return p.getType() == null ? "" : p.getType();
    }

    private static String validation(JSONSchemaProps p) {
        StringBuilder v = new StringBuilder();
        if (p.getEnum() != null && !p.getEnum().isEmpty()) v.append("one of ").append(String.join(", ", p.getEnum().stream().map(x -> "`" + x.asText() + "`").toList())).append("; ");
        if (p.getPattern() != null) v.append("pattern `").append(p.getPattern().replace("|", "\\|")).append("`; ");
        if (p.getMinLength() != null || p.getMaxLength() != null) {
            v.append("length ").append(p.getMinLength() == null ? 0 : p.getMinLength()).append("..").append(p.getMaxLength()).append("; ");
        }
        if (p.getXKubernetesValidations() != null && !p.getXKubernetesValidations().isEmpty()) {
            for (ValidationRule r : p.getXKubernetesValidations()) v.append(cell(r.getMessage())).append("; ");
        }
        return v.toString().replaceAll("; $", "");
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }
}
