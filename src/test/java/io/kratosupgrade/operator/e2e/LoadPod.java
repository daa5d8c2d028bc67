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
 * exists, prints one line a request, then {@code DONE}; or, with {@link #run}, any command of that image to its end. Its one secret value travels in a Secret (never in the pod
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
        create(image, List.of("perl", "-e", script), env, secretEnv, secretValue);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> {
            var pod = client.pods().inNamespace(namespace).withName(name).get();
            return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        });
    }

    /** Runs {@code command} to its end in a pod of its own, the same way; its log, or an assertion error when it failed. */
    String run(String image, List<String> command, Map<String, String> env, String secretEnv, String secretValue) {
        create(image, command, env, secretEnv, secretValue);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> {
            var pod = client.pods().inNamespace(namespace).withName(name).get();
            return pod.getStatus() != null && List.of("Succeeded", "Failed").contains(pod.getStatus().getPhase());
        });
        String log = client.pods().inNamespace(namespace).withName(name).getLog();
        if (!"Succeeded".equals(client.pods().inNamespace(namespace).withName(name).get().getStatus().getPhase())) {
            throw new AssertionError("pod " + name + " failed: " + log);
        }
        return log;
    }

    private void create(String image, List<String> command, Map<String, String> env, String secretEnv, String secretValue) {
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
                        .withCommand(command).withEnv(vars)
                    .endContainer()
                .endSpec().build()).create();
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
