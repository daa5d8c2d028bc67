package io.kratosupgrade.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The migrations in products/kratos/releases.json are what the releases themselves ship: hack/kratos-knowledge.sh
 * --check re-derives them from the module zips the Go module proxy serves (and from a git clone given as
 * KRATOS_GIT) and fails on any difference.
 */
class KnowledgeBaseDriftIT {

    @Test
    void theMigrationListsAreTheReleasesOwn() throws Exception {
        Process p = new ProcessBuilder("hack/kratos-knowledge.sh", "--check").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        System.out.println(out);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("matches the releases' own migrations");
    }
}
