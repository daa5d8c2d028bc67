package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.kratosupgrade.operator.status.Redaction;
import org.junit.jupiter.api.Test;

/** Log text copied into status, events and the operator's log loses its credentials first. */
class RedactionTest {

    @Test
    void passwordsInConnectionUrlsAndKeyValueSettingsAreReplaced() {
        String log = "could not connect to postgres://kratos:s3cr%40t@db:5432/kratos?sslmode=disable\n"
                + "dsn: host=db user=kratos password=hunter2 dbname=kratos\n"
                + "SECRETS_COOKIE=\"abc def\" token: 'xyz'";

        String redacted = Redaction.redact(log);

        assertThat(redacted).doesNotContain("s3cr%40t", "hunter2", "abc def", "xyz")
                .contains("postgres://kratos:REDACTED@db:5432/kratos", "user=kratos password=REDACTED dbname=kratos",
                        "SECRETS_COOKIE=REDACTED", "token: REDACTED");
    }

    @Test
    void theTailStartsAtALineBoundaryAndSaysItWasCut() {
        String log = "first line that is long enough to be cut away\nsecond\nthird";

        assertThat(Redaction.tail(log, 20)).isEqualTo("...second\nthird");
        assertThat(Redaction.tail("short", 20)).isEqualTo("short");
        assertThat(Redaction.tail(null, 20)).isNull();
    }
}
