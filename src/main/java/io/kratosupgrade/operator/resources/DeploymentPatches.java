package io.kratosupgrade.operator.resources;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON patches for the Kratos Deployment. Each patch first tests that the container at the index is
 * still the Kratos container, so a concurrent edit of the pod template fails the patch instead of
 * changing the wrong container.
 */
public final class DeploymentPatches {

    private static final ObjectMapper JSON = new ObjectMapper();

    private DeploymentPatches() {
    }

    public static String setImage(int containerIndex, String containerName, String image) {
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        ops.add(op("test", "/spec/template/spec/containers/" + containerIndex + "/name", containerName));
        ops.add(op("replace", "/spec/template/spec/containers/" + containerIndex + "/image", image));
        return write(ops);
    }

    public static String setReplicas(int replicas) {
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        ObjectNode op = JsonNodeFactory.instance.objectNode();
        op.put("op", "replace").put("path", "/spec/replicas").put("value", replicas);
        ops.add(op);
        return write(ops);
    }

    /** Removes labels (each must be there: a JSON patch fails on a missing path). */
    public static String removeLabels(java.util.Collection<String> labels) {
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        for (String label : labels) {
            ObjectNode remove = JsonNodeFactory.instance.objectNode();
            remove.put("op", "remove").put("path", "/metadata/labels/" + escape(label));
            ops.add(remove);
        }
        return write(ops);
    }

    /** JSON pointer escaping (RFC 6901). */
    private static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static ObjectNode op(String op, String path, String value) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("op", op).put("path", path).put("value", value);
        return node;
    }

    private static String write(Object node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
