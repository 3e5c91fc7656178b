package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
)

// selectorFlags are the selector rules as flags; they combine with (and
// may not repeat) the rules of --explain's compact form.
type selectorFlags struct {
	path, byID, serial, wwn, model, minSize, maxSize, transport string
	rotational, removable                                       string
	largest, smallest, empty, allowBoot                         bool
}

func (s *selectorFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&s.path, "path", "", "selector: a /dev path or /dev/disk/by-id or by-path link")
	fl.StringVar(&s.byID, "by-id", "", "selector: a /dev/disk/by-id link (full path or name)")
	fl.StringVar(&s.serial, "serial", "", "selector: the disk's serial number")
	fl.StringVar(&s.wwn, "wwn", "", "selector: the disk's WWN (naa.5000c500..., 0x5000c500... or wwn-0x...)")
	fl.StringVar(&s.model, "model", "", "selector: a shell glob on the model, case-insensitive (\"Samsung SSD 9*\")")
	fl.StringVar(&s.minSize, "min-size", "", "selector: the smallest size (100GiB, 2TB, 512M)")
	fl.StringVar(&s.maxSize, "max-size", "", "selector: the largest size")
	fl.StringVar(&s.transport, "transport", "", "selector: "+strings.Join(partition.Transports, ", "))
	fl.StringVar(&s.rotational, "rotational", "", "selector: true (spinning disks) or false (SSD, flash)")
	fl.StringVar(&s.removable, "removable", "", "selector: true or false")
	fl.BoolVar(&s.largest, "largest", false, "selector: the largest of the disks the other rules leave")
	fl.BoolVar(&s.smallest, "smallest", false, "selector: the smallest of the disks the other rules leave")
	fl.BoolVar(&s.empty, "empty", false, "selector: only disks with no partition table and no filesystem")
	fl.BoolVar(&s.allowBoot, "allow-boot-medium", false, "selector: let it match the disk the live system booted from")
}

// compact renders the flags that were set in the compact form, so they
// go through the same parser as --explain's string.
func (s *selectorFlags) compact(fl *pflag.FlagSet) []string {
	var out []string
	str := map[string]*string{"path": &s.path, "by-id": &s.byID, "serial": &s.serial, "wwn": &s.wwn, "model": &s.model,
		"min-size": &s.minSize, "max-size": &s.maxSize, "transport": &s.transport, "rotational": &s.rotational, "removable": &s.removable}
	for _, name := range []string{"path", "by-id", "serial", "wwn", "model", "min-size", "max-size", "transport", "rotational", "removable"} {
		if fl.Changed(name) {
			out = append(out, strings.ReplaceAll(name, "-", "_")+"="+quoteCompact(*str[name]))
		}
	}
	flags := map[string]bool{"largest": s.largest, "smallest": s.smallest, "empty": s.empty, "allow-boot-medium": s.allowBoot}
	for _, name := range []string{"largest", "smallest", "empty", "allow-boot-medium"} {
		if fl.Changed(name) {
			out = append(out, fmt.Sprintf("%s=%v", strings.ReplaceAll(name, "-", "_"), flags[name]))
		}
	}
	return out
}

func quoteCompact(v string) string {
	if strings.ContainsAny(v, `,"`) {
		return fmt.Sprintf("%q", v)
	}
	return v
}

