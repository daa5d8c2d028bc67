package io.kratosupgrade.operator.preflight;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kratosupgrade.operator.api.v1alpha1.BackupPolicy;
import io.kratosupgrade.operator.api.v1alpha1.BlueGreenSpec;
import io.kratosupgrade.operator.api.v1alpha1.CopyRehearsalStatus;
import io.kratosupgrade.operator.api.v1alpha1.OldSideAction;
import io.kratosupgrade.operator.api.v1alpha1.HopStatus;
import io.kratosupgrade.operator.api.v1alpha1.InspectionStatus;
import io.kratosupgrade.operator.api.v1alpha1.KratosUpgradeSpec;
import io.kratosupgrade.operator.api.v1alpha1.Mode;
import io.kratosupgrade.operator.api.v1alpha1.UpgradePath;
import io.kratosupgrade.operator.api.v1alpha1.PlanStatus;
import io.kratosupgrade.operator.api.v1alpha1.PlanWarning;
import io.kratosupgrade.operator.api.v1alpha1.RollbackPolicy;
import io.kratosupgrade.operator.api.v1alpha1.Strategy;
import io.kratosupgrade.operator.database.DatabaseKind;
import io.kratosupgrade.operator.knowledge.Release;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.kratos.KratosVersion;
import io.kratosupgrade.operator.observe.config.EffectiveConfig;
import io.kratosupgrade.operator.product.DataMigration;
import io.kratosupgrade.operator.product.Product;
import io.kratosupgrade.operator.resources.Names;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Writes the upgrade plan from what preflight found: the releases crossed, the steps in order, the pending
 * migrations, the outage the strategy implies, the way back, the warnings, and what could not be checked. Its
 * hash identifies exactly this plan (an approval names it). No I/O.
 */
public final class PlanBuilder {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PlanBuilder() {
    }

    /**
     * @param deployment the Deployment's name, for the steps
     * @param replicas   its replica count
     * @param database   the database kind (dialect for the pending migrations), or null when unknown
     * @param rolledOutEarly Gate mode: the Deployment already runs the target, before its migration
     * @param inspectedByBackup the database is inspected by the backup Job, later ({@link #addInspection})
     * @param copyRehearsal BlueGreen copy Dump: what preflight's rehearsal of the copy measured, or null
     */
    public record Input(Product product, KratosUpgradeSpec spec, KratosVersion from, KratosVersion to, List<HopStatus> hops,
                        String deployment, int replicas, DatabaseKind database, EffectiveConfig config, ConfigRuleCheck rules,
                        InspectionStatus inspection, boolean rolledOutEarly, boolean inspectedByBackup, String newDeployment,
                        CopyRehearsalStatus copyRehearsal) {
    }

    /** Warnings about the database itself (from the inspection) carry rule ids with this prefix. */
    public static final String DATABASE_RULE_PREFIX = "database-";

