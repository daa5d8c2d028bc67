-- Adds :count identities to a Kratos database in one transaction, each a copy of the oldest identity that has a
-- credential: the same schema, state and password hash, with new ids and the email bulk-<n>@example.org in its
-- traits, its credential identifier, its verifiable and its recovery address. Seeding through the admin API
-- hashes every password (bcrypt, cost 12 outside dev mode): hours for 100,000; this takes seconds.
--
-- The rows are copied whole through JSON (to_jsonb, then jsonb_populate_record), so columns this script does
-- not name come along unchanged; those it names are the ids and the email. Written against the schema of
-- Kratos v1.0.0; a release that adds a column pointing at an identity needs it here too (the counts printed at
-- the end tell).
--
--   psql -v ON_ERROR_STOP=1 -v count=100000 -d DB -f bulk-identities.sql
BEGIN;

CREATE TEMP TABLE bulk ON COMMIT DROP AS
SELECT g, gen_random_uuid() AS identity_id, gen_random_uuid() AS credential_id, 'bulk-' || g || '@example.org' AS email
FROM generate_series(1, :count) AS g;

CREATE TEMP TABLE template ON COMMIT DROP AS
SELECT i.id AS identity_id, c.id AS credential_id
FROM identities i JOIN identity_credentials c ON c.identity_id = i.id
ORDER BY i.created_at, i.id LIMIT 1;

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM template) THEN
    RAISE EXCEPTION 'no identity with a credential to copy: create one through the admin API first';
  END IF;
END $$;

INSERT INTO identities
SELECT (jsonb_populate_record(NULL::identities, to_jsonb(i) || jsonb_build_object(
    'id', b.identity_id, 'traits', jsonb_set(i.traits, '{email}', to_jsonb(b.email))))).*
FROM identities i JOIN template t ON i.id = t.identity_id CROSS JOIN bulk b;

INSERT INTO identity_credentials
SELECT (jsonb_populate_record(NULL::identity_credentials, to_jsonb(c) || jsonb_build_object(
    'id', b.credential_id, 'identity_id', b.identity_id))).*
FROM identity_credentials c JOIN template t ON c.id = t.credential_id CROSS JOIN bulk b;

INSERT INTO identity_credential_identifiers
SELECT (jsonb_populate_record(NULL::identity_credential_identifiers, to_jsonb(x) || jsonb_build_object(
    'id', gen_random_uuid(), 'identity_credential_id', b.credential_id, 'identifier', b.email))).*
FROM identity_credential_identifiers x JOIN template t ON x.identity_credential_id = t.credential_id CROSS JOIN bulk b;

INSERT INTO identity_verifiable_addresses
SELECT (jsonb_populate_record(NULL::identity_verifiable_addresses, to_jsonb(a) || jsonb_build_object(
    'id', gen_random_uuid(), 'identity_id', b.identity_id, 'value', b.email))).*
FROM identity_verifiable_addresses a JOIN template t ON a.identity_id = t.identity_id CROSS JOIN bulk b;

INSERT INTO identity_recovery_addresses
SELECT (jsonb_populate_record(NULL::identity_recovery_addresses, to_jsonb(a) || jsonb_build_object(
    'id', gen_random_uuid(), 'identity_id', b.identity_id, 'value', b.email))).*
FROM identity_recovery_addresses a JOIN template t ON a.identity_id = t.identity_id CROSS JOIN bulk b;

COMMIT;
ANALYZE;

SELECT (SELECT count(*) FROM identities) AS identities,
       (SELECT count(*) FROM identity_credentials) AS credentials,
       (SELECT count(*) FROM identity_credential_identifiers) AS identifiers,
       (SELECT count(*) FROM identity_verifiable_addresses) AS verifiable_addresses,
       (SELECT count(*) FROM identity_recovery_addresses) AS recovery_addresses,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
