package io.kratosupgrade.operator.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.product.Kratos;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** docs/preflight.md shows the releases and rules the operator ships; -Dupdate.docs=true rewrites the tables. */
class KnowledgeBaseDocTest {

    @Test
    void theTablesAreTheShippedKnowledgeBase() throws Exception {
        String doc = Files.readString(KnowledgeBaseTables.DOC);
        int begin = doc.indexOf(KnowledgeBaseTables.BEGIN);
        int end = doc.indexOf(KnowledgeBaseTables.END);
        assertThat(begin).as("markers in docs/preflight.md").isNotNegative();
        String rendered = KnowledgeBaseTables.render(Kratos.INSTANCE.knowledge());
        String current = doc.substring(begin, end + KnowledgeBaseTables.END.length());
        if (Boolean.getBoolean("update.docs")) {
            Files.writeString(KnowledgeBaseTables.DOC, doc.replace(current, rendered));
            current = rendered;
        }
        assertThat(current).as("docs/preflight.md is out of date: run ./mvnw test -Dtest=KnowledgeBaseDocTest -Dupdate.docs=true")
                .isEqualTo(rendered);
    }
}
