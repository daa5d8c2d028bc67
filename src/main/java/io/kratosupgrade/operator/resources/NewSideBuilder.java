package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.SecretKeyReference;
import io.kratosupgrade.operator.observe.DsnLocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BlueGreen's new side: the old Deployment's clone (pod template, probes, Secrets, service account, strategy) with
 * the target image, the target database's DSN, and the colour label on its pods and in its selector. The DSN is an
 * env entry referencing the user's Secret, last in the list: Kratos reads DSN from the environment over its config
 * file, and a later entry of the same name wins over an earlier one.
 */
public final class NewSideBuilder {

    /** On the new Deployment: the old Deployment it was cloned from. */
    public static final String CLONED_FROM = KratosUpgrade.GROUP + "/cloned-from";

    private NewSideBuilder() {
    }

    public record Input(KratosUpgrade upgrade, Deployment old, String name, String containerName, String image,
                        SecretKeyReference targetDatabase, int replicas) {
    }

    public static Deployment build(Input in) {
        DeploymentSpec spec = Serialization.clone(in.old().getSpec());
        String colour = ServiceSelectors.colour(in.name());
        spec.setReplicas(in.replicas());
        spec.setPaused(null);
        LabelSelector selector = spec.getSelector();
        Map<String, String> matchLabels = new LinkedHashMap<>(selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels());
        matchLabels.put(ServiceSelectors.COLOUR, colour);
        selector.setMatchLabels(matchLabels);
        spec.setTemplate(podTemplate(spec.getTemplate(), colour, in.containerName(), in.image(), in.targetDatabase()));

        ObjectMeta oldMeta = in.old().getMetadata();
        Map<String, String> labels = new LinkedHashMap<>(oldMeta.getLabels() == null ? Map.of() : oldMeta.getLabels());
        // A GitOps tool's marks stay with what it applied: on the clone they would claim it for the tool's inventory.
        labels.keySet().removeIf(key -> key.startsWith("kustomize.toolkit.fluxcd.io/") || key.startsWith("helm.toolkit.fluxcd.io/")
                || key.equals("argocd.argoproj.io/instance"));
        Map<String, String> annotations = new HashMap<>(Labels.upgradeAnnotation(in.upgrade()));
        annotations.put(CLONED_FROM, oldMeta.getName());
        Deployment d = new Deployment();
        d.setMetadata(new ObjectMeta());
        d.getMetadata().setName(in.name());
        d.getMetadata().setNamespace(oldMeta.getNamespace());
        d.getMetadata().setLabels(labels);
        d.getMetadata().setAnnotations(annotations);
        d.setSpec(spec);
        return d;
    }

    /** The new side's pod template: what its migration Job is built from too (target image, target database). */
    public static PodTemplateSpec podTemplate(PodTemplateSpec old, String colour, String containerName, String image,
                                              SecretKeyReference targetDatabase) {
        PodTemplateSpec template = Serialization.clone(old);
        Map<String, String> labels = new LinkedHashMap<>(template.getMetadata().getLabels() == null ? Map.of() : template.getMetadata().getLabels());
        labels.put(ServiceSelectors.COLOUR, colour);
        template.getMetadata().setLabels(labels);
        for (Container c : template.getSpec().getContainers()) {
            if (c.getName().equals(containerName)) {
                c.setImage(image);
                c.setEnv(withTargetDsn(c.getEnv(), targetDatabase));
            }
        }
        return template;
    }

    private static List<EnvVar> withTargetDsn(List<EnvVar> env, SecretKeyReference target) {
        List<EnvVar> out = new ArrayList<>(env == null ? List.of() : env);
        out.removeIf(e -> DsnLocator.DSN_VARIABLE.equals(e.getName()));
        out.add(new EnvVarBuilder().withName(DsnLocator.DSN_VARIABLE).withNewValueFrom().withNewSecretKeyRef()
                .withName(target.getName()).withKey(target.getKey()).endSecretKeyRef().endValueFrom().build());
        return out;
    }
}
