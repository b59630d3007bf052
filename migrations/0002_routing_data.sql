-- References from rule_target and carrier_gateway to gateways and carriers are checked at commit
-- (DEFERRABLE INITIALLY DEFERRED): deleting a partition cascades to gateways and rules as separate
-- nested statements, and an immediate check would fire before the cascade reached the rows that
-- referenced them. A gateway still used by a rule still cannot be deleted: the commit fails.
--
-- Routing data, organised in partitions as OpenSIPS drouting does: gateways, carriers (ordered,
-- weighted gateway lists; carriers never nest), prefix rules with groups, priorities and time
-- windows, and caller groups. Names are unique per partition; every reference stays inside its
-- partition (composite foreign keys); every committed change advances the partition's
-- data_version and sends NOTIFY rtroute_data with the partition name.

CREATE TABLE partition (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
  default_group  text NOT NULL DEFAULT 'default' CHECK (default_group ~ '^[A-Za-z0-9_.-]{1,64}$'),
  settings       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  data_version   bigint NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gateway (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition_id   bigint NOT NULL REFERENCES partition (id) ON DELETE CASCADE,
  gw_id          text NOT NULL CHECK (gw_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  address        text NOT NULL CHECK (length(address) BETWEEN 1 AND 255),
  strip          integer NOT NULL DEFAULT 0 CHECK (strip BETWEEN 0 AND 64),
  prefix         text NOT NULL DEFAULT '' CHECK (prefix ~ '^[0-9+*#]{0,32}$'),
  socket         text NOT NULL DEFAULT '' CHECK (length(socket) <= 128),
  attrs          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  probe_mode     text NOT NULL DEFAULT 'never' CHECK (probe_mode IN ('never', 'when_down', 'always')),
  weight         integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 65535),
  fr_timer       integer CHECK (fr_timer BETWEEN 100 AND 600000),
  fr_inv_timer   integer CHECK (fr_inv_timer BETWEEN 100 AND 600000),
  enabled        boolean NOT NULL DEFAULT true,
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  UNIQUE (partition_id, gw_id),
  UNIQUE (partition_id, id)
);

CREATE TABLE carrier (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition_id   bigint NOT NULL REFERENCES partition (id) ON DELETE CASCADE,
  carrier_id     text NOT NULL CHECK (carrier_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  sort           text NOT NULL DEFAULT 'ordered' CHECK (sort IN ('ordered', 'weighted', 'hash')),
  first_only     boolean NOT NULL DEFAULT false,
  enabled        boolean NOT NULL DEFAULT true,
  attrs          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  UNIQUE (partition_id, carrier_id),
  UNIQUE (partition_id, id)
);

-- A carrier's ordered, weighted gateway list. Members are gateways only: carriers cannot nest.
CREATE TABLE carrier_gateway (
  carrier_id     bigint NOT NULL,
  partition_id   bigint NOT NULL,
  gateway_id     bigint NOT NULL,
  position       integer NOT NULL CHECK (position >= 0),
  weight         integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 65535),
  PRIMARY KEY (carrier_id, position),
  UNIQUE (carrier_id, gateway_id),
  FOREIGN KEY (partition_id, carrier_id) REFERENCES carrier (partition_id, id) ON DELETE CASCADE,
  FOREIGN KEY (partition_id, gateway_id) REFERENCES gateway (partition_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX carrier_gateway_gateway ON carrier_gateway (gateway_id);

-- Rule ids are per partition, as drouting's ruleid is per rule table: a partition exported from
-- one name imports under another with the same ids. rtroute gives new rules max(id) + 1.
CREATE TABLE rule (
  partition_id   bigint NOT NULL REFERENCES partition (id) ON DELETE CASCADE,
  id             bigint NOT NULL CHECK (id >= 1),
  groups         text[] NOT NULL CHECK (cardinality(groups) BETWEEN 1 AND 64),
  prefix         text NOT NULL DEFAULT '' CHECK (prefix ~ '^\+?[0-9]{0,32}$'),
  priority       integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000000 AND 1000000),
  time_window    jsonb CHECK (time_window IS NULL OR jsonb_typeof(time_window) = 'object'),
  sort           text NOT NULL DEFAULT 'ordered' CHECK (sort IN ('ordered', 'weighted', 'hash')),
  max_targets    integer CHECK (max_targets BETWEEN 1 AND 64),
  fallback       boolean NOT NULL DEFAULT false,
  attrs          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  enabled        boolean NOT NULL DEFAULT true,
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  PRIMARY KEY (partition_id, id)
);
CREATE INDEX rule_partition_prefix ON rule (partition_id, prefix);

-- A rule's ordered targets: each is a gateway or a carrier of the same partition.
CREATE TABLE rule_target (
  rule_id        bigint NOT NULL,
  partition_id   bigint NOT NULL,
  position       integer NOT NULL CHECK (position >= 0),
  gateway_id     bigint,
  carrier_id     bigint,
  weight         integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 65535),
  PRIMARY KEY (partition_id, rule_id, position),
  CHECK ((gateway_id IS NULL) <> (carrier_id IS NULL)),
  FOREIGN KEY (partition_id, rule_id) REFERENCES rule (partition_id, id) ON DELETE CASCADE,
  FOREIGN KEY (partition_id, gateway_id) REFERENCES gateway (partition_id, id) DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (partition_id, carrier_id) REFERENCES carrier (partition_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX rule_target_gateway ON rule_target (gateway_id) WHERE gateway_id IS NOT NULL;
CREATE INDEX rule_target_carrier ON rule_target (carrier_id) WHERE carrier_id IS NOT NULL;

-- Caller groups: a call whose query names no group takes the group of its caller, matched by
-- From user@domain, then From domain, then the longest source-address CIDR.
CREATE TABLE caller_group (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition_id   bigint NOT NULL REFERENCES partition (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('cidr', 'from_uri', 'from_domain')),
  value          text NOT NULL CHECK (length(value) BETWEEN 1 AND 255),
  group_name     text NOT NULL CHECK (group_name ~ '^[A-Za-z0-9_.-]{1,64}$'),
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  UNIQUE (partition_id, kind, value)
);

-- Data version and notification. Child tables bump their partition's version once per
-- statement (transition tables, so a bulk import costs one update per statement, not per row);
-- the partition's own trigger notifies. NOTIFY payloads are deduplicated per transaction, so a
-- transaction that touches a partition notifies once, at commit.
CREATE FUNCTION rtroute_bump_from_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE partition SET data_version = data_version + 1, updated_at = now()
   WHERE id IN (SELECT DISTINCT partition_id FROM new_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION rtroute_bump_from_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE partition SET data_version = data_version + 1, updated_at = now()
   WHERE id IN (SELECT DISTINCT partition_id FROM old_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION rtroute_bump_from_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE partition SET data_version = data_version + 1, updated_at = now()
   WHERE id IN (SELECT partition_id FROM new_rows UNION SELECT partition_id FROM old_rows);
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['gateway', 'carrier', 'carrier_gateway', 'rule', 'rule_target', 'caller_group'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_new()', t || '_bump_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_both()', t || '_bump_upd', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_old()', t || '_bump_del', t);
  END LOOP;
END $$;

-- An edit of the partition row itself (settings, default group) is a data change too.
CREATE FUNCTION rtroute_partition_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.name, NEW.default_group, NEW.settings, NEW.description)
     IS DISTINCT FROM (OLD.name, OLD.default_group, OLD.settings, OLD.description) THEN
    NEW.data_version := OLD.data_version + 1;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER partition_version BEFORE UPDATE ON partition FOR EACH ROW EXECUTE FUNCTION rtroute_partition_version();

CREATE FUNCTION rtroute_partition_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('rtroute_data', OLD.name);
  ELSIF TG_OP = 'UPDATE' AND NEW.name <> OLD.name THEN
    PERFORM pg_notify('rtroute_data', OLD.name);
    PERFORM pg_notify('rtroute_data', NEW.name);
  ELSIF TG_OP = 'INSERT' OR NEW.data_version <> OLD.data_version THEN
    PERFORM pg_notify('rtroute_data', NEW.name);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER partition_notify AFTER INSERT OR UPDATE OR DELETE ON partition FOR EACH ROW EXECUTE FUNCTION rtroute_partition_notify();