    public static PlanStatus build(Input in) {
        ReleaseKnowledge kb = in.product().knowledge();
        PlanStatus plan = new PlanStatus();
        plan.setFromVersion(in.from().toString());
        plan.setToVersion(in.to().toString());
        boolean targetKnown = kb.release(in.to()).isPresent();
        plan.setTargetKnown(targetKnown);
        List<Release> crossed = kb.crossed(in.from(), in.to());
        crossed.forEach(r -> plan.getReleasesCrossed().add(r.version().toString()));
        if (!targetKnown) {
            plan.getNotes().add(in.product().displayName() + " " + in.to() + " is not in the knowledge base (newest known: "
                    + kb.newest().version() + "): its configuration rules and its migrations are unknown; the migration "
                    + "runs the command of " + kb.closest(in.to()).map(r -> r.version().toString()).orElse("the oldest known release"));
        }
        InspectionStatus inspection = in.inspection();
        if (inspection != null && inspection.getPendingForTarget() != null) {
            plan.setPendingMigrations(inspection.getPendingForTarget());
        } else {
            pendingMigrations(kb, in).ifPresent(plan::setPendingMigrations);
        }
        if (inspection != null && inspection.getAppliedMigrations() != null) {
            plan.getNotes().add(inspectedNote(inspection, in.from()));
        } else if (in.inspectedByBackup()) {
            plan.getNotes().add(BACKUP_INSPECTS_NOTE + in.from() + " until then");
        } else if (plan.getPendingMigrations() != null) {
            plan.getNotes().add("the database was not inspected (only PostgreSQL and MySQL are): pendingMigrations assumes it is "
                    + "exactly at " + in.from());
        }

        boolean recreate = in.spec().getStrategy() == Strategy.Recreate;
        boolean backup = in.spec().getBackup().getPolicy() == BackupPolicy.Required;
        List<String> steps = plan.getSteps();
        if (in.spec().getStrategy() == Strategy.BlueGreen) {
            blueGreen(in, plan);
        } else {
            if (recreate) {
                steps.add("scale Deployment " + in.deployment() + " to 0 and wait until none of its pods exists");
            }
            steps.add(backup ? "back up the " + in.database().id() + " database to PersistentVolumeClaim "
                    + in.spec().getBackup().getPersistentVolumeClaim() : "no backup (spec.backup.policy: Skip)");
            boolean postgres = in.database() == DatabaseKind.POSTGRES;
            if (in.spec().getBackup().verifies() && postgres) {
                steps.add("verify the dump: check its SHA-256, restore it into a throw-away PostgreSQL inside the Job's pod and "
                        + "compare the row counts of " + in.product().coreTables().size() + " core tables with the dump's snapshot");
            }
            if (in.spec().rehearses() && postgres) {
                steps.add("rehearse on a restored copy: run " + (in.hops().size() == 1 ? "the migration" : "the " + in.hops().size()
                        + " hops' migrations") + " against it; a failure ends the run before production is touched");
            }
            if ((in.spec().getBackup().verifies() || in.spec().rehearses()) && backup && !postgres) {
                plan.getNotes().add("backup verification and rehearsal need PostgreSQL: this " + in.database().id()
                        + " dump is neither verified nor rehearsed");
            }
            for (int i = 0; i < in.hops().size(); i++) {
                HopStatus hop = in.hops().get(i);
                String label = in.hops().size() == 1 ? "" : "hop " + (i + 1) + " of " + in.hops().size() + " (" + hop.getVersion() + "): ";
                if (recreate && i > 0) {
                    steps.add(label + "scale Deployment " + in.deployment() + " to 0 and wait until none of its pods exists");
                }
                steps.add(label + "migrate the database with " + hop.getImage() + ": " + in.product().displayName().toLowerCase()
                        + " " + String.join(" ", in.product().migrateArgs(KratosVersion.parse(hop.getVersion()))));
                if (in.spec().getMode() == Mode.Gate) {
                    steps.add("report Ready (ReadyForRollout) and wait for the owner of Deployment " + in.deployment() + " (a GitOps "
                            + "tool) to roll it to " + hop.getVersion() + "; the operator does not write the Deployment");
                } else {
                    steps.add(label + "roll out " + hop.getImage() + (recreate ? " with " + in.replicas() + " replicas" : ", pod by pod"));
                }
                steps.add(label + "verify that every ready pod runs " + hop.getImage());
            }

            plan.setOutage(outage(in, recreate));
            plan.setRollback(rollback(in, recreate));
        }

        for (RuleFinding f : in.rules().warnings()) {
            PlanWarning w = new PlanWarning();
            w.setRule(f.rule().id());
            w.setRelease(f.rule().release().toString());
            w.setKey(f.where());
            w.setWhat(f.rule().what() + (f.note() == null ? "" : " (" + f.note() + ")"));
            w.setFix(f.rule().fix());
            w.setLink(f.rule().link());
            plan.getWarnings().add(w);
        }
        in.rules().acknowledged().forEach(f -> plan.getAcknowledgedWarnings().add(f.rule().id()));
        addDatabaseWarnings(plan, inspection, in.from(), in.spec().getAcknowledgedWarnings());
        if (in.rolledOutEarly()) {
            plan.getNotes().add("Deployment " + in.deployment() + " was already rolled to " + in.to() + " when the run began, "
                    + "before its migration: the release it ran before is not known here, so no configuration rule was checked, "
                    + "and the migration runs right after the backup (no approval, verification or rehearsal)");
        }
        plan.getConfigSources().addAll(in.config().sources());
        plan.getNotes().addAll(in.config().problems());
        plan.setHash(hash(plan));
        return plan;
    }

