package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.kratos.ImageReference;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.lifecycle.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Random and hostile specs against the real API server. Every answer is either a refusal naming the problem
 * (400/422) or an object the operator can work with: never a 5xx, never stored garbage (every stored field
 * goes through the same parsers the operator uses). The seed is printed; -Dfuzz.seed and -Dfuzz.count
 * replay or widen a run.
 */
@ApiServerTestBase.OwnOperator
class SpecFuzzIT extends ApiServerTestBase {

    static final List<Object> HOSTILE = List.of("", " ", "\u0000", "\n", "a\nb", "../../etc/passwd", "${jndi:ldap://x/a}",
            "'; DROP TABLE identities; --", "v1.3.1\n", "V1.3.1", "v01.3.1", "v1.3.1-", "v1.3.1+build", "v1.3",
            "v99999999999999999999.0.0", "v1.3.1-" + "a".repeat(300), "oryd//kratos::v1.3.1", "ORYD/Kratos:v1.3.1",
            "kratos@sha256:abc", ":v1.3.1", "/kratos", "kratos/", "kratos:", "oryd/kratos:v1.3.1 ", "kratös",
            "\uD83D\uDE00", "-1s", "0s", "0.0s", "1e3s", "9999999999999999999h", "2562048h", "1.5h", "1h30m", "h", "5",
            "5S", "Skip", "skip", "Rolling ", "BlueGreen", "None", "a".repeat(600), "x".repeat(70_000),
            "registry.example.com:5000/ory/kratos:v1.3.1@sha256:" + "ab".repeat(32), 42, -1, 3.14, true, false,
            List.of("v1.3.1"), Map.of("a", "b"));
    static final List<String> FIELDS = List.of("deploymentName", "containerName", "version", "image", "strategy",
            "backup.policy", "backup.persistentVolumeClaim", "backup.image", "backup.timeout", "migration.timeout",
            "rollout.timeout", "rollback.onFailure", "unknownField", "backup.unknownField");

    @Test
    void everyAnswerIsARefusalOrAnObjectTheOperatorCanUse() {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        int count = Integer.getInteger("fuzz.count", 400);
        Random random = new Random(seed);
        System.out.println("SpecFuzzIT seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        Map<Integer, Integer> answers = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Map<String, Object> spec = validSpec();
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                set(spec, FIELDS.get(random.nextInt(FIELDS.size())), random.nextInt(3) == 0 ? randomString(random) : HOSTILE.get(random.nextInt(HOSTILE.size())));
            }
            String name = "fuzz-" + i;
            int code;
            try {
                GenericKubernetesResource stored = client.resource(resource(name, spec)).create();
                code = 201;
                checkUsable(stored).ifPresent(p -> problems.add("stored garbage " + Serialization.asJson(spec) + ": " + p));
                client.resource(stored).delete();
            } catch (KubernetesClientException e) {
                code = e.getCode();
                if (code >= 500 || code == 0) {
                    problems.add("answered " + code + " to " + abbreviate(Serialization.asJson(spec)) + ": " + abbreviate(e.getMessage()));
                } else if (code != 400 && code != 422 && code != 413) {
                    problems.add("unexpected " + code + " to " + abbreviate(Serialization.asJson(spec)));
                }
            }
            answers.merge(code, 1, Integer::sum);
        }
        System.out.println("SpecFuzzIT " + count + " specs, answers by HTTP status: " + answers);
        assertThat(problems).as("seed " + seed).isEmpty();
        assertThat(answers.keySet()).as("both accepted and refused specs were tried").contains(201, 422);
    }

    /** What the operator does with a stored spec, without a cluster: the parsers must all accept it. */
    private static java.util.Optional<String> checkUsable(GenericKubernetesResource stored) {
        try {
            KratosUpgrade ku = Serialization.unmarshal(Serialization.asJson(stored), KratosUpgrade.class);
            KratosUpgradeSpec spec = ku.getSpec();
            KratosVersion.parse(spec.getVersion());
            if (!spec.getDeploymentName().matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")) {
                return java.util.Optional.of("deploymentName " + spec.getDeploymentName());
            }
            if (spec.getImage() != null) ImageReference.parse(spec.getImage());
            if (spec.getBackup().getImage() != null) ImageReference.parse(spec.getBackup().getImage());
            for (String timeout : List.of(spec.getBackup().getTimeout(), spec.getMigration().getTimeout(), spec.getRollout().getTimeout())) {
                Duration d = Times.goDuration(timeout);
                if (d.isNegative() || d.isZero()) return java.util.Optional.of("timeout " + timeout);
            }
            if (spec.getStrategy() == null || spec.getBackup().getPolicy() == null || spec.getRollback().getOnFailure() == null) {
                return java.util.Optional.of("an enum without a value");
            }
            return java.util.Optional.empty();
        } catch (RuntimeException e) {
            return java.util.Optional.of(e.toString());
        }
    }

    private GenericKubernetesResource resource(String name, Map<String, Object> spec) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion("kratos-upgrade.io/v1alpha1");
        resource.setKind("KratosUpgrade");
        resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        resource.setAdditionalProperties(Map.of("spec", spec));
        return resource;
    }

    private static Map<String, Object> validSpec() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("deploymentName", "kratos");
        spec.put("version", "v1.3.1");
        spec.put("backup", new LinkedHashMap<>(Map.of("persistentVolumeClaim", "kratos-backups")));
        return spec;
    }

    @SuppressWarnings("unchecked")
    private static void set(Map<String, Object> spec, String path, Object value) {
        String[] parts = path.split("\\.");
        Map<String, Object> target = spec;
        for (int i = 0; i < parts.length - 1; i++) {
            Object child = target.get(parts[i]);
            if (!(child instanceof Map)) {
                child = new LinkedHashMap<String, Object>();
                target.put(parts[i], child);
            }
            target = (Map<String, Object>) child;
        }
        target.put(parts[parts.length - 1], value);
    }

    private static String randomString(Random random) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/@#%?&=+ \t\\\"'${}[]<>µäöü\u0001";
        StringBuilder s = new StringBuilder();
        int length = random.nextInt(80);
        for (int i = 0; i < length; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    private static String abbreviate(String s) {
        return s == null || s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}
