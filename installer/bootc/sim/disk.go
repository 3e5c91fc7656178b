package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// statDevice is os.Stat; tests replace it to present a block device
// without touching one.
var statDevice = os.Stat

func installToDisk(r *run, m *matches) int {
	if err := r.checkFailKnob(installStages...); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: %v\n", err)
		return 1
	}
	if err := r.toDisk(m); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: Installing to disk: %v\n", err)
		return 1
	}
	r.say("Installation complete!")
	return 0
}

func (r *run) toDisk(m *matches) error {
	dev := m.pos[0]
	view := fsView{c: r.env.Container}
	hostDev, visible := view.host(dev)
	if !visible {
		return fmt.Errorf("Querying %s: %s", dev, ioErr(syscall.ENOENT))
	}
	fi, err := statDevice(hostDev)
	if err != nil {
		return fmt.Errorf("Querying %s: %s", dev, ioErr(err))
	}
	isBlock := fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0
	if m.has("via-loopback") {
		if !m.has("generic-image") {
			r.warn("Automatically enabling --generic-image when installing via loopback")
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("Not a regular file (to be used via loopback): %s", dev)
		}
	} else if isBlock {
		return fmt.Errorf("simulator never writes block devices: %s is one; simulate with a regular file and --via-loopback", dev)
	} else {
		return fmt.Errorf("Not a block device: %s", dev)
	}

	st, err := r.prepare(m, m.get("filesystem"))
	if err != nil {
		return err
	}
	lay, err := r.createRootfs(m, st, hostDev, fi.Size())
	if err != nil {
		return fmt.Errorf("Creating rootfs: %w", err)
	}
	if err := r.installImpl(st, "", []string{"root=UUID=" + lay.rootUUID, "rw"}, lay.boot, false, false); err != nil {
		return err
	}
	r.say("Unmounting filesystems")
	if lay.luks {
		r.say("Closing root LUKS device")
	}
	return nil
}

type diskLayout struct {
	rootUUID string
	boot     bool // a separate /boot (tpm2-luks only)
	luks     bool
}

// createRootfs is baseline::install_create_rootfs up to the mkfs calls,
// printing what bootc prints; the file is only read, never written.
func (r *run) createRootfs(m *matches, st *installState, hostDev string, size int64) (diskLayout, error) {
	cfg := r.env.ImageConfig
	if st.rootFS == "" {
		return diskLayout{}, errors.New("No root filesystem specified")
	}
	const loop = "/dev/loop0"
	parts, err := existingPartitions(hostDev)
	if err != nil {
		return diskLayout{}, errors.New(ioErr(err))
	}
	if m.has("wipe") {
		for i := 1; i <= parts; i++ {
			r.say("Wiping %sp%d", loop, i)
			r.say("Wiping device %sp%d", loop, i)
		}
		r.say("Wiping %s", loop)
		r.say("Wiping device %s", loop)
	} else if parts > 0 {
		return diskLayout{}, fmt.Errorf("Detected existing partitions on %s; use e.g. `wipefs` or --wipe if you intend to overwrite", loop)
	}

	block := m.get("block-setup")
	if cfg != nil {
		allowed := cfg.Block
		if len(allowed) == 0 {
			allowed = []string{"direct"}
		}
		if block == "" {
			block = allowed[0]
		}
		if !containsStr(allowed, block) {
			return diskLayout{}, fmt.Errorf("Block setup %s is not enabled in installation config", debugBlockSetup(block))
		}
	} else if block == "" {
		block = "direct"
	}
	discoverable := st.bootloader == "systemd" || st.bootloader == "grub-cc"
	r.say("Block setup: %s", block)
	r.say("       Size: %d", size)
	r.say("     Serial: <unknown>")
	r.say("      Model: <unknown>")
	if discoverable {
		r.say(" Partitions: Discoverable")
	} else {
		r.say(" Partitions: UUID")
	}
	rootMiB := uint64(0)
	if s := m.get("root-size"); s != "" {
		if rootMiB, err = parseSizeMiB(s); err != nil {
			return diskLayout{}, fmt.Errorf("Parsing root size: %v", err)
		}
	}
	r.say("Initializing partitions")
	luks := block == "tpm2-luks"
	const mib = 1 << 20
	rest := uint64(max(size, 0)) / mib
	used := uint64(1 + 1 + 512) // alignment, BIOS-BOOT, ESP
	part := 3
	if luks {
		used += 510
		r.say("Creating boot filesystem (%s) on device %sp%d (size=%s)", st.rootFS, loop, part, formatSize(510*mib))
		part++
	}
	rootBytes := uint64(0)
	if rest > used {
		rootBytes = (rest - used) * mib
	}
	if rootMiB > 0 && rootMiB*mib < rootBytes {
		rootBytes = rootMiB * mib
	}
	if luks {
		r.say("Initializing LUKS for root")
		r.say("Enrolling root device with TPM")
		r.say("Opening root LUKS device")
		r.say("Creating root filesystem (%s) on device /dev/mapper/root (size=%s)", st.rootFS, formatSize(rootBytes))
	} else {
		r.say("Creating root filesystem (%s) on device %sp%d (size=%s)", st.rootFS, loop, part, formatSize(rootBytes))
	}
	r.say("Creating ESP filesystem")
	return diskLayout{rootUUID: placeholderUUID(hostDev + ":root"), boot: luks, luks: luks}, nil
}

