package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import io.kratosupgrade.operator.resources.RestrictedPodSecurity;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pod calling Kratos's public API through its Service for as long as an upgrade takes: every request
 * creates a login flow (a database write on whichever release answers). Each failed request is logged
 * with its time, each written flow with its id; at the end the pod prints the totals. A failed request is
 * followed by a short pause, so an outage (Recreate) does not turn into a busy loop.
 */
final class LoadGenerator {

    /** @param written the ids of the login flows Kratos answered as created, in order */
    record Result(long ok, long failed, String failures, List<String> written) {
    }

    private static final Pattern RESULT = Pattern.compile("RESULT ok=(\\d+) failed=(\\d+)");
    private final KubernetesClient client;
    private final String namespace;
    private final String name = "load-generator";

    LoadGenerator(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** @param restricted give the pod what a namespace enforcing PodSecurity restricted requires */
    void start(String serviceIp, String image, boolean restricted) {
        String url = "http://" + serviceIp + ":4433/self-service/login/api";
        String script = String.join("\n",
                "ok=0; failed=0",
                // A request that hangs (a pod gone without a reset) counts as failed after 10 s instead of
                // stalling the loop; busybox's wget has no timeout option of its own.
                "while [ ! -f /tmp/stop ]; do",
                "  if body=$(timeout 10 wget -q -O - '" + url + "'); then ok=$((ok+1));",
                "    echo \"WROTE $(echo \"$body\" | grep -o '\"id\":\"[^\"]*\"' | head -n 1 | cut -d'\"' -f4)\"",
                "  else failed=$((failed+1)); echo \"FAILED $(date +%T)\"; sleep 0.2; fi",
                "done",
                "echo \"RESULT ok=$ok failed=$failed\"",
                "sleep 3600");
        Pod pod = new PodBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                    .addNewContainer().withName("load").withImage(image).withImagePullPolicy("IfNotPresent")
                        .withCommand("sh", "-c", script).endContainer()
                .endSpec().build();
        if (restricted) {
            pod.getSpec().setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder().withRunAsUser(65534L).build());
            RestrictedPodSecurity.apply(pod.getSpec());
        }
        client.pods().inNamespace(namespace).resource(pod).create();
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Pod p = client.pods().inNamespace(namespace).withName(name).get();
            return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
        });
    }

    /** Stops the loop and returns the counts. */
    Result stop() {
        client.pods().inNamespace(namespace).withName(name).writingOutput(new ByteArrayOutputStream())
                .exec("touch", "/tmp/stop");
        String[] log = new String[1];
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> {
            log[0] = client.pods().inNamespace(namespace).withName(name).getLog();
            return RESULT.matcher(log[0]).find();
        });
        Matcher m = RESULT.matcher(log[0]);
        m.find();
        String failures = log[0].lines().filter(l -> l.startsWith("FAILED")).limit(20).reduce("", (a, b) -> a + b + "\n");
        List<String> written = log[0].lines().filter(l -> l.startsWith("WROTE ")).map(l -> l.substring(6).trim())
                .filter(id -> !id.isEmpty()).toList();
        return new Result(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), failures, written);
    }
}
