#!/usr/bin/env bash
# Confirm -> bootc handoff: uai's engine against sgdisk + mkfs.vfat +
# mkfs.xfs + mount on a 64 GiB sparse image on a loop device. Prints each
# side's median over the runs and the ratio of medians (goal: <= 1.0).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-9}
out=$(go test -run '^$' -bench '^BenchmarkHandoff$' -benchtime 1x -count "$runs" ./test/)
echo "$out" | grep -E '^BenchmarkHandoff/' || { echo "$out"; exit 1; }
echo "$out" | awk '
  /^BenchmarkHandoff\/uai/   { u[nu++] = $3 }
  /^BenchmarkHandoff\/shell-sgdisk/ { s[ns++] = $3 }
  /^BenchmarkHandoff\/shell-sfdisk/ { f[nf++] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[int(n/2)] : (a[n/2-1] + a[n/2]) / 2
  }
  END {
    mu = median(u, nu); ms = median(s, ns); mf = median(f, nf)
    printf "confirm->handoff median over %d runs each: uai %.1f ms; sgdisk script %.1f ms (ratio uai/script %.2f); sfdisk script %.1f ms (ratio %.2f)\n", nu, mu/1e6, ms/1e6, mu/ms, mf/1e6, mu/mf
  }'
