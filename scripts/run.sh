#!/usr/bin/env bash
# run.sh - the main job on the embedded default: install dependencies, build, then plan the
# example specs in specs/ against libvirt's built-in test driver (no set-up needed) with a
# local SQLite file (./virtumancer.db).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec ./build/virtumancer --db "${VIRTUMANCER_DB:-virtumancer.db}" plan specs/ --host-uri local=test:///default
