-- Runtime gateway health, shared by every rtroute instance. Keyed by names, not by the data's
-- surrogate ids, so an import or a reload that rewrites the gateway rows keeps the state of
-- gateways that still exist (drouting's inherit_state). Every change is written here, in one
-- transaction that also sends NOTIFY rtroute_gateway with the new row, which every instance applies.
CREATE TABLE gateway_state (
  partition     text NOT NULL REFERENCES partition (name) ON DELETE CASCADE ON UPDATE CASCADE,
  gw_id         text NOT NULL,
  state         text NOT NULL CHECK (state IN ('active', 'suspect', 'down', 'disabled')),
  reason        text NOT NULL DEFAULT '',
  since         bigint NOT NULL,                      -- ms since the epoch
  failures      bigint[] NOT NULL DEFAULT '{}',       -- failure times inside the window
  good_probes   integer NOT NULL DEFAULT 0,
  flaps         integer NOT NULL DEFAULT 0,
  recent_flaps  bigint[] NOT NULL DEFAULT '{}',
  down_until    bigint NOT NULL DEFAULT 0,
  probe         jsonb NOT NULL DEFAULT '{}',          -- latency statistics of OPTIONS probes
  version       bigint NOT NULL DEFAULT 1,            -- orders notifications: older ones are ignored
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partition, gw_id)
);

-- Carriers switched off at run time (drouting:carrier_status), independent of the data's flag.
CREATE TABLE carrier_state (
  partition     text NOT NULL REFERENCES partition (name) ON DELETE CASCADE ON UPDATE CASCADE,
  carrier_id    text NOT NULL,
  enabled       boolean NOT NULL,
  reason        text NOT NULL DEFAULT '',
  since         bigint NOT NULL,
  version       bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (partition, carrier_id)
);

-- Settings every instance shares, such as the global probing switch (drouting:enable_probing).
CREATE TABLE runtime_setting (
  key           text PRIMARY KEY,
  value         jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
