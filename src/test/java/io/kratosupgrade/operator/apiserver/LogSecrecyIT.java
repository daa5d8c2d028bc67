package io.kratosupgrade.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.api.v1alpha1.Phase;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.testsupport.LogCapture;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * The DSN, its password and the credentials Secret's content never reach a log, at any level: a whole
 * upgrade (DSN read, credentials Secret created, backup Job, deletion of the Secret) runs with every logger of
 * the operator, JOSDK and the fabric8 client at the lowest level.
 */
class LogSecrecyIT extends ApiServerTestBase {

    @Test
    void noSecretInAnyLogLineEvenAtTheLowestLevel() {
        List<String> lines;
        try (LogCapture capture = new LogCapture(Level.ALL, true, "io.kratosupgrade", "io.javaoperatorsdk", "io.fabric8",
                "io.vertx", "okhttp3", "org.apache.http", "jdk.internal.httpclient")) {
            controllers.start();
            installKratos();
            upgrade("quiet", "v1.3.1", spec -> spec.setStrategy(Strategy.Recreate));
            awaitPhase("quiet", Phase.Succeeded);
            lines = capture.lines();
        }

        String all = String.join("\n", lines);
        assertThat(lines).as("DEBUG lines were captured, so the check means something")
                .anyMatch(l -> l.contains(" FINE") || l.contains(" DEBUG"))
                .anyMatch(l -> l.contains("quiet"));
        var base64 = java.util.Base64.getEncoder();
        for (String secret : List.of(DB_PASSWORD, "s3cr%23t%2Fp%40ss", DSN, base64.encodeToString(DB_PASSWORD.getBytes()),
                base64.encodeToString(DSN.getBytes()))) {
            assertThat(all).as("a log line contains " + secret).doesNotContain(secret);
        }
    }
}
