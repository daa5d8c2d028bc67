package io.kratosupgrade.operator.testsupport;

import io.fabric8.kubernetes.client.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A kubeconfig file for command-line tools (kubectl) that reach the API server a fabric8 client reaches. */
public final class Kubeconfigs {

    private Kubeconfigs() {
    }

    public static Path write(Config config, Path file) throws IOException {
        String yaml = String.join("\n",
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                "- name: test",
                "  cluster:",
                "    server: " + config.getMasterUrl(),
                "    " + either("certificate-authority", config.getCaCertData(), config.getCaCertFile()),
                "users:",
                "- name: test",
                "  user:",
                "    " + either("client-certificate", config.getClientCertData(), config.getClientCertFile()),
                "    " + either("client-key", config.getClientKeyData(), config.getClientKeyFile()),
                "contexts:",
                "- name: test",
                "  context: {cluster: test, user: test}",
                "current-context: test",
                "");
        Files.writeString(file, yaml);
        return file;
    }

    /** fabric8 keeps inline data base64-encoded already, as a kubeconfig does; a file is named as it is. */
    private static String either(String key, String data, String file) {
        if (data != null) return key + "-data: " + data;
        if (file != null) return key + ": " + file;
        throw new IllegalArgumentException("no " + key + " in the client's configuration");
    }
}
