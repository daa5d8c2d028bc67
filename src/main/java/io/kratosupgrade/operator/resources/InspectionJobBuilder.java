package io.kratosupgrade.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgrade;
import java.time.Duration;
import java.util.Collection;

/**
 * The read-only look at a PostgreSQL database before anything happens: which migrations are applied,
 * compared with the running and the target release's lists, and how many rows {@code networks} has. psql
 * does the comparison (the lists travel as environment variables) and the Job reports a small JSON object
 * as its termination message, well under the 4096 bytes Kubernetes keeps.
 */
public final class InspectionJobBuilder {

    public static final String STEP = "inspect";

    private InspectionJobBuilder() {
    }

    /**
     * @param running the migration versions of the running release (empty when it is not known)
     * @param target  the migration versions of the target release (empty when it is not known)
     */
    public record Input(KratosUpgrade upgrade, int run, String jobName, String credentialsSecret, String image, Duration timeout,
                        PodSpec kratosPod, Container kratosContainer, Collection<String> running, Collection<String> target) {
    }

    public static Job build(Input in) {
        Container psql = new ContainerBuilder()
                .withName(STEP)
                .withImage(in.image())
                .withImagePullPolicy("IfNotPresent")
                .withCommand("/bin/sh", "-c", SCRIPT)
                .withEnv(new EnvVar("RUNNING_MIGRATIONS", String.join(",", in.running()), null),
                        new EnvVar("TARGET_MIGRATIONS", String.join(",", in.target()), null))
                .withEnvFrom(new EnvFromSourceBuilder().withNewSecretRef().withName(in.credentialsSecret()).endSecretRef().build())
                // The Kratos container's mounts come along so DSN parameters such as sslrootcert=/etc/... resolve.
                .withVolumeMounts(in.kratosContainer().getVolumeMounts())
                // The report is the file; a failure (psql's own error, say a refused password) is the log's end.
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
        return OperatorJobs.wrap(in.upgrade(), in.run(), STEP, in.jobName(), in.timeout(), OperatorJobs.podLike(in.kratosPod())
                .withContainers(psql)
                .withVolumes(in.kratosPod().getVolumes())
                .build());
    }

    /** POSIX sh and SQL only; the connection comes from libpq's PG* variables, nothing is written. */
    static final String SCRIPT = String.join("\n",
            "set -eu",
            "q() { psql -X -At -v ON_ERROR_STOP=1 \"$@\"; }",
            // Assignments, not tests: a failing query inside [ ] would not stop the script (set -e), and an
            // unreachable database would pass for an empty one.
            "q -c 'select 1' > /dev/null",
            "has_networks=$(q -c \"select to_regclass('networks') is not null\")",
            "has_schema=$(q -c \"select to_regclass('schema_migration') is not null\")",
            "networks=null",
            "if [ \"$has_networks\" = t ]; then networks=$(q -c 'select count(*) from networks'); fi",
            "if [ \"$has_schema\" != t ]; then",
            "  printf '{\"schemaMigration\":false,\"networks\":%s}' \"$networks\" > /dev/termination-log",
            "else",
            "  q -v running=\"$RUNNING_MIGRATIONS\" -v target=\"$TARGET_MIGRATIONS\" -v networks=\"$networks\" > /dev/termination-log <<'SQL'",
            "with applied as (select version from schema_migration),",
            "     running as (select unnest(string_to_array(:'running', ',')) as version),",
            "     target as (select unnest(string_to_array(:'target', ',')) as version),",
            "     missing_running as (select version from running except select version from applied),",
            "     unknown_running as (select version from applied except select version from running),",
            "     unknown_target as (select version from applied except select version from target),",
            "     pending as (select version from target except select version from applied)",
            "select json_build_object(",
            "  'schemaMigration', true,",
            "  'applied', (select count(*) from applied),",
            "  'newest', (select max(version) from applied),",
            "  'pendingForTarget', (select count(*) from pending),",
            "  'missingForRunning', (select count(*) from missing_running),",
            "  'unknownToRunning', (select count(*) from unknown_running),",
            "  'unknownToTarget', (select count(*) from unknown_target),",
            "  'aheadExamples', (select coalesce(json_agg(version), '[]') from",
            "      (select version from unknown_target order by version desc limit 3) e),",
            "  'missingExamples', (select coalesce(json_agg(version), '[]') from",
            "      (select version from missing_running order by version limit 3) m),",
            "  'networks', :networks);",
            "SQL",
            "fi",
            "cat /dev/termination-log");
}
