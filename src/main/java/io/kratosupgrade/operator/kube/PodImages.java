package io.kratosupgrade.operator.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/** Which of a Deployment's pods serve, and what they run. */
public final class PodImages {

    private PodImages() {
    }

    public static boolean isReady(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null
                || pod.getStatus().getConditions() == null) {
            return false;
        }
        return pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Ready pods whose named container runs another image than {@code image}. */
    public static List<String> readyPodsNotRunning(List<Pod> pods, String container, String image) {
        return pods.stream()
                .filter(PodImages::isReady)
                .filter(p -> !image.equals(imageOf(p, container)))
                .map(p -> p.getMetadata().getName() + " (" + imageOf(p, container) + ")")
                .toList();
    }

    public static long readyCount(List<Pod> pods) {
        return pods.stream().filter(PodImages::isReady).count();
    }

    static String imageOf(Pod pod, String container) {
        return pod.getSpec().getContainers().stream()
                .filter(c -> c.getName().equals(container))
                .map(Container::getImage)
                .findFirst().orElse(null);
    }
}
