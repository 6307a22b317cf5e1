#!/usr/bin/env bash
# Installs the peer comparison's Python dependencies (Splink 5 on DuckDB 1.5) into
# bench/peers/.venv. Not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python -c "import splink, duckdb; print('splink', splink.__version__, 'duckdb', duckdb.__version__)"
