package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/catalog"
)

func newCatalogCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Show the catalog of editions"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the editions of the embedded catalog",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cat := catalog.Embedded()
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(cat)
			}
			return catalog.WriteTable(c.OutOrStdout(), cat)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON")
	cmd.AddCommand(list)
	return cmd
}
