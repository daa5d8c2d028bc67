package io.kratosupgrade.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kratosupgrade.operator.api.v1alpha1.OryProduct;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.product.Products;
import io.kratosupgrade.operator.resources.InspectionJobBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keto's check for tuples v0.7's legacy namespace migration cannot move, as preflight's inspection Job runs it: the
 * inspection script with Keto's check, in the database tools image, on a real PostgreSQL database shaped as Keto v0.6
 * leaves it (one table per namespace, from v0.6.0-alpha.3's 20210128140414_namespace.up.sql). No Keto v0.6 binary
 * builds here, so the tables are made by that migration's SQL.
 */
class KetoPrecheckE2E extends E2eTestBase {

    static final String PASSWORD = "keto-v06-pw";

    @Test
    void theInspectionFindsTheTuplesV07CannotMoveAndOnlyThose() throws Exception {
        String database = "keto_" + namespace.substring(4);
        postgres.createDatabase(database, database, PASSWORD);
        List<String> statements = new ArrayList<>(List.of("SET ROLE " + database,
                "CREATE TABLE keto_namespace (id INTEGER PRIMARY KEY, schema_version INTEGER NOT NULL)"));
        for (String table : List.of("keto_0000000001_relation_tuples", "keto_0000000002_relation_tuples")) {
            statements.add("CREATE TABLE " + table + " (shard_id varchar(64), object varchar(64), relation varchar(64), "
                    + "subject varchar(256), commit_time timestamp, PRIMARY KEY (shard_id, object, relation, subject, commit_time))");
        }
        statements.add("INSERT INTO keto_0000000001_relation_tuples VALUES ('s', 'file-1', 'view', 'user-1', now()), "
                + "('s', 'file-1', 'view', 'groups:admins#member', now()), ('s', 'file-2', 'edit', 'readme#owner', now())");
        statements.add("INSERT INTO keto_0000000002_relation_tuples VALUES ('s', 'g-1', 'member', 'a:b:c#x', now()), "
                + "('s', 'g-1', 'member', 'a:b#c#d', now()), ('s', 'g-2', 'member', 'x:y#member:z', now())");
        postgres.execute(database, statements.toArray(String[]::new));
        String check = Products.of(OryProduct.Keto).dataMigration(KratosVersion.parse("v0.6.0-alpha.3"), KratosVersion.parse("v0.7.0-alpha.1"))
                .orElseThrow().precheck().orElseThrow();

        String log = new LoadPod(client, namespace, "inspect").run(env.toolsImage(),
                List.of("/bin/sh", "-c", InspectionJobBuilder.script(DatabaseKind.POSTGRES, "/tmp/report")),
                Map.of("PGHOST", env.pgHostForPods(), "PGPORT", Integer.toString(env.pgPort()), "PGUSER", database, "PGDATABASE", database,
                        "RUNNING_MIGRATIONS", "", "TARGET_MIGRATIONS", "", "DATA_MIGRATION_CHECK", check),
                "PGPASSWORD", PASSWORD);

        JsonNode report = new ObjectMapper().readTree(log.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(report.path("schemaMigration").asBoolean()).as("v0.6 has no schema_migration table").isFalse();
        assertThat(report.at("/dataMigration/count").asInt()).as(log).isEqualTo(3);
        List<String> examples = new ArrayList<>();
        report.at("/dataMigration/examples").forEach(e -> examples.add(e.asText()));
        // A subject set needs one '#' and one ':' before it; the relation after '#' may hold ':'; an ID holds no '#'.
        assertThat(examples).containsExactly("file-2#edit@readme#owner", "g-1#member@a:b#c#d", "g-1#member@a:b:c#x");
    }
}