    /** Steps, outage and way back of a BlueGreen run; warnings and notes as for the other strategies. */
    private static void blueGreen(Input in, PlanStatus plan) {
        BlueGreenSpec spec = in.spec().getBlueGreen();
        String hop = in.hops().get(in.hops().size() - 1).getImage();
        List<String> steps = plan.getSteps();
        if (spec.replicates()) {
            steps.add("back up the old database to PersistentVolumeClaim " + in.spec().getBackup().getPersistentVolumeClaim()
                    + (in.spec().getBackup().verifies() ? ", then verify the dump in a throw-away PostgreSQL" : "")
                    + " (the old side serves reads and writes meanwhile)");
            steps.add("copy the schema into the target database (" + spec.getTargetDatabase() + "), publish the old database's tables "
                    + "(those with a primary key or a replica identity) and subscribe the target to them; wait for the initial copy "
                    + "(the old side serves reads and writes meanwhile; the target follows every change)");
            steps.add("freeze writes on the old database: its user loses INSERT, UPDATE, DELETE and TRUNCATE (after the writes in "
                    + "flight commit); the old side keeps serving reads");
            steps.add("wait until the target holds every change made before the freeze, drop the subscription, the replication slot "
                    + "and the publication, copy the tables replication does not carry (schema_migration) and the sequences' values, "
                    + "and compare the row counts of " + in.product().coreTables().size() + " core tables with the frozen old database");
        } else {
            steps.add("check the target database (" + spec.getTargetDatabase() + "): reachable, empty, a PostgreSQL server at least as "
                    + "new as the old one; then freeze writes on the old database: its user loses INSERT, UPDATE, DELETE and TRUNCATE "
                    + "(after the writes in flight commit); the old side keeps serving reads");
            steps.add("back up the old database to PersistentVolumeClaim " + in.spec().getBackup().getPersistentVolumeClaim());
            steps.add("restore the dump into the target database in one transaction, row counts of " + in.product().coreTables().size()
                    + " core tables checked against the dump (this verifies the backup)");
        }
        steps.add("migrate the target database with " + hop + ": " + in.product().displayName().toLowerCase() + " "
                + String.join(" ", in.product().migrateArgs(in.to())));
        Optional<DataMigration> dataMigration = in.product().dataMigration(in.from(), in.to());
        dataMigration.ifPresent(d -> steps.add("run " + d.description() + " on the target database with " + hop + ", started again "
                + "after a failure up to " + in.spec().getMigration().getDataMigrationAttempts() + " times (Ory's guide: re-run until it "
                + "succeeds); records it cannot move end the run and are listed in status.dataMigration.brokenRecords"));
        steps.add("pin the Services that select Deployment " + in.deployment() + "'s pods to its pod-template-hash, then create "
                + "Deployment " + in.newDeployment() + " (its clone with " + hop + " and the target database's DSN, " + in.replicas()
                + " replicas) and wait until every pod is ready");
        steps.add("switch the Services to the new pods (one patch each): the write freeze ends");
        steps.add("keep Deployment " + in.deployment() + " up, write-frozen, for " + spec.getKeepOldFor() + " as the way back, then "
                + (spec.getOldDeployment() == OldSideAction.Delete ? "delete it" : "scale it to zero") + "; its database is kept as it "
                + "was at the freeze" + (spec.isRestoreOldWrites() ? ", writable again" : ", read-only for its user"));
        plan.setOutage("reads: none (the old side serves until the switch, the new side after it). Writes: refused from the freeze "
                + "until the switch, for as long as " + (spec.replicates() ? "the last changes' arrival (usually under a second), the "
                + "copy of the tables replication does not carry," : "the dump, the restore into the target,") + " the migration"
                + (dataMigration.isPresent() ? ", the data migration" : "") + " and "
                + "the start of the new side take together" + (spec.replicates() ? "" : rehearsedCopy(in.copyRehearsal()))
                + "; status.blueGreen.freezeSeconds reports it");
        plan.setRollback("a failure before the switch " + (spec.replicates() ? "drops the subscription, the replication slot and the "
                + "publication, " : "") + "gives the old database its writes back, deletes the new Deployment and "
                + (spec.isKeepFailedTarget() ? "keeps the target database as it is (empty it before a retry)" : "empties the target "
                + "database") + "; the old side never stopped serving. After the switch, for " + spec.getKeepOldFor() + ", the "
                + "annotation kratos-upgrade.io/switch-back=<run> moves the Services back at once; what was written on the new "
                + "side since the switch stays in the target database only and is lost to the old side.");
    }

