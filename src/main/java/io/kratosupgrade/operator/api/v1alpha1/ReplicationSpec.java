package io.kratosupgrade.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * blueGreen.copy Replication: who may replicate. Both are optional: without them the old database's DSN and
 * blueGreen.targetDatabase are used, which works only when those users hold the privileges below.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReplicationSpec {

    @JsonPropertyDescription("The DSN of the old database as a user with the REPLICATION attribute (or a superuser; on "
            + "Amazon RDS a member of rds_replication). The operator creates the replication slot with it, and the "
            + "subscription connects with it from the target's server, so its host must be reachable from there. PostgreSQL "
            + "keeps this connection string, password included, in the target's pg_subscription catalog (readable by "
            + "superusers only) until the cut-over drops the subscription. Default: the old database's own DSN.")
    private SecretKeyReference publisherDatabase;

    @JsonPropertyDescription("The DSN of the target database as a user who may create subscriptions: a superuser on "
            + "PostgreSQL 15 and older; from 16 a member of pg_create_subscription with CREATE on the database. Default: "
            + "blueGreen.targetDatabase.")
    private SecretKeyReference subscriberDatabase;

    public SecretKeyReference getPublisherDatabase() { return publisherDatabase; }
    public void setPublisherDatabase(SecretKeyReference publisherDatabase) { this.publisherDatabase = publisherDatabase; }
    public SecretKeyReference getSubscriberDatabase() { return subscriberDatabase; }
    public void setSubscriberDatabase(SecretKeyReference subscriberDatabase) { this.subscriberDatabase = subscriberDatabase; }
}
