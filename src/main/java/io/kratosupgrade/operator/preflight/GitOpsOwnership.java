package io.kratosupgrade.operator.preflight;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a GitOps tool applies a Deployment's image, so that an image the operator sets would be put back on the
 * tool's next sync (over a migrated database). Read from what the tools leave on the object: the server-side apply
 * field manager that owns the container's image (Argo CD with ServerSideApply, Flux's kustomize-controller and
 * helm-controller), Argo CD's tracking annotation, and Flux's labels. Flux told to apply create-only
 * ({@code kustomize.toolkit.fluxcd.io/ssa: IfNotPresent} or {@code Ignore}) or not at all does not fight.
 */
public final class GitOpsOwnership {

    /** Field managers of GitOps controllers that re-apply Git over live changes. */
    static final Map<String, String> MANAGERS = Map.of(
            "argocd-controller", "Argo CD",
            "argocd-application-controller", "Argo CD",
            "kustomize-controller", "Flux",
            "helm-controller", "Flux (HelmRelease)");
    static final String ARGO_TRACKING = "argocd.argoproj.io/tracking-id";
    static final String FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/name";
    static final String FLUX_HELM_RELEASE = "helm.toolkit.fluxcd.io/name";
    static final String FLUX_SSA = "kustomize.toolkit.fluxcd.io/ssa";
    static final String FLUX_RECONCILE = "kustomize.toolkit.fluxcd.io/reconcile";

    /** @param tool the GitOps tool; @param evidence what on the Deployment says so */
    public record Owner(String tool, String evidence) {
        public String describe() {
            return tool + " (" + evidence + ")";
        }
    }

    private GitOpsOwnership() {
    }

    /** Whether a field manager is one of the GitOps controllers this class knows. */
    public static boolean isGitOpsManager(String manager) {
        return manager != null && MANAGERS.containsKey(manager);
    }

    /** The GitOps tool that would revert the image of {@code container}, if any. */
    public static Optional<Owner> of(Deployment deployment, String container) {
        Map<String, String> annotations = orEmpty(deployment.getMetadata().getAnnotations());
        Map<String, String> labels = orEmpty(deployment.getMetadata().getLabels());
        boolean fluxLeavesItAlone = fluxLeavesItAlone(annotations);
        List<ManagedFieldsEntry> managedFields = deployment.getMetadata().getManagedFields();
        for (ManagedFieldsEntry entry : managedFields == null ? List.<ManagedFieldsEntry>of() : managedFields) {
            String tool = MANAGERS.get(entry.getManager());
            if (tool == null || (tool.startsWith("Flux") && fluxLeavesItAlone)) continue;
            if (ownsImage(entry, container)) {
                return Optional.of(new Owner(tool, "field manager " + entry.getManager() + " owns the image of container " + container));
            }
        }
        return byMarks(annotations, labels, fluxLeavesItAlone);
    }

    /**
     * The GitOps tool that would put back the selector of {@code service} (BlueGreen's switch rewrites it), if any: the
     * field manager owning {@code spec.selector}, Argo CD's tracking annotation, Flux's labels.
     */
    public static Optional<Owner> ofSelector(Service service) {
        Map<String, String> annotations = orEmpty(service.getMetadata().getAnnotations());
        Map<String, String> labels = orEmpty(service.getMetadata().getLabels());
        boolean fluxLeavesItAlone = fluxLeavesItAlone(annotations);
        List<ManagedFieldsEntry> managedFields = service.getMetadata().getManagedFields();
        for (ManagedFieldsEntry entry : managedFields == null ? List.<ManagedFieldsEntry>of() : managedFields) {
            String tool = MANAGERS.get(entry.getManager());
            if (tool == null || (tool.startsWith("Flux") && fluxLeavesItAlone) || entry.getFieldsV1() == null) continue;
            if (entry.getFieldsV1().getAdditionalProperties().get("f:spec") instanceof Map<?, ?> spec && spec.containsKey("f:selector")) {
                return Optional.of(new Owner(tool, "field manager " + entry.getManager() + " owns its spec.selector"));
            }
        }
        return byMarks(annotations, labels, fluxLeavesItAlone);
    }

    /** What the tools leave on every object they apply: Argo CD's tracking annotation, Flux's labels. */
    private static Optional<Owner> byMarks(Map<String, String> annotations, Map<String, String> labels, boolean fluxLeavesItAlone) {
        if (annotations.containsKey(ARGO_TRACKING)) {
            return Optional.of(new Owner("Argo CD", "annotation " + ARGO_TRACKING + ": " + annotations.get(ARGO_TRACKING)));
        }
        if (!fluxLeavesItAlone) {
            for (String label : List.of(FLUX_KUSTOMIZATION, FLUX_HELM_RELEASE)) {
                if (labels.containsKey(label)) return Optional.of(new Owner("Flux", "label " + label + ": " + labels.get(label)));
            }
        }
        return Optional.empty();
    }

    /** fieldsV1 path f:spec / f:template / f:spec / f:containers / k:{"name":container} / f:image. */
    @SuppressWarnings("unchecked")
    static boolean ownsImage(ManagedFieldsEntry entry, String container) {
        if (entry.getFieldsV1() == null) return false;
        Object node = entry.getFieldsV1().getAdditionalProperties();
        for (String key : List.of("f:spec", "f:template", "f:spec", "f:containers")) {
            if (!(node instanceof Map<?, ?> map)) return false;
            node = map.get(key);
        }
        if (!(node instanceof Map<?, ?> containers)) return false;
        String wanted = "\"name\":\"" + container + "\"";
        for (Map.Entry<?, ?> e : containers.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.startsWith("k:") && key.replace(" ", "").contains(wanted) && e.getValue() instanceof Map<?, ?> fields) {
                return ((Map<String, Object>) fields).containsKey("f:image");
            }
        }
        return false;
    }

    /** Flux told to apply create-only, or not at all. */
    private static boolean fluxLeavesItAlone(Map<String, String> annotations) {
        return Set.of("IfNotPresent", "Ignore").contains(annotations.getOrDefault(FLUX_SSA, "")) || "disabled".equals(annotations.get(FLUX_RECONCILE));
    }

    private static Map<String, String> orEmpty(Map<String, String> map) {
        return map == null ? Map.of() : map;
    }
}
