package io.kratosupgrade.operator.product;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Ory Keto (permissions): its knowledge base is products/keto/releases.json. {@code migrate up --yes} takes no
 * {@code -e}: Keto reads the DSN from its config file or the DSN variable, which the migration Job gets from the
 * server's own container. From v0.6 to v0.7 its tuples must also be moved by Keto itself: {@link LegacyNamespaces}.
 */
public final class Keto extends OryService {

    /** The relation tuples and the UUIDs they map names to (schema_migration and networks as for Kratos). */
    private static final List<String> CORE_TABLES = List.of("keto_relation_tuples", "keto_uuid_mappings", "schema_migration", "networks");

    public static final Keto INSTANCE = new Keto(ReleaseKnowledge.load("products/keto/releases.json"));

    Keto(ReleaseKnowledge knowledge) {
        super("Keto", "keto", knowledge, CORE_TABLES);
    }

    /** The first release on the single-table schema: from an older one, the tuples must be moved by Keto itself. */
    static final KratosVersion SINGLE_TABLE = KratosVersion.parse("v0.7.0-alpha.0");
    /** The release that removed {@code keto namespace migrate legacy}. */
    static final KratosVersion LEGACY_COMMAND_REMOVED = KratosVersion.parse("v0.9.0-alpha.0");
    static final String LAST_WITH_LEGACY_COMMAND = "v0.8.0-alpha.2";

    @Override
    public Optional<DataMigration> dataMigration(KratosVersion from, KratosVersion to) {
        return from.compareTo(SINGLE_TABLE) < 0 && to.compareTo(SINGLE_TABLE) >= 0 ? Optional.of(LegacyNamespaces.INSTANCE) : Optional.empty();
    }

    /**
     * {@code keto namespace migrate legacy --yes} (cmd/namespace/migrate_legacy.go, v0.7.0-alpha.1 to v0.8.0-alpha.2):
     * for every legacy table {@code keto_<id>_relation_tuples} it copies the tuples into keto_relation_tuples in one
     * transaction, then (--yes) drops the legacy table. A tuple whose subject does not parse is logged ("Skipping
     * relation tuple, it seems to be in a broken state"), the others are committed, and the command fails with
     * "found non-deserializable relationtuples: [...]" before dropping that table: a re-run would copy the good tuples
     * a second time (keto_relation_tuples has no unique key), so broken tuples end the run instead.
     */
    static final class LegacyNamespaces implements DataMigration {

        static final LegacyNamespaces INSTANCE = new LegacyNamespaces();
        static final String BROKEN_PREFIX = "found non-deserializable relationtuples: ";
        /** The hint Keto prints after that error, which survives when the log's end cut the error line. */
        static final String BROKEN_HINT = "github.com/ory/keto/issues/661";
        private static final ObjectMapper JSON = new ObjectMapper();

        @Override
        public String description() {
            return "Keto's legacy namespace migration (keto namespace migrate legacy --yes: the v0.6 tables of each namespace "
                    + "moved into the single table of v0.7)";
        }

        @Override
        public List<String> args() {
            return List.of("namespace", "migrate", "legacy", "--yes");
        }

        @Override
        public Optional<String> unavailableIn(KratosVersion target) {
            if (target.compareTo(LEGACY_COMMAND_REMOVED) < 0) return Optional.empty();
            return Optional.of("Keto " + target + " no longer has `keto namespace migrate legacy` (removed in " + LEGACY_COMMAND_REMOVED
                    + "), which moves the relation tuples of a v0.6 database: upgrade to " + LAST_WITH_LEGACY_COMMAND
                    + " first (the last release that has it), then to " + target);
        }

        /**
         * The tuples v0.7's SubjectFromString refuses (internal/relationtuple/definitions.go): a subject with a '#' is a
         * subject set and must read namespace:object#relation, with exactly one '#' and one ':' before it. The legacy
         * tables are found as the command finds them (keto_%_relation_tuples).
         */
        static final String PRECHECK = String.join("\n",
                "select coalesce(string_agg(format('select object, relation, subject from %I', tablename), ' union all '),",
                "  'select null::text as object, null::text as relation, null::text as subject where false') as legacy",
                "  from pg_catalog.pg_tables where schemaname = current_schema() and tablename like 'keto\\_%\\_relation\\_tuples'",
                "  and tablename <> 'keto_relation_tuples' \\gset",
                "with t as (:legacy), broken as (select object, relation, subject from t",
                "  where subject like '%#%' and subject !~ '^[^#:]*:[^#:]*#[^#]*$')",
                "select json_build_object('count', (select count(*) from broken), 'examples', (select coalesce(json_agg(e), '[]')",
                "  from (select object || '#' || relation || '@' || subject as e from broken order by 1 limit 5) x));");

        @Override
        public Optional<String> precheck() {
            return Optional.of(PRECHECK);
        }

        @Override
        public Optional<BrokenRecords> brokenRecords(String output) {
            if (output == null || !(output.contains(BROKEN_PREFIX) || output.contains(BROKEN_HINT))) return Optional.empty();
            int start = output.indexOf(BROKEN_PREFIX);
            if (start < 0) return Optional.of(new BrokenRecords(List.of(), false));
            List<String> tuples = new ArrayList<>();
            try {
                // The array is the rest of the error line.
                String rest = output.substring(start + BROKEN_PREFIX.length());
                int end = rest.indexOf('\n');
                for (JsonNode tuple : JSON.readTree(end < 0 ? rest : rest.substring(0, end))) {
                    tuples.add(tuple.path("object").asText() + "#" + tuple.path("relation").asText() + "@" + tuple.path("subject").asText());
                }
                return Optional.of(new BrokenRecords(tuples, true));
            } catch (JsonProcessingException e) {
                return Optional.of(new BrokenRecords(tuples, false));
            }
        }
    }
}
