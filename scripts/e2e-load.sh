#!/usr/bin/env bash
# Load run through a real SIP proxy running its shipped config: SIPp places calls at a fixed rate
# to Kamailio (deploy/kamailio/kamailio.cfg, by default its http_async_client variant) or OpenSIPS
# (deploy/opensips/opensips.cfg), which asks rtroute (the built CLI on a fresh PostgreSQL
# database) and relays to SIPp gateways, all on 127.0.0.1, set up exactly as the e2e tests are
# (test/e2e/load.test.ts). Each call is one query and one failover: the first gateway answers
# 503 (reported to rtroute as feedback; the partition counts only 699 as a gateway failure, so it
# stays up), the second answers; the call events go to rtroute too. A warm-up (5 s at up to 100
# calls/s) runs first and is not counted. SIPp's summary is printed with the failed calls
# counted, then the gateways' state, OpenSIPS's shared memory and the proxy's log complaints.
#
#   scripts/e2e-load.sh [calls-per-second] [seconds] [kamailio|opensips]   default: 100 30 kamailio
#
# Environment: RTROUTE_E2E_LOAD_MAX_FAILED_PERCENT (failed calls allowed, default 0: every call
# must complete), RTROUTE_E2E_LOAD_HTTP (Kamailio's variant: http_async_client, the config's
# default and this run's, or http_client), RTROUTE_E2E_LOAD_FAILOVER (0: one gateway that
# answers, no failover), RTROUTE_E2E_LOAD_CHILDREN (SIP workers: default 16 for Kamailio, 4 for
# OpenSIPS), RTROUTE_E2E_LOAD_SHM_MB (shared memory, -m: default 512 for Kamailio, 256 for
# OpenSIPS), RTROUTE_E2E_LOAD_HOLD_MS (call length, default 1000), RTROUTE_E2E_LOAD_WARMUP_S
# (default 5; 0: none), RTROUTE_E2E_KAMAILIO_MODULES (a folder holding http_async_client.so),
# TEST_DATABASE_URL (a PostgreSQL to use instead of an embedded one), OPENSIPS_BIN. Needs
# sip-tester (Debian) and kamailio, kamailio-extra-modules, kamailio-utils-modules (for
# http_async_client also the module that scripts/kamailio-async-module.sh builds), or OpenSIPS
# (../shared/tools/opensips/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: $0 [calls-per-second] [seconds] [kamailio|opensips]"
rate="${1:-100}"
seconds="${2:-30}"
proxy="${3:-kamailio}"
case "$rate$seconds" in
  *[!0-9]*|'') echo "$usage" >&2; exit 64 ;;
esac
case "$proxy" in
  kamailio|opensips) ;;
  *) echo "$usage" >&2; exit 64 ;;
esac

npm run build >/dev/null
RTROUTE_E2E_LOAD=1 RTROUTE_E2E_LOAD_RATE="$rate" RTROUTE_E2E_LOAD_SECONDS="$seconds" RTROUTE_E2E_LOAD_PROXY="$proxy" \
  exec npx vitest run --project e2e test/e2e/load.test.ts
