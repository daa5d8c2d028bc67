package io.kratosupgrade.operator.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** docs/api-reference.md must describe the CRD users install; -Dupdate.docs=true rewrites it. */
class ApiReferenceTest {

    @Test
    void apiReferenceIsGeneratedFromTheCommittedCrd() throws Exception {
        String rendered = ApiReference.render();
        if (Boolean.getBoolean("update.docs")) {
            Files.writeString(ApiReference.DOC, rendered);
        }
        assertThat(rendered).contains("`spec.version` (required)").contains("`spec.backup.persistentVolumeClaim`");
        assertThat(Files.readString(ApiReference.DOC))
                .as("docs/api-reference.md is out of date: run ./mvnw test -Dtest=ApiReferenceTest -Dupdate.docs=true")
                .isEqualTo(rendered);
    }
}
