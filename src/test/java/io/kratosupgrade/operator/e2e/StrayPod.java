package io.kratosupgrade.operator.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kratosupgrade.operator.kube.PodImages;
import java.time.Duration;
import java.util.Map;

/**
 * Holds a run in Verifying: a ready pod that the Deployment's selector matches and that runs another image (a
 * debug pod someone left with the app's labels, say). Verifying waits until no such pod is ready; a complete rollout
 * alone would pass it in the same moment, too quickly for a fault to land there. Deleting it lets the run go on.
 */
final class StrayPod implements AutoCloseable {

    private static final String NAME = "stray-old-kratos";

    private final KubernetesClient client;
    private final String namespace;

    /** Creates the pod (container {@code container}, labels {@code labels}) and waits until it is ready. */
    StrayPod(KubernetesClient client, String namespace, Map<String, String> labels, String container, String image) {
        this.client = client;
        this.namespace = namespace;
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(NAME).withLabels(labels).endMetadata()
                .withNewSpec()
                    .withTerminationGracePeriodSeconds(0L)
                    .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10000L)
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                    .addNewContainer().withName(container).withImage(image).withImagePullPolicy("IfNotPresent")
                        .withCommand("sleep", "3600")
                        .withNewSecurityContext().withAllowPrivilegeEscalation(false)
                            .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                    .endContainer()
                .endSpec().build()).create();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            Pod pod = client.pods().inNamespace(namespace).withName(NAME).get();
            return pod != null && PodImages.isReady(pod);
        });
    }

    @Override
    public void close() {
        client.pods().inNamespace(namespace).withName(NAME).withGracePeriod(0).delete();
    }
}
