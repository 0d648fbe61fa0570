#!/usr/bin/env bash
# run-ladder.sh - the main job, from a fresh Debian 12 machine: installs what
# is missing, then runs `hpcladder run` (quick preset by default) on this
# machine.  Extra arguments go to `hpcladder run`, e.g. --preset talk.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/bootstrap.sh
exec .venv/bin/hpcladder run "$@"