func newDisksCmd() *cobra.Command {
	var asJSON bool
	var targets []string
	var machine, explain string
	var sel selectorFlags
	cmd := &cobra.Command{
		Use:   "disks",
		Short: "List the disks this machine sees, what is on them, and whether each can be installed to",
		Long: `List the disks this machine sees: size, identity, partitions, what is on them
(Windows and other boot loaders on an ESP, Linux and bootc/ostree systems on
ext4), and every reason a disk is refused.

--explain SELECTOR runs a disk selector (as an answer file's [disk] section
would) and shows, for every disk, each rule it passed or failed. The
selector is a compact string of rules, or flags, or both:

  uai disks --explain 'serial=S5GXNF0N123456'
  uai disks --explain 'model=Samsung SSD 9*,min_size=500GB,largest'
  uai disks --transport nvme --empty          (flags alone also explain)

It exits 0 when exactly one disk matches and 3 (disk refused) otherwise.
See docs/disks.md for the rules.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			disks, title, err := inventory(c, machine, targets)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			rules := sel.compact(c.Flags())
			if c.Flags().Changed("explain") || len(rules) > 0 {
				text := strings.TrimSpace(explain)
				if text != "" {
					rules = append([]string{text}, rules...)
				}
				s, perr := partition.ParseSelector(strings.Join(rules, ","))
				if perr != nil {
					return installer.Errorf(installer.ClassInvalidInput, "", "%w", perr)
				}
				_, ex, serr := partition.Select(disks, s)
				if asJSON {
					if err := writeDisksJSON(out, ex); err != nil {
						return err
					}
				} else {
					if title != "" {
						fmt.Fprintln(out, title)
					}
					fmt.Fprint(out, ex.String())
				}
				var se *partition.SelectError
				if errors.As(serr, &se) {
					// the report is printed already; the error is the verdict
					return installer.Errorf(installer.ClassDiskRefused, "", "%s", se.Reason())
				}
				if serr != nil {
					return installer.Errorf(installer.ClassInvalidInput, "", "%w", serr)
				}
				return nil
			}
			if asJSON {
				if disks == nil {
					disks = []partition.Disk{}
				}
				return writeDisksJSON(out, disks)
			}
			if title != "" {
				fmt.Fprintln(out, title)
				fmt.Fprintln(out)
			}
			return renderDisks(out, disks)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the inventory (or with --explain, the report) as JSON")
	fl.StringArrayVar(&targets, "target", nil, "describe only this disk or disk image file (repeatable)")
	fl.StringVar(&machine, "machine", "", "describe the machine in this JSON fixture instead of this computer (see test/fixtures/machines)")
	fl.StringVar(&explain, "explain", "", "run a disk selector (key=value,... ; see docs/disks.md) and show why each disk matched or not")
	sel.register(fl)
	return cmd
}

// inventory lists the disks: a machine fixture, the given targets, or
// this computer's disks.
func inventory(c *cobra.Command, machine string, targets []string) ([]partition.Disk, string, error) {
	if machine != "" {
		if len(targets) > 0 {
			return nil, "", installer.Errorf(installer.ClassInvalidInput, "keep one", "--machine and --target were both given")
		}
		m, err := partition.LoadMachine(machine)
		if err != nil {
			return nil, "", installer.Errorf(installer.ClassInvalidInput, "", "%w", err)
		}
		title := "machine " + m.Name + " (described, not this computer)"
		if m.Description != "" {
			title += ": " + m.Description
		}
		return m.Disks, title, nil
	}
	s := &installer.Session{Targets: targets}
	disks, err := s.Disks(c.Context())
	return disks, "", err
}

func writeDisksJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// renderDisks prints the summary table, then for each disk its identity,
// partitions and what is on them, and why it is refused.
func renderDisks(out io.Writer, disks []partition.Disk) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISK\tSIZE\tMODEL\tTRANSPORT\tCONTENT\tINSTALLABLE")
	for _, d := range disks {
		why := "yes"
		if !d.Installable() {
			why = "no: " + d.Refusals[0]
			if len(d.Refusals) > 1 {
				why += fmt.Sprintf(" (+%d more)", len(d.Refusals)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Path, installer.HumanBytes(d.SizeBytes), dash(d.Model), dash(d.Transport), content(d), why)
	}
	if len(disks) == 0 {
		fmt.Fprintln(tw, "(no disks found)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range disks {
		fmt.Fprintln(out)
		details(out, d)
	}
	return nil
}

func details(out io.Writer, d partition.Disk) {
	fmt.Fprintf(out, "%s  %s", d.Path, installer.HumanBytes(d.SizeBytes))
	sectors := fmt.Sprintf("%d-byte sectors", d.LogicalSectorSize)
	if d.PhysicalSectorSize != 0 && d.PhysicalSectorSize != d.LogicalSectorSize {
		sectors += fmt.Sprintf(" (physical %d)", d.PhysicalSectorSize)
	}
	fmt.Fprintf(out, ", %s\n", sectors)
	var id []string
	if d.Model != "" {
		id = append(id, "model "+d.Model)
	}
	if d.Serial != "" {
		id = append(id, "serial "+d.Serial)
	}
	if d.WWN != "" {
		id = append(id, "wwn "+d.WWN)
	}
	if d.Transport != "" {
		id = append(id, d.Transport)
	}
	if d.Rotational {
		id = append(id, "rotational")
	}
	if d.Removable {
		id = append(id, "removable")
	}
	if len(id) > 0 {
		fmt.Fprintf(out, "  identity   %s\n", strings.Join(id, ", "))
	}
	for _, l := range append(append([]string(nil), d.ByID...), d.ByPath...) {
		fmt.Fprintf(out, "  link       %s\n", l)
	}
	switch {
	case d.Table != "":
		fmt.Fprintf(out, "  table      %s, %d partitions\n", d.Table, len(d.Partitions))
	case d.Filesystem != "":
		fmt.Fprintf(out, "  contents   %s on the whole disk %s\n", d.Filesystem, labelled(d.Label))
	default:
		if d.Empty() {
			fmt.Fprintln(out, "  contents   empty (no partition table, no filesystem)")
		}
	}
	for _, p := range d.Partitions {
		fs := dash(p.Filesystem)
		if p.Label != "" {
			fs += " " + labelled(p.Label)
		}
		fmt.Fprintf(out, "  %-3d %-28s %10s  %s, %s\n", p.Index, quoteName(p.Name), installer.HumanBytes(p.SizeBytes), partition.TypeName(p.TypeGUID), fs)
		if c := p.Content; c != nil {
			var what []string
			what = append(what, c.BootLoaders...)
			if c.OS != "" {
				what = append(what, c.OS)
			}
			if o := c.Ostree; o != nil {
				s := fmt.Sprintf("ostree sysroot: %d deployments in %s", o.Deployments, strings.Join(o.Stateroots, ", "))
				if len(o.Images) > 0 {
					s += ", following " + strings.Join(o.Images, ", ")
				}
				what = append(what, s)
			}
			if c.BootEntries > 0 {
				what = append(what, fmt.Sprintf("%d boot entries", c.BootEntries))
			}
			if c.FreeBytes > 0 {
				what = append(what, installer.HumanBytes(c.FreeBytes)+" free")
			}
			if c.Note != "" {
				what = append(what, c.Note)
			}
			for _, w := range what {
				fmt.Fprintf(out, "        %s\n", w)
			}
		}
	}
	if d.GPT != nil {
		fmt.Fprintf(out, "  TABLE PROBLEM  %s\n", d.GPT.Explanation)
	}
	if in := d.Interrupted; in != nil {
		fmt.Fprintf(out, "  INTERRUPTED  %s\n", in.Explanation)
	}
	for _, r := range d.Refusals {
		fmt.Fprintf(out, "  refused    %s\n", r)
	}
}

func labelled(l string) string {
	if l == "" {
		return ""
	}
	return "labelled " + fmt.Sprintf("%q", l)
}

func quoteName(n string) string {
	if n == "" {
		return "-"
	}
	return fmt.Sprintf("%q", n)
}

func content(d partition.Disk) string {
	if d.Empty() {
		return "empty"
	}
	if d.GPT != nil && d.Table == "" {
		return "damaged GPT"
	}
	if d.Table == "" && d.Filesystem != "" {
		return d.Filesystem + " (whole disk)"
	}
	s := fmt.Sprintf("%s, %d partitions", dash(d.Table), len(d.Partitions))
	var found []string
	seen := map[string]bool{}
	note := func(w string) {
		if !seen[w] {
			seen[w] = true
			found = append(found, w)
		}
	}
	for _, p := range d.Partitions {
		c := p.Content
		switch {
		case c == nil:
		case c.Windows:
			note("Windows")
		case c.Ostree != nil:
			note("bootc/ostree")
		case c.OS != "":
			note(c.OS)
		}
	}
	if len(found) > 0 {
		s += " (" + strings.Join(found, ", ") + ")"
	}
	if d.Interrupted != nil {
		s += ", interrupted install"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
