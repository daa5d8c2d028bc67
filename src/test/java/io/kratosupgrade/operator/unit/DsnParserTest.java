package io.kratosupgrade.operator.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.database.DatabaseTarget;
import io.kratosupgrade.operator.database.DsnParser;
import io.kratosupgrade.operator.database.DumpToolEnvironment;
import io.kratosupgrade.operator.database.InvalidDsnException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DsnParserTest {

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "postgresql", "POSTGRES"})
    void postgresSchemesParseToHostPortUserDatabase(String scheme) throws Exception {
        DatabaseTarget t = DsnParser.parse(scheme + "://kratos:secret@db.ory.svc:6543/identities?sslmode=require");

        assertThat(t.kind()).isEqualTo(DatabaseKind.POSTGRES);
        assertThat(t.host()).isEqualTo("db.ory.svc");
        assertThat(t.port()).isEqualTo("6543");
        assertThat(t.user()).isEqualTo("kratos");
        assertThat(t.password()).isEqualTo("secret");
        assertThat(t.database()).isEqualTo("identities");
        assertThat(t.parameters()).containsExactly(Map.entry("sslmode", "require"));
    }

    @Test
    void percentEncodedPasswordIsDecoded() throws Exception {
        DatabaseTarget t = DsnParser.parse("postgres://kratos:p%40ss%3Aw%2Frd%25%2B@db:5432/kratos");

        assertThat(t.password()).isEqualTo("p@ss:w/rd%+");
        assertThat(t.host()).isEqualTo("db");
        assertThat(t.database()).isEqualTo("kratos");
    }

    @Test
    void literalPlusInPasswordStaysAPlus() throws Exception {
        assertThat(DsnParser.parse("postgres://kratos:a+b+c@db/kratos").password()).isEqualTo("a+b+c");
    }

    @Test
    void percentEncodedUserIsDecoded() throws Exception {
        assertThat(DsnParser.parse("postgres://kratos%40tenant:pw@db/kratos").user()).isEqualTo("kratos@tenant");
    }

    @Test
    void toolEnvironmentDropsKratosPoolParametersAndMapsSslmode() throws Exception {
        DatabaseTarget t = DsnParser.parse("postgres://kratos:p%40ss%3Aw%2Frd%25%2B@db.ory.svc:5432/kratos"
                + "?sslmode=disable&max_conns=20&max_idle_conns=4&max_conn_lifetime=1h&max_conn_idle_time=5m");

        Map<String, String> env = DumpToolEnvironment.of(t);

        assertThat(env).containsExactlyInAnyOrderEntriesOf(Map.of(
                "PGHOST", "db.ory.svc",
                "PGPORT", "5432",
                "PGUSER", "kratos",
                "PGPASSWORD", "p@ss:w/rd%+",
                "PGDATABASE", "kratos",
                "PGSSLMODE", "disable"));
        assertThat(String.join(" ", env.keySet()) + " " + String.join(" ", env.values()))
                .doesNotContain("max_conn", "max_idle", "1h", "5m");
    }

    @Test
    void noPortInDsnMeansNoPgport() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse("postgresql://kratos:pw@db/kratos"));

        assertThat(env).doesNotContainKey("PGPORT").containsEntry("PGHOST", "db").containsEntry("PGDATABASE", "kratos");
    }

    @Test
    void searchPathBecomesPgoptions() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse("postgres://kratos:pw@db/kratos?search_path=kratos"));

        assertThat(env).containsEntry("PGOPTIONS", "-c search_path=kratos");
    }

    @Test
    void mysqlTcpFormGivesDbVariablesAndMysqlPwd() throws Exception {
        DatabaseTarget t = DsnParser.parse("mysql://user:pw@tcp(db:3306)/kratos?parseTime=true&max_conns=5");

        assertThat(t.kind()).isEqualTo(DatabaseKind.MYSQL);
        assertThat(DumpToolEnvironment.of(t)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "DB_HOST", "db",
                "DB_PORT", "3306",
                "DB_USER", "user",
                "MYSQL_PWD", "pw",
                "DB_NAME", "kratos"));
    }

    /**
     * Kratos hands the DSN to Go's MySQL driver, which takes the credentials as written: checked against Kratos
     * v1.0.0 and MariaDB, "p@ss#w:rd%41 x" connects written raw and is refused percent-encoded.
     */
    @Test
    void mysqlCredentialsAreTakenAsWrittenTheWayGosMySqlDriverReadsThem() throws Exception {
        DatabaseTarget t = DsnParser.parse("mysql://kratos:p@ss#w:rd%41 x/y?z@tcp(db:3306)/kratos?parseTime=true");

        assertThat(t.user()).isEqualTo("kratos");
        assertThat(t.password()).isEqualTo("p@ss#w:rd%41 x/y?z");
        assertThat(t.host()).isEqualTo("db");
        assertThat(t.database()).isEqualTo("kratos");
        assertThat(t.parameters()).containsEntry("parseTime", "true");
    }

    @Test
    void mysqlWithoutPortDefaultsTo3306() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse("mysql://user:pw@tcp(mysql.db)/kratos"));

        assertThat(env).containsEntry("DB_HOST", "mysql.db").containsEntry("DB_PORT", "3306");
    }

    @ParameterizedTest
    @CsvSource({
            "cockroach://root:pw@crdb:26257/kratos?sslmode=disable, COCKROACH",
            "cockroachdb://root@crdb:26257/kratos, COCKROACH",
            "crdb://root@crdb:26257/kratos, COCKROACH",
            "sqlite:///var/lib/sqlite/db.sqlite?_fk=true, SQLITE",
            "sqlite3://file.db, SQLITE",
            "memory, MEMORY"})
    void nonDumpableKindsParseButCannotBeDumped(String dsn, DatabaseKind kind) throws Exception {
        DatabaseTarget t = DsnParser.parse(dsn);

        assertThat(t.kind()).isEqualTo(kind);
        assertThat(kind.dumpable()).isFalse();
        assertThatThrownBy(() -> DumpToolEnvironment.of(t)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "kratos:hunter2@db:5432/kratos",                 // no scheme
            "host=db user=kratos password=hunter2 dbname=k", // libpq key/value form
            "mongodb://kratos:hunter2@db:27017/kratos",      // unknown scheme
            "postgres://kratos:hunter2@db:5432",             // no database
            "postgres://kratos:hunter2@db:5432/",            // empty database
            "postgres://kratos:hunter2@db:port/kratos",      // port not a number
            "postgres://kratos:hunter2@/kratos",             // no host
            "mysql://kratos:hunter2@unix(/run/mysqld.sock)/kratos",
            ""})
    void invalidDsnsAreRefusedWithoutRevealingThem(String dsn) {
        Throwable thrown = catchThrowable(() -> DsnParser.parse(dsn));

        assertThat(thrown).isInstanceOf(InvalidDsnException.class);
        assertThat(thrown.getMessage()).isNotBlank().doesNotContain("hunter2");
        if (!dsn.isEmpty()) {
            assertThat(thrown.getMessage()).doesNotContain(dsn);
        }
    }

    @Test
    void unknownSchemeIsNamedButNothingElse() {
        Throwable thrown = catchThrowable(() -> DsnParser.parse("mongodb://kratos:hunter2@db:27017/kratos"));

        assertThat(thrown).hasMessageContaining("mongodb").hasMessageNotContaining("db:27017");
    }
    @ParameterizedTest
    @ValueSource(strings = {"postgres://kratos:hunter2%ZZ@db/kratos", "postgres://kratos:hunter2-100%@db/kratos"})
    void malformedPercentEscapeIsAnInvalidDsn(String dsn) {
        Throwable thrown = catchThrowable(() -> DsnParser.parse(dsn));

        assertThat(thrown).isInstanceOf(InvalidDsnException.class);
        assertThat(thrown.getMessage()).doesNotContain("hunter2", "ZZ");
    }

    @Test
    void targetToStringNeverContainsCredentials() throws Exception {
        DatabaseTarget pg = DsnParser.parse("postgres://kratos:p%40ss%3Aw%2Frd@db:5432/kratos");
        DatabaseTarget my = DsnParser.parse("mysql://user:hunter2@tcp(db:3306)/kratos");

        assertThat(pg.toString()).contains("postgres", "db:5432", "kratos").doesNotContain("p@ss", "p%40ss", "w/rd");
        assertThat(my.toString()).contains("mysql", "db:3306").doesNotContain("hunter2");
    }

    // DSN forms seen in the wild: each either reaches the dump tool correctly or is refused with a reason.

    @ParameterizedTest
    @CsvSource({
            "postgres://kratos:pw@[fd00::5]:5433/kratos, fd00::5, 5433",
            "postgres://kratos:pw@[::1]/kratos, ::1, ",
    })
    void ipv6HostsLoseTheirBrackets(String dsn, String host, String port) throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse(dsn));
        assertThat(env).containsEntry("PGHOST", host);
        if (port == null) assertThat(env).doesNotContainKey("PGPORT"); else assertThat(env).containsEntry("PGPORT", port);
    }

    @Test
    void aUnixSocketDirectoryGivenAsHostParameterBecomesPghost() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse(
                "postgres://kratos:pw@/kratos?host=%2Fvar%2Frun%2Fpostgresql&sslmode=disable"));
        assertThat(env).containsEntry("PGHOST", "/var/run/postgresql").containsEntry("PGDATABASE", "kratos")
                .containsEntry("PGSSLMODE", "disable");
    }

    @Test
    void noPasswordMeansNoPgpassword() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse("postgres://kratos@db:5432/kratos?sslmode=require"));
        assertThat(env).containsEntry("PGUSER", "kratos").doesNotContainKey("PGPASSWORD");
    }

    @Test
    void verifyFullWithAMountedCaReachesLibpq() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse(
                "postgresql://kratos:pw@db.example.com/kratos?sslmode=verify-full&sslrootcert=/etc/kratos/ca/ca.crt&max_conns=20"));
        assertThat(env).containsEntry("PGSSLMODE", "verify-full").containsEntry("PGSSLROOTCERT", "/etc/kratos/ca/ca.crt")
                .doesNotContainKey("max_conns");
    }

    @Test
    void libpqOptionsAreDecoded() throws Exception {
        Map<String, String> env = DumpToolEnvironment.of(DsnParser.parse(
                "postgres://kratos:pw@db/kratos?options=-c%20statement_timeout%3D0&application_name=kratos"));
        assertThat(env).containsEntry("PGOPTIONS", "-c statement_timeout=0").containsEntry("PGAPPNAME", "kratos");
    }

    @Test
    void anAtSignInTheUserNameAndThePasswordSurvive() throws Exception {
        DatabaseTarget t = DsnParser.parse("postgres://kratos%40corp.example:p%40ss@db/kratos");
        assertThat(t.user()).isEqualTo("kratos@corp.example");
        assertThat(t.password()).isEqualTo("p@ss");
    }
}
