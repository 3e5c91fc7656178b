# The live ISO: the end-to-end test ISO and the QEMU boots. Included by
# the top Makefile (it uses GO, BUILD and ensure_packages from there).
#   make iso    build/iso/uai-test.iso from Debian's packages only
#   make e2e    boot it in QEMU (TCG): every scenario of docs/iso.md
# make test runs the core scenarios (a, c, d, g, i, j) through go test.

ISO_DIR      := $(BUILD)/iso
ISO          := $(ISO_DIR)/uai-test.iso
ISO_KERNEL   := $(ISO_DIR)/kernel
# A fixed date, so `make iso` twice gives the same ISO (docs/iso.md).
ISO_EPOCH    ?= 1767225600
ISO_PACKAGES := xorriso isolinux syslinux-common genisoimage qemu-system-x86 ovmf \
                shim-signed grub-efi-amd64-signed busybox-static systemd-boot-efi mtools dosfstools \
                e2fsprogs kmod fdisk util-linux mount
# Drivers for virtio, AHCI/IDE, NVMe and USB storage, the CD, the
# filesystems the install makes, and a virtio NIC (answers over HTTP).
ISO_MODULES  := virtio_pci virtio_blk virtio_scsi virtio_net nvme ahci ata_piix sd_mod sr_mod isofs \
                usb_storage uas xhci_pci ehci_pci ohci_pci uhci_hcd \
                vfat nls_cp437 nls_ascii nls_iso8859_1 nls_utf8 ext4 crc32c_generic
ISO_STATIC   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)'

.PHONY: iso e2e deps-iso iso-bins

deps-iso:
	$(call ensure_packages,$(ISO_PACKAGES))

# Debian's signed kernel of the linux-image-amd64 metapackage, unpacked,
# with a modules.dep for the initramfs builder.
$(ISO_KERNEL)/.done: | deps-iso
	rm -rf $(ISO_KERNEL) && mkdir -p $(ISO_KERNEL)/deb
	pkg=$$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $$2; exit}'); \
	  test -n "$$pkg" || { apt-get update -qq && pkg=$$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $$2; exit}'); }; \
	  cd $(ISO_KERNEL)/deb && { apt-get download "$$pkg" 2>/dev/null || { apt-get update -qq && apt-get download "$$pkg"; }; }
	dpkg-deb -x $(ISO_KERNEL)/deb/*.deb $(ISO_KERNEL)/root
	kver=$$(ls $(ISO_KERNEL)/root/lib/modules); \
	  depmod -b $(ISO_KERNEL)/root $$kver && echo $$kver > $(ISO_KERNEL)/kver && \
	  cp $(ISO_KERNEL)/root/boot/vmlinuz-$$kver $(ISO_KERNEL)/vmlinuz
	touch $@

iso-bins: | deps-iso
	@mkdir -p $(ISO_DIR)/bin
	$(ISO_STATIC) -o $(ISO_DIR)/bin/uai ./cmd/uai
	$(ISO_STATIC) -o $(ISO_DIR)/bin/bootc ./test/e2e/fakes/bootc
	$(ISO_STATIC) -o $(ISO_DIR)/bin/podman ./test/e2e/fakes/podman
	$(GO) build -o $(ISO_DIR)/bin/mkinitramfs ./test/e2e/cmd/mkinitramfs

# The boot chain, straight from the packages: shim (signed by Microsoft)
# loads Debian's signed GRUB; isolinux for BIOS.
$(ISO_DIR)/bootfiles.done: | deps-iso
	rm -rf $(ISO_DIR)/efi $(ISO_DIR)/bios && mkdir -p $(ISO_DIR)/efi $(ISO_DIR)/bios
	cp /usr/lib/shim/shimx64.efi.signed $(ISO_DIR)/efi/BOOTX64.EFI
	cp /usr/lib/shim/mmx64.efi.signed $(ISO_DIR)/efi/mmx64.efi
	cp /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed $(ISO_DIR)/efi/grubx64.efi
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/ISOLINUX/isohdpfx.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 $(ISO_DIR)/bios/
	touch $@

# The fakes live in /usr/libexec/uai-e2e; /usr/bin/bootc and /usr/bin/podman
# are wrappers that first make the /dev/disk/by-uuid links (udev's job on a
# real live system, which this one lacks) the root UUID is read from.
$(ISO_DIR)/initrd.img: iso-bins $(ISO_KERNEL)/.done test/e2e/initramfs/init test/e2e/initramfs/podman \
    test/e2e/initramfs/bootc test/e2e/initramfs/udev-links test/e2e/initramfs/udhcpc.script
	$(ISO_DIR)/bin/mkinitramfs -o $@ -init test/e2e/initramfs/init \
	  -modules-root $(ISO_KERNEL)/root -kver $$(cat $(ISO_KERNEL)/kver) $(addprefix -module ,$(ISO_MODULES)) \
	  -file /bin/busybox:bin/busybox \
	  -file $(ISO_DIR)/bin/uai:usr/bin/uai \
	  -file $(ISO_DIR)/bin/bootc:usr/libexec/uai-e2e/bootc \
	  -file $(ISO_DIR)/bin/podman:usr/libexec/uai-e2e/podman \
	  -file test/e2e/initramfs/udev-links:usr/libexec/uai-e2e/udev-links \
	  -file test/e2e/initramfs/bootc:usr/bin/bootc \
	  -file test/e2e/initramfs/podman:usr/bin/podman \
	  -file test/e2e/initramfs/udhcpc.script:etc/uai/udhcpc.script \
	  -file /usr/lib/systemd/boot/efi/systemd-bootx64.efi:usr/lib/systemd/boot/efi/systemd-bootx64.efi \
	  -file /etc/mke2fs.conf:etc/mke2fs.conf \
	  -bin /sbin/mkfs.fat:usr/sbin/mkfs.fat \
	  -bin /sbin/blkid:usr/sbin/blkid \
	  -bin /sbin/mke2fs:usr/sbin/mkfs.ext4

# Default answers are embedded at build time; they pick only the QEMU disk
# with serial UAI-E2E-TARGET, and only while it is empty.
$(ISO): $(ISO_DIR)/initrd.img $(ISO_DIR)/bootfiles.done test/e2e/testdata/answers.toml
	SOURCE_DATE_EPOCH=$(ISO_EPOCH) $(ISO_DIR)/bin/uai iso build \
	  --kernel $(ISO_KERNEL)/vmlinuz --initrd $(ISO_DIR)/initrd.img \
	  --efi-dir $(ISO_DIR)/efi --bios-dir $(ISO_DIR)/bios --label UAI_LIVE \
	  --karg console=tty0 --karg console=ttyS0,115200 --timeout 0 \
	  --answers test/e2e/testdata/answers.toml -o $@

iso: $(ISO)

# Every scenario (a)..(j); UAI_E2E=all widens the default set of go test.
e2e: iso
	UAI_E2E=all UAI_E2E_DIR=$(abspath $(ISO_DIR)) $(GO) test -count=1 -timeout 40m -v -run 'TestE2E' ./test/e2e/
