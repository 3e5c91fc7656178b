#!/usr/bin/env bash
# Peak resident memory of whole `uai install` processes (demo mode, a 64
# GiB sparse image on a loop device): the podman runner, and the host
# runner installing from an OCI layout as on a live medium. Prints the
# largest ru_maxrss over the runs of each.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
out=$(go test -run '^$' -bench '^BenchmarkInstallMemory$' -benchtime "${runs}x" ./test/)
echo "$out" | grep -E '^BenchmarkInstallMemory/' || { echo "$out"; exit 1; }
echo "$out" | awk -v runs="$runs" '
  /^BenchmarkInstallMemory\// { split($1, n, "/"); sub(/-[0-9]+$/, "", n[2]); for (i = 1; i <= NF; i++) if ($i == "peak-MiB") printf "uai install (%s runner), peak RSS over %d runs: %.1f MiB\n", n[2], runs, $(i-1) }'