    /** What preflight's rehearsal of the copy measured, as the freeze to expect; empty when there was none. */
    private static String rehearsedCopy(CopyRehearsalStatus measured) {
        if (measured == null || measured.getDumpSeconds() == null || measured.getRestoreSeconds() == null) return "";
        return ". In preflight's rehearsal of the copy (Job " + measured.getJobName() + ", " + measured.getFinishedAt() + ") the dump "
                + "took " + seconds(measured.getDumpSeconds()) + " s (" + size(measured.getDumpBytes()) + ") and the restore "
                + seconds(measured.getRestoreSeconds()) + " s: expect writes to be refused for about "
                + seconds(measured.getDumpSeconds() + measured.getRestoreSeconds()) + " s plus the migration, the new side's start "
                + "and the start of each Job's pod";
    }

    private static String seconds(double seconds) {
        return String.format(Locale.ROOT, "%.1f", seconds);
    }

    /** A dump's size for people: kB below a megabyte, MB (10^6 bytes) with one decimal above. */
    public static String size(Long bytes) {
        if (bytes == null) return "size unknown";
        if (bytes < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", bytes / 1_000.0);
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1_000_000.0);
    }

    /**
     * Completes a plan written while the database was not inspected yet ({@link Input#inspectedByBackup}) with what
     * the backup Job's inspection found; returns the database warnings that were not acknowledged.
     */
    public static List<PlanWarning> addInspection(PlanStatus plan, InspectionStatus inspection, KratosVersion from,
                                                  Collection<String> acknowledged) {
        if (inspection.getAppliedMigrations() == null) return List.of();
        if (inspection.getPendingForTarget() != null) plan.setPendingMigrations(inspection.getPendingForTarget());
        plan.getNotes().removeIf(n -> n.startsWith(BACKUP_INSPECTS_NOTE));
        plan.getNotes().add(inspectedNote(inspection, from));
        List<PlanWarning> added = addDatabaseWarnings(plan, inspection, from, acknowledged);
        plan.setHash(hash(plan));
        return added;
    }

    private static List<PlanWarning> addDatabaseWarnings(PlanStatus plan, InspectionStatus inspection, KratosVersion from,
                                                         Collection<String> acknowledged) {
        List<PlanWarning> added = new ArrayList<>();
        for (PlanWarning w : databaseWarnings(inspection, from)) {
            if (acknowledged.contains(w.getRule())) {
                plan.getAcknowledgedWarnings().add(w.getRule());
            } else {
                plan.getWarnings().add(w);
                added.add(w);
            }
        }
        return added;
    }

