#!/usr/bin/env bash
# Sets up citywatch, runs it for a minute on the example config (two street cameras and a fire),
# then lists what it stored. Pass another duration in seconds as the first argument.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/citywatch run --config examples/cameras.yaml --duration "${1:-60}"
.venv/bin/citywatch incidents list --config examples/cameras.yaml
