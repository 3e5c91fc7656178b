#!/usr/bin/env bash
# The baseline for BenchmarkHandoff: the same layout as uai's plan, made with
# the standard tools. Prints the loop device on its last line.
# usage: handoff-baseline.sh IMAGE TARGET_DIR kernel|fuse sgdisk|sfdisk
# (sgdisk sleeps one second after writing, before it asks the kernel to
# re-read the table; sfdisk does not, so both are measured.)
set -euo pipefail
img=$1 target=$2 esp_mount=$3 partitioner=${4:-sgdisk}
dev=$(losetup --find --show --sector-size 512 "$img")
if [ "$partitioner" = sgdisk ]; then
  sgdisk -a 2048 -n 1:2048:+1M -t 1:EF02 -c 1:BIOS-BOOT \
         -n 2:0:+512M -t 2:EF00 -c 2:EFI-SYSTEM \
         -n 3:0:0 -t 3:4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 -c 3:root "$dev" >/dev/null
else
  sfdisk --quiet --label gpt "$dev" <<EOT
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=BIOS-BOOT
start=4096, size=1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI-SYSTEM
start=1052672, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
EOT
fi
# A kernel without partition-table parsers does not rescan: add the nodes.
[ -e "${dev}p3" ] || partx -a "$dev"
mkfs.vfat -F 32 -n EFI-SYSTEM "${dev}p2" >/dev/null
mkfs.xfs -q -f -L root "${dev}p3"
mkdir -p "$target"
mount "${dev}p3" "$target"
mkdir -p "$target/boot/efi"
if [ "$esp_mount" = fuse ]; then
  fusefat -o rw+ "${dev}p2" "$target/boot/efi"
else
  mount -t vfat "${dev}p2" "$target/boot/efi"
fi
echo "$dev"
