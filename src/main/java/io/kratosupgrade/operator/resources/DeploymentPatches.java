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
