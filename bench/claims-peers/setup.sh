#!/usr/bin/env bash
# Installs the claims queue's peers (graphile-worker, pg-boss) from their lockfile, apart from
# fleetscale's own dependencies. The versions are the newest that support Node 20.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