func debugBlockSetup(s string) string {
	if s == "tpm2-luks" {
		return "Tpm2Luks"
	}
	return "Direct"
}

// parseSizeMiB is bootc_blockdev::parse_size_mib, quirks included.
func parseSizeMiB(s string) (uint64, error) {
	suffixes := []struct {
		s   string
		mul uint64
	}{{"MiB", 1}, {"M", 1}, {"GiB", 1024}, {"G", 1024}, {"TiB", 1024 * 1024}, {"T", 1024 * 1024}}
	mul := uint64(1)
	for _, sf := range suffixes {
		if i := strings.LastIndex(s, sf.s); i >= 0 {
			if rest := s[i+len(sf.s):]; rest != "" {
				return 0, fmt.Errorf("Trailing text after size: %s", rest)
			}
			s, mul = s[:i], sf.mul
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, rustParseIntError(s, err)
	}
	return n * mul, nil
}

// existingPartitions counts partition table entries in the first sectors
// of a file (MBR entries or a GPT header); 0 means none.
func existingPartitions(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1024)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	buf = buf[:n]
	if len(buf) >= 520 && string(buf[512:520]) == "EFI PART" {
		return 1, nil
	}
	count := 0
	if len(buf) >= 512 && buf[510] == 0x55 && buf[511] == 0xAA {
		for i := 0; i < 4; i++ {
			if buf[446+16*i+4] != 0 {
				count++
			}
		}
	}
	return count, nil
}

// formatSize is glib's g_format_size (SI units, one decimal).
func formatSize(n uint64) string {
	if n < 1000 {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB"}
	f := float64(n) / 1000
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// printConfiguration is `bootc install print-configuration`: the merged
// install config as canonical JSON, null for what is unset.
func printConfiguration(r *run, m *matches) int {
	cfg := r.env.ImageConfig
	o := obj{
		{"block", nil}, {"boot-mount-spec", nil}, {"bootloader", nil}, {"bootupd", nil},
		{"discoverable-partitions", nil}, {"enforce-container-sigpolicy", nil}, {"filesystem", nil},
		{"match-architectures", nil}, {"ostree", nil}, {"root-fs-type", nil}, {"root-mount-spec", nil},
		{"stateroot", nil},
	}
	set := func(k string, val any) {
		for i := range o {
			if o[i].k == k {
				o[i].v = val
				return
			}
		}
		o = append(o, kv{k, val})
	}
	if cfg != nil {
		block := cfg.Block
		if len(block) == 0 {
			block = []string{"direct"}
		}
		set("block", block)
		if cfg.RootFSType != "" {
			set("root-fs-type", cfg.RootFSType)
			set("filesystem", obj{{"root", obj{{"type", cfg.RootFSType}}}})
		}
		if cfg.Stateroot != "" {
			set("stateroot", cfg.Stateroot)
		}
		if cfg.Bootloader != "" {
			set("bootloader", cfg.Bootloader)
		}
		if cfg.RootMountSpec != nil {
			set("root-mount-spec", *cfg.RootMountSpec)
		}
		if cfg.BootMountSpec != nil {
			set("boot-mount-spec", *cfg.BootMountSpec)
		}
		if m.has("all") && len(cfg.Kargs) > 0 {
			set("kargs", cfg.Kargs)
		}
	}
	fmt.Fprint(r.env.Stdout, canonJSON(o))
	return 0
}
