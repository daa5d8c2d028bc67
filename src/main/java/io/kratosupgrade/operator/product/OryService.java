package io.kratosupgrade.operator.product;

import io.kratosupgrade.operator.knowledge.Release;
import io.kratosupgrade.operator.knowledge.ReleaseKnowledge;
import io.kratosupgrade.operator.kratos.KratosVersion;
import java.util.List;

/**
 * What Kratos, Hydra and Keto have in common as products: a knowledge base (products/&lt;name&gt;/releases.json)
 * that says each release's migrate command, a container named after the product, and the tables that say a copy
 * of its database is whole. Each product is one subclass with its own constants.
 */
abstract class OryService implements Product {

    private final String displayName;
    private final String containerName;
    private final ReleaseKnowledge knowledge;
    private final List<String> coreTables;

    OryService(String displayName, String containerName, ReleaseKnowledge knowledge, List<String> coreTables) {
        this.displayName = displayName;
        this.containerName = containerName;
        this.knowledge = knowledge;
        this.coreTables = List.copyOf(coreTables);
    }

    @Override
    public String displayName() {
        return displayName;
    }

    @Override
    public String defaultContainerName() {
        return containerName;
    }

    @Override
    public ReleaseKnowledge knowledge() {
        return knowledge;
    }

    @Override
    public List<String> coreTables() {
        return coreTables;
    }

    /**
     * The command of the release itself, or of the closest older release the knowledge base lists (a newer
     * patch release keeps its line's command); older than every known release: the oldest's.
     */
    @Override
    public List<String> migrateArgs(KratosVersion target) {
        return knowledge.closest(target).map(Release::migrateArgs).orElse(knowledge.releases().get(0).migrateArgs());
    }
}
