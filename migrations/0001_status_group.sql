-- External status groups (the status_report module's script groups), created over HTTP.
-- Their definitions survive restarts so a group required for readiness keeps gating /readyz;
-- statuses and reports are runtime data of each instance and are not stored.
CREATE TABLE status_group (
  name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.:;-]{1,64}$'),
  required    boolean NOT NULL DEFAULT false,
  ring_size   integer NOT NULL DEFAULT 50 CHECK (ring_size BETWEEN 1 AND 10000),
  created_at  timestamptz NOT NULL DEFAULT now()
);
