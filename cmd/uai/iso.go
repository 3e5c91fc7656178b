package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/iso"
)

// newISOCmd is `uai iso`: build the live ISO and edit built ones in place.
func newISOCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "iso",
		Short: "Build the live ISO; embed answers and kernel arguments into a built one",
		Long: `Build uai's hybrid live ISO (BIOS and UEFI, CD and USB stick, Secure Boot
through a signed shim), and edit a built ISO in place: embed an answer file,
change kernel arguments, list embedded images, extract the PXE files.
docs/iso.md describes the layout and the embed area.`,
	}
	c.AddCommand(newISOBuildCmd(), newISOEmbedCmd(), newISOShowCmd(), newISORemoveCmd(),
		newISOKargsCmd(), newISOExtractPXECmd(), newISOImagesCmd(), newISOInfoCmd())
	return c
}

// isoErr gives iso's errors their exit-code class.
func isoErr(err error) error {
	if err == nil {
		return nil
	}
	class := installer.ClassEnvironment
	switch {
	case errors.Is(err, iso.ErrRegistry):
		class = installer.ClassDependency
	case errors.Is(err, iso.ErrInvalid), errors.Is(err, iso.ErrNotUAI), errors.Is(err, iso.ErrCorrupt),
		errors.Is(err, iso.ErrTooLarge), errors.Is(err, iso.ErrNoAnswers), errors.Is(err, os.ErrNotExist):
		class = installer.ClassInvalidInput
	}
	return installer.Classify(class, err)
}

// withISO opens the ISO at path (for writing if writable), runs fn on it and
// closes it. An error opening it gets its exit-code class; fn's error is
// returned as it is.
func withISO(path string, writable bool, fn func(im *iso.Image) error) error {
	im, err := iso.Open(path, writable)
	if err != nil {
		return isoErr(err)
	}
	defer im.Close()
	return fn(im)
}