    private static final String BACKUP_INSPECTS_NOTE = "the database is inspected read-only in the backup Job, just before "
            + "the dump and before anything changes (no approval is asked for, so no separate look first): pendingMigrations "
            + "assumes it is exactly at ";

    private static String inspectedNote(InspectionStatus inspection, KratosVersion from) {
        return "database inspected read-only by Job " + inspection.getJobName() + ": "
                + inspection.getAppliedMigrations() + " migrations applied" + (inspection.getNewestMigration() == null ? ""
                : " (newest " + inspection.getNewestMigration() + ")") + (inspection.getUnknownToRunning() == null
                || inspection.getUnknownToRunning() == 0 ? "" : "; " + inspection.getUnknownToRunning()
                + " of them belong to releases after " + from + " (an earlier migration ran)");
    }

    private static List<PlanWarning> databaseWarnings(InspectionStatus inspection, KratosVersion from) {
        List<PlanWarning> warnings = new ArrayList<>();
        if (inspection == null) return warnings;
        if (inspection.getMissingForRunning() != null && inspection.getMissingForRunning() > 0) {
            PlanWarning w = new PlanWarning();
            w.setRule(DATABASE_RULE_PREFIX + "behind-running-release");
            w.setRelease(from.toString());
            w.setKey("schema_migration");
            w.setWhat("the database lacks " + inspection.getMissingForRunning() + " migrations of the running " + from
                    + " (first: " + String.join(", ", inspection.getExamples()) + "): the running pods may answer 503 "
                    + "\"migrations have not yet been fully applied\" (someone deployed a release without migrating it)");
            w.setFix("this run's migration applies them; if the running release serves errors now, that is why");
            warnings.add(w);
        }
        if (inspection.getNetworks() != null && inspection.getNetworks() > 1) {
            PlanWarning w = new PlanWarning();
            w.setRule(DATABASE_RULE_PREFIX + "several-networks");
            w.setRelease(from.toString());
            w.setKey("networks");
            w.setWhat("the networks table has " + inspection.getNetworks() + " rows; an install uses one, and "
                    + "identities, sessions and flows written under another network id are invisible to it (this happens "
                    + "when two installs or a restore shared the database)");
            w.setFix("find out which network id the running release uses (nid of recent rows) before upgrading; back up first");
            warnings.add(w);
        }
        return warnings;
    }

    /** Migrations of the target the running release does not have, assuming the database is at the running release. */
    private static Optional<Integer> pendingMigrations(ReleaseKnowledge kb, Input in) {
        if (in.database() == null || !in.database().dumpable()) return Optional.empty();
        Optional<Release> from = kb.release(in.from());
        Optional<Release> to = kb.release(in.to());
        if (from.isEmpty() || to.isEmpty()) return Optional.empty();
        String dialect = in.database().id();
        SortedSet<String> pending = new TreeSet<>(to.get().migrations(dialect));
        pending.removeAll(from.get().migrations(dialect));
        return Optional.of(pending.size());
    }

    private static String outage(Input in, boolean recreate) {
        if (recreate) {
            boolean checks = in.database() == DatabaseKind.POSTGRES && (in.spec().getBackup().verifies() || in.spec().rehearses());
            return in.product().displayName() + " is down from each scale-down until the new pods are ready: the time the backup, "
                    + (checks ? "its verification and the rehearsal (they run on the quiesced dump), " : "")
                    + "the migration and the start of the new release take (Recreate" + (in.hops().size() > 1 ? ", once per hop" : "") + ")";
        }
        // A hop that crosses more than one known release leaves the old release serving on a schema it never met.
        List<String> skipping = new ArrayList<>();
        KratosVersion previous = in.from();
        for (HopStatus hop : in.hops()) {
            KratosVersion version = KratosVersion.parse(hop.getVersion());
            List<Release> crossed = in.product().knowledge().crossed(previous, version);
            if (crossed.size() > 1) {
                skipping.add(previous + " -> " + version + " crosses " + crossed.size() + " releases ("
                        + String.join(", ", crossed.stream().map(r -> r.version().toString()).toList()) + ")");
            }
            previous = version;
        }
        if (skipping.isEmpty()) {
            return "none: the old release serves while the database is migrated (a release serves on its successor's "
                    + "schema), then pods are replaced one by one" + (in.hops().size() > 1 ? ", release by release" : "");
        }
        return "none planned, but not guaranteed: " + String.join("; ", skipping) + ". Ory documents zero downtime only when "
                + "no release is skipped, because the old release then serves on a schema migrated by a newer release than "
                + "its successor" + (in.spec().getPath() == UpgradePath.Direct
                ? "; spec.path: Stepped upgrades release by release and avoids that"
                : "; list images of the releases in between in spec.releaseImages to step through them");
    }

