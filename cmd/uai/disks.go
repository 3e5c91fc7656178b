package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
)

func newDisksCmd() *cobra.Command {
	var asJSON bool
	var targets []string
	cmd := &cobra.Command{
		Use:   "disks",
		Short: "List the disks this machine sees and whether each can be installed to",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s := &installer.Session{Targets: targets}
			disks, err := s.Disks(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				if disks == nil {
					disks = []partition.Disk{}
				}
				return enc.Encode(disks)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DISK\tSIZE\tMODEL\tTRANSPORT\tCONTENT\tINSTALLABLE")
			for _, d := range disks {
				why := "yes"
				if !d.Installable() {
					why = "no: " + strings.Join(d.Refusals, "; ")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Path, installer.HumanBytes(d.SizeBytes), dash(d.Model), dash(d.Transport), content(d), why)
			}
			if len(disks) == 0 {
				fmt.Fprintln(tw, "(no disks found)")
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the inventory as JSON")
	cmd.Flags().StringArrayVar(&targets, "target", nil, "describe only this disk or disk image file (repeatable)")
	return cmd
}

func content(d partition.Disk) string {
	if d.Empty() {
		return "empty"
	}
	var parts []string
	for _, p := range d.Partitions {
		s := p.Name
		if p.Filesystem != "" {
			s += "(" + p.Filesystem + ")"
		}
		if s == "" {
			s = fmt.Sprintf("#%d", p.Index)
		}
		parts = append(parts, s)
	}
	return dash(d.Table) + ": " + strings.Join(parts, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
