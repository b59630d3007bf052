#!/usr/bin/env bash
# Load run through a real Kamailio: SIPp places calls at a fixed rate to Kamailio
# (deploy/kamailio/kamailio.cfg), which asks rtroute (the built CLI on a fresh PostgreSQL
# database) and relays to SIPp gateways, all on 127.0.0.1, set up exactly as the e2e tests are
# (test/e2e/load.test.ts). Each call is one query and one failover: the first gateway answers
# 503 (reported to rtroute as feedback), the second answers; the call events go to rtroute too.
# A warm-up (5 s at up to 100 calls/s) runs first and is not counted. Every call must complete;
# SIPp's summary is printed.
#
#   scripts/e2e-load.sh [calls-per-second] [seconds]        default: 100 30
#
# Environment: RTROUTE_E2E_LOAD_HTTP (http_async_client, the config's default and this run's,
# or http_client), RTROUTE_E2E_LOAD_FAILOVER (0: one gateway that answers, no failover),
# RTROUTE_E2E_LOAD_CHILDREN (Kamailio SIP workers, default 16), RTROUTE_E2E_LOAD_SHM_MB
# (Kamailio -m, default 512), RTROUTE_E2E_LOAD_HOLD_MS (call length, default 1000),
# RTROUTE_E2E_LOAD_WARMUP_S (default 5; 0: none), TEST_DATABASE_URL (a PostgreSQL to use instead
# of an embedded one). Needs kamailio, kamailio-extra-modules, kamailio-utils-modules and
# sip-tester (Debian) installed, and for http_async_client the module that
# scripts/kamailio-async-module.sh builds.
set -euo pipefail
cd "$(dirname "$0")/.."

rate="${1:-100}"
seconds="${2:-30}"
case "$rate$seconds" in
  *[!0-9]*|'') echo "usage: $0 [calls-per-second] [seconds]" >&2; exit 64 ;;
esac

npm run build >/dev/null
RTROUTE_E2E_LOAD=1 RTROUTE_E2E_LOAD_RATE="$rate" RTROUTE_E2E_LOAD_SECONDS="$seconds" \
  exec npx vitest run --project e2e test/e2e/load.test.ts
