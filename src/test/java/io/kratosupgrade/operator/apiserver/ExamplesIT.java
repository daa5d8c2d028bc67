package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest under examples/ is accepted by a real API server with the committed CRD (server-side
 * dry run: schema, CEL rules and defaulting all apply), so the examples in the docs never rot.
 */
class ExamplesIT {

    static final String NAMESPACE = "examples";

    static Stream<Path> examples() throws Exception {
        try (Stream<Path> files = Files.walk(Path.of("examples"))) {
            List<Path> yaml = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertThat(yaml).isNotEmpty();
            return yaml.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyExampleIsAcceptedByTheApiServer(Path file) throws Exception {
        KubernetesClient client = TestApiServer.client();
        for (String ns : List.of(NAMESPACE, "kratos-demo", "kratos-upgrade-system")) {
            if (client.namespaces().withName(ns).get() == null) {
                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            }
        }
        // The demo's placeholders, as hack/demo.sh fills them in.
        String text = Files.readString(file)
                .replace("${DEMO_DSN}", "\"postgres://kratos:p%40ss@10.88.0.1:5432/kratos?sslmode=disable&max_conns=20\"")
                .replace("${DEMO_STORAGE_CLASS}", "local-backup");
        List<HasMetadata> objects = client.load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).items();
        assertThat(objects).isNotEmpty();
        for (HasMetadata object : objects) {
            String ns = object.getMetadata().getNamespace() != null ? object.getMetadata().getNamespace() : NAMESPACE;
            HasMetadata accepted = client.resource(object).inNamespace(ns).dryRun().create();
            assertThat(accepted.getMetadata().getName()).isEqualTo(object.getMetadata().getName());
        }
    }
}
