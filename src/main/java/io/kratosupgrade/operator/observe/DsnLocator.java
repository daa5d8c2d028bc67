package io.kratosupgrade.operator.observe;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the value of the {@code DSN} environment variable of the Kratos container the way the kubelet
 * would: an explicit {@code env} entry (value, secretKeyRef or configMapKeyRef) wins over {@code envFrom};
 * among envFrom sources the last one defining the key wins, honouring prefixes. The value is returned to
 * the caller only; it is never logged or stored.
 */
public final class DsnLocator {

    public static final String DSN_VARIABLE = "DSN";

    /** Reads the data of a Secret or ConfigMap in the Deployment's namespace; empty when it does not exist. */
    public interface ConfigData {
        Optional<Map<String, String>> secret(String name);

        Optional<Map<String, String>> configMap(String name);
    }

    private DsnLocator() {
    }

    public static DsnResolution locate(Container container, ConfigData data) {
        List<EnvVar> env = container.getEnv() == null ? List.of() : container.getEnv();
        for (int i = env.size() - 1; i >= 0; i--) {
            EnvVar var = env.get(i);
            if (DSN_VARIABLE.equals(var.getName())) {
                return fromEnvVar(var, data);
            }
        }
        List<EnvFromSource> envFrom = container.getEnvFrom() == null ? List.of() : container.getEnvFrom();
        for (int i = envFrom.size() - 1; i >= 0; i--) {
            EnvFromSource source = envFrom.get(i);
            String prefix = source.getPrefix() == null ? "" : source.getPrefix();
            if (!DSN_VARIABLE.startsWith(prefix)) continue;
            String key = DSN_VARIABLE.substring(prefix.length());
            if (source.getSecretRef() != null) {
                String name = source.getSecretRef().getName();
                Optional<Map<String, String>> secret = data.secret(name);
                if (secret.isEmpty()) {
                    if (Boolean.TRUE.equals(source.getSecretRef().getOptional())) continue;
                    return DsnResolution.unreadable("envFrom Secret '" + name + "' does not exist");
                }
                if (secret.get().containsKey(key)) {
                    return DsnResolution.found(secret.get().get(key), "envFrom Secret '" + name + "' key '" + key + "'");
                }
            } else if (source.getConfigMapRef() != null) {
                String name = source.getConfigMapRef().getName();
                Optional<Map<String, String>> cm = data.configMap(name);
                if (cm.isEmpty()) {
                    if (Boolean.TRUE.equals(source.getConfigMapRef().getOptional())) continue;
                    return DsnResolution.unreadable("envFrom ConfigMap '" + name + "' does not exist");
                }
                if (cm.get().containsKey(key)) {
                    return DsnResolution.found(cm.get().get(key), "envFrom ConfigMap '" + name + "' key '" + key + "'");
                }
            }
        }
        return DsnResolution.notFound("container '" + container.getName() + "' has no DSN environment variable "
                + "(env DSN as value, secretKeyRef or configMapKeyRef, or a DSN key through envFrom)");
    }

    /** A DSN named directly by a Secret key (BlueGreen's target database). */
    public static DsnResolution fromSecret(String name, String key, ConfigData data) {
        String where = "Secret '" + name + "' key '" + key + "'";
        return data.secret(name)
                .map(d -> d.containsKey(key) && !d.get(key).isEmpty() ? DsnResolution.found(d.get(key), where)
                        : DsnResolution.notFound(where + " does not exist or is empty"))
                .orElseGet(() -> DsnResolution.notFound("Secret '" + name + "' does not exist"));
    }

    private static DsnResolution fromEnvVar(EnvVar var, ConfigData data) {
        if (var.getValueFrom() == null) {
            return var.getValue() == null || var.getValue().isEmpty()
                    ? DsnResolution.notFound("env DSN is empty")
                    : DsnResolution.found(var.getValue(), "env DSN value");
        }
        EnvVarSource from = var.getValueFrom();
        if (from.getSecretKeyRef() != null) {
            String name = from.getSecretKeyRef().getName();
            String key = from.getSecretKeyRef().getKey();
            String where = "Secret '" + name + "' key '" + key + "'";
            return data.secret(name)
                    .map(d -> d.containsKey(key) ? DsnResolution.found(d.get(key), where)
                            : DsnResolution.unreadable(where + " does not exist"))
                    .orElseGet(() -> DsnResolution.unreadable("Secret '" + name + "' (env DSN) does not exist"));
        }
        if (from.getConfigMapKeyRef() != null) {
            String name = from.getConfigMapKeyRef().getName();
            String key = from.getConfigMapKeyRef().getKey();
            String where = "ConfigMap '" + name + "' key '" + key + "'";
            return data.configMap(name)
                    .map(d -> d.containsKey(key) ? DsnResolution.found(d.get(key), where)
                            : DsnResolution.unreadable(where + " does not exist"))
                    .orElseGet(() -> DsnResolution.unreadable("ConfigMap '" + name + "' (env DSN) does not exist"));
        }
        return DsnResolution.notFound("env DSN comes from a field or resource reference, not from a value, Secret or ConfigMap");
    }
}
