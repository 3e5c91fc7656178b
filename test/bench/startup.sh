#!/usr/bin/env bash
# Cold start of `uai catalog list` and process start -> first TUI frame.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench '^Benchmark(ColdStartCatalogList|FirstFrame)$' -benchtime 20x -count 3 ./test/ | grep -E '^Benchmark'
