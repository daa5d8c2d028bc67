package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.kratosupgrade.operator.observe.DsnLocator;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The configuration a Kratos container runs with, read from what its pod mounts and its environment. */
class EffectiveConfigTest {

    private static final Map<String, Map<String, String>> CONFIG_MAPS = Map.of(
            "base", Map.of("kratos.yaml", "courier:\n  message_ttl: 1h\nselfservice:\n  flows:\n    recovery:\n      enabled: true\n"
                    + "identity:\n  schemas:\n    - id: default\n      url: file:///etc/schemas/identity.json\n"),
            "override", Map.of("override.yaml", "selfservice:\n  flows:\n    recovery:\n      use: link\n"),
            "schemas", Map.of("identity.json", "{\"properties\":{\"traits\":{\"properties\":{\"email\":{\"ory.sh/kratos\":"
                    + "{\"credentials\":{\"code\":{\"identifier\":true}}}}}}}}"),
            "env", Map.of("FLOWS_X", "1", "COURIER_SMTP_CONNECTION_URI", "smtp://from-configmap"));
    private static final Map<String, Map<String, String>> SECRETS = Map.of(
            "settings", Map.of("ttl", "2h", "extra.yaml", "serve: {admin: {port: 4434}}"));

    private static DsnLocator.ConfigData data() {
        return new DsnLocator.ConfigData() {
            public Optional<Map<String, String>> secret(String name) { return Optional.ofNullable(SECRETS.get(name)); }
            public Optional<Map<String, String>> configMap(String name) { return Optional.ofNullable(CONFIG_MAPS.get(name)); }
        };
    }

    private static PodSpec pod(Container c) {
        return new PodSpecBuilder()
                .addNewVolume().withName("base").withNewConfigMap().withName("base").endConfigMap().endVolume()
                .addNewVolume().withName("more").withNewProjected()
                    .addNewSource().withNewConfigMap().withName("override").endConfigMap().endSource()
                    .addNewSource().withNewSecret().withName("settings").addNewItem().withKey("extra.yaml").withPath("extra/e.yaml").endItem()
                        .endSecret().endSource()
                .endProjected().endVolume()
                .addNewVolume().withName("schemas").withNewConfigMap().withName("schemas").endConfigMap().endVolume()
                .addNewVolume().withName("scratch").withNewEmptyDir().endEmptyDir().endVolume()
                .withContainers(c).build();
    }

    private static ContainerBuilder kratos(String... args) {
        return new ContainerBuilder().withName("kratos").withArgs(args)
                .addNewVolumeMount().withName("base").withMountPath("/etc/config/kratos").endVolumeMount()
                .addNewVolumeMount().withName("more").withMountPath("/etc/more").endVolumeMount()
                .addNewVolumeMount().withName("schemas").withMountPath("/etc/schemas").endVolumeMount()
                .addNewVolumeMount().withName("scratch").withMountPath("/tmp").endVolumeMount();
    }

    @Test
    void severalFilesMergeInOrderFromConfigMapsSecretsAndProjectedVolumes() {
        Container c = kratos("serve", "-c", "/etc/config/kratos/kratos.yaml", "--config=/etc/more/override.yaml",
                "--config", "/etc/more/extra/e.yaml").build();

        EffectiveConfig config = EffectiveConfig.read(pod(c), c, data());

        assertThat(config.problems()).isEmpty();
        assertThat(config.file().at("/courier/message_ttl").asText()).isEqualTo("1h");
        assertThat(config.file().at("/selfservice/flows/recovery/enabled").asBoolean()).isTrue();
        assertThat(config.file().at("/selfservice/flows/recovery/use").asText()).as("a later file adds keys").isEqualTo("link");
        assertThat(config.file().at("/serve/admin/port").asInt()).as("from the Secret, through an item path").isEqualTo(4434);
        assertThat(config.sources()).hasSize(3).anyMatch(s -> s.contains("Secret settings key extra.yaml"));
        assertThat(config.identitySchemas()).singleElement()
                .satisfies(s -> assertThat(s.at("/properties/traits/properties/email").isObject()).isTrue());
    }

