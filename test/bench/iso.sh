#!/usr/bin/env bash
# Live ISO measurements (docs/iso.md, "Measurements"); needs make iso first.
#   1. build time and size: uai iso build against xorriso -as mkisofs
#      building the same tree with the same boot setup (median of N runs)
#   2. embedding an answer file into a 2 GiB ISO, against rebuilding it
#   3. boot to installer in QEMU (TCG), from the e2e serial logs
# N (default 5) sets the runs per measurement; SKIP_BIG=1 skips the 2 GiB
# part, SKIP_BOOT=1 the QEMU part.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-5}
ISO_DIR=build/iso
UAI=$ISO_DIR/bin/uai
for f in $UAI $ISO_DIR/initrd.img $ISO_DIR/kernel/vmlinuz $ISO_DIR/uai-test.iso; do
	[ -e "$f" ] || { echo "missing $f: run make iso first" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/uai-iso-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1767225600

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# seconds a command takes, wall clock
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {print e - s}'; }
# calc EXPR: floating-point arithmetic without bc
calc() { awk "BEGIN {print $1}"; }

build_args=(--kernel $ISO_DIR/kernel/vmlinuz --initrd $ISO_DIR/initrd.img --efi-dir $ISO_DIR/efi
	--bios-dir $ISO_DIR/bios --label UAI_LIVE --karg console=ttyS0,115200 --timeout 0)

echo "== 1. build: uai iso build vs xorriso -as mkisofs (same tree, same boot setup), $N runs each"
# xorriso gets the tree uai built (configs and EFI image included), so it
# does the ISO9660/Joliet/Rock Ridge/El Torito/isohybrid part only.
$UAI iso build "${build_args[@]}" -o $work/ref.iso >/dev/null
xorriso -osirrox on -indev $work/ref.iso -extract / $work/tree >/dev/null 2>&1
chmod -R u+w $work/tree
xorriso_build() {
	xorriso -as mkisofs -quiet -o $work/x.iso -R -J -V UAI_LIVE \
		-isohybrid-mbr $ISO_DIR/bios/isohdpfx.bin \
		-b isolinux/isolinux.bin -c boot/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
		-eltorito-alt-boot -e boot/efiboot.img -no-emul-boot -isohybrid-gpt-basdat \
		$work/tree
}
uai_build() { $UAI iso build "${build_args[@]}" -o $work/u.iso; }
# Interleaved, after one warm-up each, so load from other processes and
# the page cache weigh on both alike.
timeit uai_build >/dev/null
timeit xorriso_build >/dev/null
: >$work/ut
: >$work/xt
for i in $(seq $N); do
	timeit uai_build >>$work/ut
	timeit xorriso_build >>$work/xt
done
ut=$(median <$work/ut)
xt=$(median <$work/xt)
us=$(stat -c %s $work/u.iso)
xs=$(stat -c %s $work/x.iso)
printf "uai iso build      median %.3f s   size %d bytes\n" "$ut" "$us"
printf "xorriso -as mkisofs median %.3f s   size %d bytes\n" "$xt" "$xs"
printf "ratio uai/xorriso: time %.2f, size %.3f\n" "$(calc "$ut / $xt")" "$(calc "$us / $xs")"
cmp -s $work/u.iso $work/ref.iso && echo "uai rebuilds were byte-identical (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"

if [ "${SKIP_BIG:-}" != 1 ]; then
	echo "== 2. embed an answer file into a 2 GiB ISO vs rebuilding it, $N runs"
	# A 2 GiB rootfs of random data (so no layer below can skip zeros).
	head -c $((2 << 30)) /dev/urandom >$work/rootfs.img
	big() { $UAI iso build "${build_args[@]}" --rootfs $work/rootfs.img -o $work/big.iso; }
	bt=$(for i in $(seq 3); do timeit big; done | median)
	printf "full build of the 2 GiB ISO: median %.2f s (3 runs), size %d bytes\n" "$bt" "$(stat -c %s $work/big.iso)"
	cp test/e2e/testdata/answers.toml $work/a.toml
	et=$(for i in $(seq $N); do timeit $UAI iso embed $work/a.toml $work/big.iso; done | median)
	inner=$(for i in $(seq $N); do $UAI iso embed $work/a.toml $work/big.iso | sed -n 's/.* in \([0-9.]*\)\(µs\|ms\|s\);.*/\1 \2/p' |
		awk '{v=$1; if ($2=="µs") v/=1000; if ($2=="s") v*=1000; print v}'; done | median)
	printf "uai iso embed: median %.1f ms from process start to exit, %.2f ms for the in-place write itself (fsync included)\n" "$(calc "$et * 1000")" "$inner"
	printf "ratio rebuild/embed: %.0f (process), %.0f (in-place write)\n" "$(calc "$bt / $et")" "$(calc "$bt * 1000 / $inner")"
	rm -f $work/rootfs.img $work/big.iso
fi

if [ "${SKIP_BOOT:-}" != 1 ]; then
	echo "== 3. boot to installer in QEMU (TCG, 1 vCPU): QEMU start to 'starting the installer'"
	UAI_E2E=a,c,d go test -count=1 -timeout 20m -v -run TestE2E ./test/e2e/ | grep -E 'boot to installer|wall, serial|--- (PASS|FAIL)'
	for l in $ISO_DIR/logs/a-seabios-cd.log $ISO_DIR/logs/c-ovmf-cd.log $ISO_DIR/logs/d-ovmf-secureboot.log; do
		grep -h "starting the installer" "$l" | sed "s|^|$(basename "$l" .log): |"
	done
fi