    private static String rollback(Input in, boolean recreate) {
        String failedBeforeRollout = recreate
                ? "a failure before the rollout scales the old release back up; "
                : "a failure before the rollout leaves the Deployment untouched; ";
        String stepped = in.hops().size() > 1
                ? " A failure in a later hop goes back to the previous hop's release, never further: the database holds its "
                + "migrations and it was verified serving; the release the run found comes back only for a failure in the first hop."
                : "";
        String first = in.hops().get(0).getVersion();
        if (in.spec().getMode() == Mode.Gate) {
            return failedBeforeRollout + "Gate mode: the operator never writes the Deployment, so a rollout of " + first
                    + " that does not become ready within " + in.spec().getRollout().getTimeout() + " ends the run Failed and "
                    + "is left to its owner: revert the commit to bring " + in.from() + " back (it serves on the " + first
                    + " schema, as during the migration).";
        }
        if (in.spec().getRollback().getOnFailure() == RollbackPolicy.Image) {
            return failedBeforeRollout + "if " + first + " does not become ready within " + in.spec().getRollout().getTimeout()
                    + ", the previous image comes back with the original replica count; the database stays migrated ("
                    + in.from() + " serves on the " + first + " schema)." + stepped;
        }
        if (in.spec().getRollback().getOnFailure() == RollbackPolicy.ImageAndDatabase) {
            String restore = "if " + first + " does not become ready within " + in.spec().getRollout().getTimeout() + " (or fails "
                    + "verification), " + in.product().displayName() + " is scaled to zero, the verified dump is restored into the database in one transaction "
                    + "(row counts checked) and " + in.from() + " comes back with the original replica count. ";
            String loss;
            if (!recreate || in.hops().size() > 1) {
                loss = in.spec().getRollback().getAllowDataLoss()
                        ? "Writes made after the dump are LOST by that restore (" + (recreate ? "earlier hops serve" : "the old release "
                        + "serves on the migrated schema meanwhile") + "); rollback.allowDataLoss is true."
                        : "Not lossless here (" + (recreate ? "earlier hops serve on the database" : "under Rolling the old release "
                        + "keeps writing after the dump") + "): the operator will refuse to restore and roll back the image only, "
                        + "unless rollback.allowDataLoss is true.";
            } else {
                loss = "Lossless while no pod of " + first + " has been ready (nothing could write to the new schema); once one "
                        + "was, the restore is refused" + (in.spec().getRollback().getAllowDataLoss() ? " unless allowed: "
                        + "rollback.allowDataLoss is true, so it restores anyway." : " and the image alone is rolled back "
                        + "(rollback.allowDataLoss: false).");
            }
            return failedBeforeRollout + restore + loss;
        }
        return failedBeforeRollout + "a failed rollout is left as it is for inspection (spec.rollback.onFailure: None)." + stepped;
    }

    /** The first 12 hex digits of the SHA-256 of the plan's content. */
    static String hash(PlanStatus plan) {
        String previous = plan.getHash();
        plan.setHash(null);
        try {
            return Names.sha256(JSON.writeValueAsString(plan)).substring(0, 12);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            plan.setHash(previous);
        }
    }
}
