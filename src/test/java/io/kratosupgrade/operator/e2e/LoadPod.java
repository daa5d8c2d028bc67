package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The pod a load generator runs in: a Perl script on the database tools image that loops until {@code /tmp/stop}
 * exists, prints one line a request, then {@code DONE}. Its one secret value travels in a Secret (never in the pod
 * spec or a log), as the environment variable {@code secretEnv}.
 */
final class LoadPod {

    private final KubernetesClient client;
    private final String namespace;
    private final String name;

    LoadPod(KubernetesClient client, String namespace, String name) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    /** Creates the Secret and the pod and waits until it runs. */
    void start(String image, String script, Map<String, String> env, String secretEnv, String secretValue) {
        client.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
                .withStringData(Map.of("value", secretValue)).build()).create();
        List<EnvVar> vars = new ArrayList<>();
        env.forEach((k, v) -> vars.add(new EnvVar(k, v, null)));
        vars.add(new EnvVarBuilder().withName(secretEnv).withNewValueFrom().withNewSecretKeyRef().withName(name).withKey("value")
                .endSecretKeyRef().endValueFrom().build());
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                    .addNewContainer().withName("load").withImage(image).withImagePullPolicy("IfNotPresent")
                        .withCommand("perl", "-e", script).withEnv(vars)
                    .endContainer()
                .endSpec().build()).create();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> {
            var pod = client.pods().inNamespace(namespace).withName(name).get();
            return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        });
    }

    /** The lines the script printed so far. */
    Stream<String> lines() {
        String log = client.pods().inNamespace(namespace).withName(name).getLog();
        return log == null ? Stream.empty() : log.lines();
    }

    /** Stops the loop (the request in flight completes) and waits for the script's DONE. */
    void stop() {
        client.pods().inNamespace(namespace).withName(name).writingOutput(new ByteArrayOutputStream()).exec("touch", "/tmp/stop");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> lines().anyMatch("DONE"::equals));
    }
}