    @Test
    void theEnvironmentIsWhatTheKubeletGivesExplicitEntriesOverEnvFrom() {
        Container c = kratos("serve", "-c", "/etc/config/kratos/kratos.yaml")
                .withEnvFrom(new EnvFromSourceBuilder().withNewConfigMapRef().withName("env").endConfigMapRef().build(),
                        new EnvFromSourceBuilder().withPrefix("SELF").withNewConfigMapRef().withName("env").endConfigMapRef().build())
                .addNewEnv().withName("COURIER_MESSAGE_TTL").withNewValueFrom().withNewSecretKeyRef().withName("settings").withKey("ttl")
                    .endSecretKeyRef().endValueFrom().endEnv()
                .addNewEnv().withName("COURIER_SMTP_CONNECTION_URI").withValue("smtp://explicit").endEnv()
                .build();

        EffectiveConfig config = EffectiveConfig.read(pod(c), c, data());

        assertThat(config.environment()).containsEntry("COURIER_MESSAGE_TTL", "2h")
                .containsEntry("COURIER_SMTP_CONNECTION_URI", "smtp://explicit").containsEntry("SELFFLOWS_X", "1");
        assertThat(config.toString()).as("values never printed").doesNotContain("2h", "smtp://");
    }

    @Test
    void whatCannotBeReadIsSaidNotGuessed() {
        Container c = kratos("serve", "-c", "/etc/config/kratos/missing.yaml", "-c", "/tmp/generated.yaml", "-c", "/opt/baked.yaml")
                .build();
        EffectiveConfig missing = EffectiveConfig.read(pod(c), c, data());
        assertThat(missing.problems()).hasSize(3)
                .anyMatch(p -> p.contains("/etc/config/kratos/missing.yaml") && p.contains("does not exist"))
                .anyMatch(p -> p.contains("/tmp/generated.yaml") && p.contains("neither a ConfigMap nor a Secret"))
                .anyMatch(p -> p.contains("/opt/baked.yaml") && p.contains("not on a mounted volume"));

        Container none = kratos("serve").build();
        assertThat(EffectiveConfig.read(pod(none), none, data()).problems()).singleElement().asString().contains("no -c/--config");

    }

    @Test
    void aMalformedFileIsAProblemThatQuotesNothing() {
        Map<String, Map<String, String>> broken = Map.of("base", Map.of("kratos.yaml", "courier: [unclosed\n  secret: hunter2"));
        DsnLocator.ConfigData data = new DsnLocator.ConfigData() {
            public Optional<Map<String, String>> secret(String name) { return Optional.empty(); }
            public Optional<Map<String, String>> configMap(String name) { return Optional.ofNullable(broken.get(name)); }
        };
        Container c = kratos("serve", "-c", "/etc/config/kratos/kratos.yaml").build();

        EffectiveConfig config = EffectiveConfig.read(pod(c), c, data);

        assertThat(config.problems()).singleElement().asString().contains("cannot be parsed").doesNotContain("hunter2");
    }

    @Test
    void identitySchemasFromBase64UrlsAreReadHttpsOnesAreNoted() {
        String b64 = Base64.getEncoder().encodeToString("{\"title\":\"inline\"}".getBytes(StandardCharsets.UTF_8));
        Map<String, Map<String, String>> maps = Map.of("base", Map.of("kratos.yaml", "identity:\n  schemas:\n"
                + "    - {id: a, url: 'base64://" + b64 + "'}\n    - {id: b, url: 'https://schemas.example.com/b.json'}\n"));
        DsnLocator.ConfigData data = new DsnLocator.ConfigData() {
            public Optional<Map<String, String>> secret(String name) { return Optional.empty(); }
            public Optional<Map<String, String>> configMap(String name) { return Optional.ofNullable(maps.get(name)); }
        };
        Container c = kratos("serve", "-c", "/etc/config/kratos/kratos.yaml").build();

        EffectiveConfig config = EffectiveConfig.read(pod(c), c, data);

        assertThat(config.identitySchemas()).singleElement().satisfies(s -> assertThat(s.get("title").asText()).isEqualTo("inline"));
        assertThat(config.problems()).singleElement().asString().contains("https://schemas.example.com/b.json", "not read");
    }
}
