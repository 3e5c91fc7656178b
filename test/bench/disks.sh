#!/usr/bin/env bash
# Disks: apply on a 1 TiB sparse image, uai's engine against sgdisk and
# sfdisk + mkfs.vfat writing the same table and ESP (median of each side
# over the runs, ratio of medians; below 1.0 uai is faster), then the Go
# benchmarks of inventory, selection and planning.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-9}
out=$(go test -run '^$' -bench '^BenchmarkDiskApply1TiB$' -benchtime 1x -count "$runs" ./test/)
echo "$out" | grep -E '^BenchmarkDiskApply1TiB/' || { echo "$out"; exit 1; }
echo "$out" | awk '
  /^BenchmarkDiskApply1TiB\/uai/    { u[nu++] = $3 }
  /^BenchmarkDiskApply1TiB\/sgdisk/ { g[ng++] = $3 }
  /^BenchmarkDiskApply1TiB\/sfdisk/ { f[nf++] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[int(n/2)] : (a[n/2-1] + a[n/2]) / 2
  }
  END {
    mu = median(u, nu); mg = median(g, ng); mf = median(f, nf)
    printf "apply on 1 TiB (GPT + 512 MiB FAT32 ESP), median of %d runs:\n", nu
    printf "  uai %.1f ms, sgdisk+mkfs.vfat %.1f ms (ratio uai/sgdisk %.2f), sfdisk+mkfs.vfat %.1f ms (ratio uai/sfdisk %.2f)\n", mu/1e6, mg/1e6, mu/mg, mf/1e6, mu/mf
    print "  (sgdisk sleeps one second after writing a table, waiting for the kernel to re-read it)"
  }'
go test -run '^$' -bench 'Scan16Disks|LoadMachine16Disks|Select16Disks|ParseSelector|PlanWholeDisk|PlanFreeSpace|DescribeDualBoot' -benchmem ./partition/ | grep -E '^Benchmark'
