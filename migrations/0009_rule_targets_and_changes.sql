-- Two things that let a snapshot load fast and follow an edit without a full reload.
--
-- 1. rule.targets: a rule's targets as one compact text, `g<gateway row id>:<weight>` or
--    `c<carrier row id>:<weight>`, comma-separated in position order (NULL: none). rule_target stays
--    the source of truth (foreign keys, the admin API); a statement-level trigger on it rewrites the
--    column of the rules a statement touched, in the same transaction. And rule.tuple: the row as
--    the snapshot loader reads it (src/routing/snapshot/rule-pages.ts), a JSON array of its values
--    and, last, a hash of that text, written by a row trigger on every insert and update. A load
--    reads the stored tuples instead of aggregating ~2 rule_target rows and converting a dozen
--    values per rule on every load.
--
-- 2. data_change: the change log. Every statement that bumps a partition's data_version (the
--    child-table triggers of 0002) writes one row with the version it produced, the table it
--    changed and the row keys it touched (NULL when a statement touched more than 1000 rows: a
--    bulk import, which the reader answers with a full reload). The bump locks the partition row
--    until commit, so a partition's versions commit in order: a reader that sees version V sees
--    every version below it. A version with no row (an edit of the partition row itself, its
--    creation) is a gap, and a gap means a full reload. Rows older than the last 10000 versions of
--    a partition are dropped as new ones come.

ALTER TABLE rule ADD COLUMN targets text, ADD COLUMN tuple text;

-- [id, groups as text[] text, prefix, priority, time_window as text, sort, max_targets, fallback,
-- attrs as text, enabled, description, targets, timerec (0007), hash]: the hash is the low 52 bits of
-- hashtextextended over the array's text before it (exact as a JSON number). A new column a load
-- must see goes into this array (and rule-pages.ts), in a new migration that replaces the function.
CREATE FUNCTION rtroute_rule_tuple() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
  t := json_build_array(NEW.id, NEW.groups::text, NEW.prefix, NEW.priority, NEW.time_window::text, NEW.sort, NEW.max_targets,
                        NEW.fallback, NEW.attrs::text, NEW.enabled, NEW.description, NEW.targets, NEW.timerec)::text;
  NEW.tuple := left(t, -1) || ',' || (hashtextextended(t, 0) & 4503599627370495)::text || ']';
  RETURN NEW;
END $$;
CREATE TRIGGER rule_tuple BEFORE INSERT OR UPDATE ON rule FOR EACH ROW EXECUTE FUNCTION rtroute_rule_tuple();

UPDATE rule r SET targets = (
    SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
      FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id);

