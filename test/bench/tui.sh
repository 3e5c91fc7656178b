#!/usr/bin/env bash
# The installer TUI's figures: process start -> first frame (the welcome
# screen), the work per frame while the engine streams 1,000 events a
# second (and how far the screen lags behind it), and the peak resident
# memory of the uai process over a whole demo install (root for the whole
# install; as another user the demo stops after partitioning).
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench '^BenchmarkProgressFrames$' -benchtime 1x -count 3 ./ui/ | grep -E '^Benchmark'
go test -run '^$' -bench '^BenchmarkTUI(FirstFrame|PeakRSS)$' -benchtime 1x -count 3 ./test/ | grep -E '^Benchmark'
