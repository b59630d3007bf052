-- Capacity limits (issue: load-aware balancing without a stateful proxy). A gateway or carrier may
-- cap its concurrent calls and its new calls per second; NULL is no limit. The least_loaded sort
-- orders by relative free capacity.
ALTER TABLE gateway
  ADD COLUMN max_calls integer CHECK (max_calls BETWEEN 1 AND 10000000),
  ADD COLUMN max_cps   integer CHECK (max_cps BETWEEN 1 AND 1000000);
ALTER TABLE carrier
  ADD COLUMN max_calls integer CHECK (max_calls BETWEEN 1 AND 10000000),
  ADD COLUMN max_cps   integer CHECK (max_cps BETWEEN 1 AND 1000000);

ALTER TABLE carrier DROP CONSTRAINT carrier_sort_check;
ALTER TABLE carrier ADD CONSTRAINT carrier_sort_check CHECK (sort IN ('ordered', 'weighted', 'hash', 'least_loaded'));
ALTER TABLE rule DROP CONSTRAINT rule_sort_check;
ALTER TABLE rule ADD CONSTRAINT rule_sort_check CHECK (sort IN ('ordered', 'weighted', 'hash', 'least_loaded'));

-- Call accounting shared by every instance: one row per call rtroute offered to a limited gateway
-- (or carrier). A row is a lease from the offer until the proxy reports the call started, then a
-- call until it reports the end. Rows past expires_at count for nothing and are swept, so a lost
-- end report or a crashed proxy frees capacity on its own (lease TTL, maximum call duration).
-- An end is kept as an 'ended' row until the lease TTL has passed: an offer of the same call still
-- on its way from another instance (events may reach different instances) must not bring it back.
-- Times are ms since the epoch, written by the instance that handled the event.
CREATE TABLE call_lease (
  partition     text NOT NULL REFERENCES partition (name) ON DELETE CASCADE ON UPDATE CASCADE,
  call_id       text NOT NULL,
  gw_id         text NOT NULL,
  carrier_id    text,                                   -- the carrier it was offered through, if any
  routes        text[] NOT NULL DEFAULT '{}',           -- the answer's gateways, in order, for failover
  carriers      text[] NOT NULL DEFAULT '{}',           -- the carrier of each route ('' for none)
  position      integer NOT NULL DEFAULT 0,             -- index of gw_id in routes, from 0
  state         text NOT NULL CHECK (state IN ('lease', 'call', 'ended')),
  offered_at    bigint NOT NULL,
  started_at    bigint,
  expires_at    bigint NOT NULL,
  instance      text NOT NULL,
  PRIMARY KEY (partition, call_id)
);
CREATE INDEX call_lease_expires ON call_lease (expires_at);
