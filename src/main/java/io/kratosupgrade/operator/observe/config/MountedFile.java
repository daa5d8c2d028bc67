package io.kratosupgrade.operator.observe.config;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.util.List;
import java.util.Optional;

/**
 * Where a file a container reads comes from: a key of a ConfigMap or Secret mounted at some path (directly,
 * through items, through a subPath, or in a projected volume). Files of other volumes (emptyDir, a PVC) or
 * baked into the image cannot be read by the operator: {@link #problem} says why.
 *
 * @param kind    "ConfigMap" or "Secret", or null with a problem
 * @param name    the object's name
 * @param key     the key holding the file's content
 * @param problem why the file cannot be read, or null
 */
public record MountedFile(String kind, String name, String key, String problem) {

    public boolean readable() {
        return problem == null;
    }

    static MountedFile unreadable(String problem) {
        return new MountedFile(null, null, null, problem);
    }

    /**
     * Where {@code path}, as {@code container} of {@code pod} sees it, may come from: one source, or for a
     * projected volume without items each of its sources in order (the first that has the key provides it);
     * or a single unreadable entry saying why it cannot be read.
     */
    public static List<MountedFile> resolve(PodSpec pod, Container container, String path) {
        VolumeMount best = null;
        for (VolumeMount m : container.getVolumeMounts() == null ? List.<VolumeMount>of() : container.getVolumeMounts()) {
            String mountPath = m.getMountPath().endsWith("/") ? m.getMountPath().substring(0, m.getMountPath().length() - 1) : m.getMountPath();
            boolean covers = path.equals(mountPath) || path.startsWith(mountPath + "/");
            if (covers && (best == null || mountPath.length() > best.getMountPath().length())) best = m;
        }
        if (best == null) {
            return List.of(unreadable(path + " is not on a mounted volume (baked into the image?)"));
        }
        String mountPath = best.getMountPath().replaceAll("/$", "");
        String relative = path.equals(mountPath) ? "" : path.substring(mountPath.length() + 1);
        if (best.getSubPath() != null && !best.getSubPath().isEmpty()) {
            relative = relative.isEmpty() ? best.getSubPath() : best.getSubPath() + "/" + relative;
        }
        String volumeName = best.getName();
        Optional<Volume> volume = (pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()).stream()
                .filter(v -> v.getName().equals(volumeName)).findFirst();
        if (volume.isEmpty()) {
            return List.of(unreadable(path + ": volume " + volumeName + " is not defined"));
        }
        Volume v = volume.get();
        if (v.getConfigMap() != null) {
            return List.of(keyFor("ConfigMap", v.getConfigMap().getName(), v.getConfigMap().getItems(), relative, path));
        }
        if (v.getSecret() != null) {
            return List.of(keyFor("Secret", v.getSecret().getSecretName(), v.getSecret().getItems(), relative, path));
        }
        if (v.getProjected() != null) {
            List<MountedFile> candidates = new java.util.ArrayList<>();
            for (VolumeProjection source : v.getProjected().getSources()) {
                if (source.getConfigMap() != null) {
                    candidates.add(keyFor("ConfigMap", source.getConfigMap().getName(), source.getConfigMap().getItems(), relative, path));
                } else if (source.getSecret() != null) {
                    candidates.add(keyFor("Secret", source.getSecret().getName(), source.getSecret().getItems(), relative, path));
                }
            }
            List<MountedFile> readable = candidates.stream().filter(MountedFile::readable).toList();
            return readable.isEmpty() ? List.of(unreadable(path + ": no source of projected volume " + volumeName + " provides it"))
                    : readable;
        }
        return List.of(unreadable(path + " is on volume " + volumeName + ", which is neither a ConfigMap nor a Secret"));
    }

    private static MountedFile keyFor(String kind, String name, List<KeyToPath> items, String relative, String path) {
        if (items == null || items.isEmpty()) {
            return relative.isEmpty() || relative.contains("/")
                    ? unreadable(path + " does not name a key of " + kind + " " + name)
                    : new MountedFile(kind, name, relative, null);
        }
        return items.stream().filter(i -> relative.equals(i.getPath())).findFirst()
                .map(i -> new MountedFile(kind, name, i.getKey(), null))
                .orElse(unreadable(path + ": " + kind + " " + name + " lists no item at " + relative));
    }

    @Override
    public String toString() {
        return readable() ? kind + " " + name + " key " + key : problem;
    }
}