func newISOBuildCmd() *cobra.Command {
	var o iso.BuildOptions
	var out, answersPath, embedSize string
	var asJSON bool
	c := &cobra.Command{
		Use:   "build --kernel K --initrd I [--efi-dir D] [--bios-dir D] -o uai.iso",
		Short: "Build a hybrid live ISO (reproducible with SOURCE_DATE_EPOCH)",
		Long: `Build a hybrid live ISO: ISO9660 with Rock Ridge and Joliet, El Torito entries
for BIOS (isolinux) and UEFI (a FAT image with EFI/BOOT/BOOTX64.EFI, normally a
signed shim that loads GRUB), and an MBR so the same file boots from a USB
stick. With SOURCE_DATE_EPOCH set, the same inputs give the same bytes.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return &flagError{errors.New("pass -o FILE for the ISO to write")}
			}
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return &flagError{fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)}
				}
				o.SourceDate = time.Unix(n, 0)
			}
			if embedSize != "" {
				n, err := isoParseSize(embedSize)
				if err != nil {
					return &flagError{fmt.Errorf("--embed-size %q: %w", embedSize, err)}
				}
				o.AreaSize = n
			}
			if answersPath != "" {
				data, err := readAnswerFile(answersPath, false)
				if err != nil {
					return err
				}
				o.Answers = data
			}
			o.Progress = c.ErrOrStderr()
			res, err := iso.Build(c.Context(), out, o)
			if err != nil {
				return isoErr(fmt.Errorf("build %s: %w", out, err))
			}
			if asJSON {
				return isoWriteJSON(c.OutOrStdout(), res)
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "wrote %s: %s, label %s", res.Path, isoHumanBytes(res.Size), res.Label)
			var boots []string
			if res.BIOS {
				boots = append(boots, "BIOS")
			}
			if res.EFI {
				boots = append(boots, "UEFI")
			}
			fmt.Fprintf(w, ", boots %s from CD and USB\n", strings.Join(boots, " and "))
			fmt.Fprintf(w, "embed area: %s at byte %d (answer files up to %s)\n", isoHumanBytes(res.AreaSize), res.AreaOffset, isoHumanBytes(res.AreaSize-4096))
			for _, im := range res.Images {
				fmt.Fprintf(w, "embedded image %s %s (%s, verified)\n", im.Ref, im.Digest, isoHumanBytes(im.Size))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&out, "output", "o", "", "the ISO file to write")
	f.StringVar(&o.Kernel, "kernel", "", "the kernel (signed, for Secure Boot)")
	f.StringVar(&o.Initrd, "initrd", "", "the initramfs")
	f.StringVar(&o.Rootfs, "rootfs", "", "an optional root filesystem image, placed at /boot/rootfs.img")
	f.StringVar(&o.EFIDir, "efi-dir", "", "directory with BOOTX64.EFI (shim) and what it loads (grubx64.efi, mmx64.efi); omit for no UEFI boot")
	f.StringVar(&o.BIOSDir, "bios-dir", "", "directory with isolinux.bin, ldlinux.c32 and isohdpfx.bin; omit for no BIOS boot")
	f.StringVar(&o.Label, "label", iso.DefaultLabel, "volume label (A-Z, 0-9, _; the live system finds its medium by it)")
	f.StringArrayVar(&o.Kargs, "karg", nil, "a default kernel argument (repeatable); uai iso kargs edits them later")
	f.StringVar(&answersPath, "answers", "", "an answer file to embed at build time")
	f.StringVar(&embedSize, "embed-size", "", "size of the embed area, e.g. 1M (default 1M; answer files up to 4 KiB less)")
	f.IntVar(&o.KargsSize, "kargs-size", iso.DefaultKargsSize, "bytes reserved for the editable kernel arguments")
	f.IntVar(&o.Timeout, "timeout", 5, "boot menu timeout in seconds (0 boots at once)")
	f.StringArrayVar(&o.Images, "embed-image", nil, "a container image to pull into the ISO for offline installs (repeatable)")
	f.StringVar(&o.Platform, "platform", "linux/amd64", "platform to pull from multi-arch images")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

// readAnswerFile reads an answer file and, unless force, refuses one with
// problems, so a medium never carries a file the installer would reject at
// boot. A kickstart is converted to TOML first: the medium carries
// /uai/answers.toml, which readers take for TOML by its name.
func readAnswerFile(path string, force bool) ([]byte, error) {
	in, err := answers.ReadInput(path)
	if err != nil {
		return nil, installer.Classify(installer.ClassInvalidInput, err)
	}
	if in.Kickstart {
		data, rep := answers.Convert(path, in.Data)
		if err := rep.Err(); err != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "fix the kickstart, or convert it with uai answers convert and edit the TOML", "%w", err)
		}
		in = answers.Input{Name: path, Data: data}
	}
	if !force {
		if rep := answers.Compose([]answers.Input{in}, answers.Facts{}).Report; rep.Err() != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "fix the file, or pass --force to embed it as it is", "%w", rep.Err())
		}
	}
	return in.Data, nil
}

func newISOEmbedCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "embed ANSWERS ISO",
		Short: "Write an answer file into a built ISO (or a USB stick written from one), in place",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			data, err := readAnswerFile(args[0], force)
			if err != nil {
				return err
			}
			return withISO(args[1], true, func(im *iso.Image) error {
				start := time.Now()
				if err := im.SetAnswers(data); err != nil {
					return isoErr(err)
				}
				fmt.Fprintf(c.OutOrStdout(), "embedded %s (%d bytes) into %s in %s; the area holds %d bytes\n",
					args[0], len(data), args[1], time.Since(start).Round(time.Microsecond), im.AnswersCapacity())
				return nil
			})
		},
	}
	c.Flags().BoolVar(&force, "force", false, "embed the file even if it is not a valid answer file")
	return c
}

func newISOShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ISO",
		Short: "Print the answer file embedded in an ISO",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withISO(args[0], false, func(im *iso.Image) error {
				data, err := im.Answers()
				if err != nil {
					return isoErr(err)
				}
				_, err = c.OutOrStdout().Write(data)
				return err
			})
		},
	}
}

func newISORemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove ISO",
		Short: "Clear the answer file embedded in an ISO",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withISO(args[0], true, func(im *iso.Image) error {
				if err := im.RemoveAnswers(); err != nil {
					return isoErr(err)
				}
				fmt.Fprintf(c.OutOrStdout(), "cleared the embedded answer file of %s\n", args[0])
				return nil
			})
		},
	}
}

func newISOKargsCmd() *cobra.Command {
	var add, del []string
	var reset, show bool
	c := &cobra.Command{
		Use:   "kargs [--append A] [--delete A] [--reset] [--show] ISO",
		Short: "Show or change the kernel arguments the ISO's boot loaders pass, in place",
		Long: `Show or change the editable kernel arguments of a built ISO. Both boot loader
configs (GRUB for UEFI, isolinux for BIOS) carry them in a fixed-size region
that is rewritten in place. --delete names a whole argument (KEY=VALUE) or a
key; --reset restores the arguments the ISO was built with. With no option,
or with --show, the arguments are printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			edit := len(add) > 0 || len(del) > 0 || reset
			return withISO(args[0], edit, func(im *iso.Image) error {
				if edit {
					var cur []string
					var err error
					if reset {
						cur = im.DefaultKargs()
					} else if cur, err = im.Kargs(); err != nil {
						return isoErr(err)
					}
					next, err := iso.EditKargs(cur, add, del)
					if err != nil {
						return isoErr(err)
					}
					if err := im.SetKargs(next); err != nil {
						return isoErr(err)
					}
				}
				if edit && !show {
					return nil
				}
				k, err := im.Kargs()
				if err != nil {
					return isoErr(err)
				}
				fmt.Fprintln(c.OutOrStdout(), strings.Join(k, " "))
				return nil
			})
		},
	}
	f := c.Flags()
	f.StringArrayVar(&add, "append", nil, "append a kernel argument (repeatable)")
	f.StringArrayVar(&del, "delete", nil, "delete a kernel argument, KEY=VALUE or KEY (repeatable)")
	f.BoolVar(&reset, "reset", false, "restore the kernel arguments the ISO was built with (before --delete and --append)")
	f.BoolVar(&show, "show", false, "print the kernel arguments (after any change)")
	return c
}

func newISOExtractPXECmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "extract-pxe ISO -o DIR",
		Short: "Copy the kernel, initrd, rootfs and kernel arguments out of an ISO for network boot",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if dir == "" {
				return &flagError{errors.New("pass -o DIR for the PXE files")}
			}
			return withISO(args[0], false, func(im *iso.Image) error {
				p, err := im.ExtractPXE(dir)
				if err != nil {
					return isoErr(err)
				}
				if asJSON {
					return isoWriteJSON(c.OutOrStdout(), p)
				}
				w := c.OutOrStdout()
				fmt.Fprintf(w, "kernel  %s\ninitrd  %s\n", p.Kernel, p.Initrd)
				if p.Rootfs != "" {
					fmt.Fprintf(w, "rootfs  %s\n", p.Rootfs)
				}
				if p.Answers != "" {
					fmt.Fprintf(w, "answers %s (serve it over HTTP and pass uai.answers=URL)\n", p.Answers)
				}
				fmt.Fprintf(w, "kargs   %s (in %s)\n", strings.Join(p.Kargs, " "), p.KargsFile)
				return nil
			})
		},
	}
	c.Flags().StringVarP(&dir, "output", "o", "", "directory to write the files into")
	c.Flags().BoolVar(&asJSON, "json", false, "print what was written as JSON")
	return c
}

func newISOImagesCmd() *cobra.Command {
	var verify, asJSON bool
	c := &cobra.Command{
		Use:   "images [--verify] ISO",
		Short: "List the container images embedded in an ISO (and check every blob's digest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withISO(args[0], false, func(im *iso.Image) error {
				imgs, err := im.Images(verify)
				if err != nil {
					return isoErr(err)
				}
				if asJSON {
					if imgs == nil {
						imgs = []iso.EmbeddedImage{}
					}
					return isoWriteJSON(c.OutOrStdout(), imgs)
				}
				if len(imgs) == 0 {
					fmt.Fprintf(c.OutOrStdout(), "%s embeds no images\n", args[0])
				}
				for _, e := range imgs {
					state := ""
					if e.Verified {
						state = " verified"
					}
					fmt.Fprintf(c.OutOrStdout(), "%s %s %s%s\n", e.Ref, e.Digest, e.Platform, state)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&verify, "verify", false, "read every blob and check it against its digest")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newISOInfoCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "info ISO",
		Short: "Describe an ISO's embed area, kernel arguments and images",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withISO(args[0], false, func(im *iso.Image) error {
				type info struct {
					Label           string              `json:"label"`
					AreaOffset      int64               `json:"area_offset"`
					AreaSize        int64               `json:"area_size"`
					AnswersCapacity int64               `json:"answers_capacity"`
					AnswersBytes    int                 `json:"answers_bytes"`
					KargsCapacity   int                 `json:"kargs_capacity"`
					Kargs           []string            `json:"kargs"`
					DefaultKargs    []string            `json:"default_kargs"`
					Regions         []iso.Region        `json:"kargs_regions"`
					Images          []iso.EmbeddedImage `json:"images"`
				}
				in := info{Label: im.Label(), AreaOffset: im.AreaOffset, AreaSize: im.AreaSize, AnswersCapacity: im.AnswersCapacity(),
					KargsCapacity: im.KargsCapacity(), DefaultKargs: im.DefaultKargs(), Regions: im.Regions()}
				if a, err := im.Answers(); err == nil {
					in.AnswersBytes = len(a)
				} else if !errors.Is(err, iso.ErrNoAnswers) {
					return isoErr(err)
				}
				var err error
				if in.Kargs, err = im.Kargs(); err != nil {
					return isoErr(err)
				}
				if in.Images, err = im.Images(false); err != nil {
					return isoErr(err)
				}
				if asJSON {
					return isoWriteJSON(c.OutOrStdout(), in)
				}
				w := c.OutOrStdout()
				fmt.Fprintf(w, "label          %s\nembed area     %s at byte %d\n", in.Label, isoHumanBytes(in.AreaSize), in.AreaOffset)
				fmt.Fprintf(w, "answer file    %d of %d bytes\n", in.AnswersBytes, in.AnswersCapacity)
				fmt.Fprintf(w, "kernel args    %s\n", strings.Join(in.Kargs, " "))
				fmt.Fprintf(w, "default args   %s\n", strings.Join(in.DefaultKargs, " "))
				fmt.Fprintf(w, "kargs regions  %d of %d bytes each\n", len(in.Regions), in.KargsCapacity)
				fmt.Fprintf(w, "images         %d\n", len(in.Images))
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func isoWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseSize reads a byte count with an optional K, M or G (powers of 1024).
func isoParseSize(s string) (int64, error) {
	mult := int64(1)
	t := strings.TrimSuffix(strings.ToUpper(s), "B")
	t = strings.TrimSuffix(t, "I")
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("use a positive number of bytes, optionally with K, M or G")
	}
	return n * mult, nil
}

func isoHumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