-- One function per transition-table shape: a trigger function sees only the tables its trigger declares.
CREATE FUNCTION rtroute_rule_targets_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rule r SET targets = (
      SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
        FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id)
   WHERE (r.partition_id, r.id) IN (SELECT DISTINCT partition_id, rule_id FROM new_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION rtroute_rule_targets_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rule r SET targets = (
      SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
        FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id)
   WHERE (r.partition_id, r.id) IN (SELECT DISTINCT partition_id, rule_id FROM old_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION rtroute_rule_targets_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rule r SET targets = (
      SELECT string_agg(coalesce('g' || t.gateway_id, 'c' || t.carrier_id) || ':' || t.weight, ',' ORDER BY t.position)
        FROM rule_target t WHERE t.partition_id = r.partition_id AND t.rule_id = r.id)
   WHERE (r.partition_id, r.id) IN (SELECT partition_id, rule_id FROM new_rows UNION SELECT partition_id, rule_id FROM old_rows);
  RETURN NULL;
END $$;

CREATE TRIGGER rule_target_targets_ins AFTER INSERT ON rule_target REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_rule_targets_new();
CREATE TRIGGER rule_target_targets_upd AFTER UPDATE ON rule_target REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_rule_targets_both();
CREATE TRIGGER rule_target_targets_del AFTER DELETE ON rule_target REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_rule_targets_old();

CREATE TABLE data_change (
  partition_id   bigint NOT NULL REFERENCES partition (id) ON DELETE CASCADE,
  version        bigint NOT NULL,
  entity         text NOT NULL,
  keys           bigint[],
  PRIMARY KEY (partition_id, version)
);

-- The keys a statement touched in one partition, from a transition table's rows as jsonb (the key
-- column differs per table: TG_ARGV[0]); NULL past 1000 rows.
CREATE FUNCTION rtroute_change_keys(rows jsonb[], key text) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN cardinality(rows) > 1000 THEN NULL
              ELSE (SELECT coalesce(array_agg(DISTINCT (r ->> key)::bigint), '{}') FROM unnest(rows) r) END
$$;

CREATE OR REPLACE FUNCTION rtroute_bump_from_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH bumped AS (
    UPDATE partition SET data_version = data_version + 1, updated_at = now()
     WHERE id IN (SELECT DISTINCT partition_id FROM new_rows) RETURNING id, data_version
  ), logged AS (
    INSERT INTO data_change (partition_id, version, entity, keys)
    SELECT b.id, b.data_version, TG_TABLE_NAME,
           CASE WHEN (SELECT count(*) FROM new_rows) > 1000 THEN NULL
                ELSE rtroute_change_keys(ARRAY(SELECT to_jsonb(n) FROM new_rows n WHERE n.partition_id = b.id), TG_ARGV[0]) END
      FROM bumped b RETURNING partition_id, version
  )
  DELETE FROM data_change d USING logged l WHERE d.partition_id = l.partition_id AND d.version <= l.version - 10000;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rtroute_bump_from_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH bumped AS (
    UPDATE partition SET data_version = data_version + 1, updated_at = now()
     WHERE id IN (SELECT DISTINCT partition_id FROM old_rows) RETURNING id, data_version
  ), logged AS (
    INSERT INTO data_change (partition_id, version, entity, keys)
    SELECT b.id, b.data_version, TG_TABLE_NAME,
           CASE WHEN (SELECT count(*) FROM old_rows) > 1000 THEN NULL
                ELSE rtroute_change_keys(ARRAY(SELECT to_jsonb(o) FROM old_rows o WHERE o.partition_id = b.id), TG_ARGV[0]) END
      FROM bumped b RETURNING partition_id, version
  )
  DELETE FROM data_change d USING logged l WHERE d.partition_id = l.partition_id AND d.version <= l.version - 10000;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rtroute_bump_from_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH bumped AS (
    UPDATE partition SET data_version = data_version + 1, updated_at = now()
     WHERE id IN (SELECT partition_id FROM new_rows UNION SELECT partition_id FROM old_rows) RETURNING id, data_version
  ), logged AS (
    INSERT INTO data_change (partition_id, version, entity, keys)
    SELECT b.id, b.data_version, TG_TABLE_NAME,
           CASE WHEN (SELECT count(*) FROM new_rows) > 1000 THEN NULL
                ELSE rtroute_change_keys(ARRAY(
                  SELECT to_jsonb(n) FROM new_rows n WHERE n.partition_id = b.id
                  UNION ALL SELECT to_jsonb(o) FROM old_rows o WHERE o.partition_id = b.id), TG_ARGV[0]) END
      FROM bumped b RETURNING partition_id, version
  )
  DELETE FROM data_change d USING logged l WHERE d.partition_id = l.partition_id AND d.version <= l.version - 10000;
  RETURN NULL;
END $$;

-- The 0002 triggers again, now naming each table's key column.
DO $$
DECLARE
  t text;
  keys jsonb := '{"gateway": "id", "carrier": "id", "carrier_gateway": "carrier_id", "rule": "id", "rule_target": "rule_id", "caller_group": "id"}';
BEGIN
  FOREACH t IN ARRAY ARRAY['gateway', 'carrier', 'carrier_gateway', 'rule', 'rule_target', 'caller_group'] LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_bump_ins', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_bump_upd', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_bump_del', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_new(%L)', t || '_bump_ins', t, keys ->> t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_both(%L)', t || '_bump_upd', t, keys ->> t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rtroute_bump_from_old(%L)', t || '_bump_del', t, keys ->> t);
  END LOOP;
END $$;
