-- Webhook subscriptions: alert summaries (new events + current problems) are POSTed to `url`,
-- signed with `secret` (HMAC-SHA256). Shared by every instance; the secret is never read back
-- over HTTP. A subscription past `expires` is no longer delivered to and is deleted.
CREATE TABLE subscription (
  id          uuid PRIMARY KEY,
  url         text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
  events      text[] NOT NULL CHECK (cardinality(events) > 0),
  secret      text NOT NULL CHECK (length(secret) >= 16),
  description text NOT NULL DEFAULT '',
  expires     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
