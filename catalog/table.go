package catalog

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// Categories returns the categories that occur in the catalog, in display
// order (desktop, server, iot, cloud, container-host, gaming; anything else
// after them, sorted).
func (c *Catalog) Categories() []string {
	var out []string
	for _, e := range c.Editions {
		if !slices.Contains(out, e.Category) {
			out = append(out, e.Category)
		}
	}
	slices.SortFunc(out, compareCategory)
	return out
}

func compareCategory(a, b string) int {
	ia, ib := slices.Index(allowedCategories, a), slices.Index(allowedCategories, b)
	if ia < 0 {
		ia = len(allowedCategories)
	}
	if ib < 0 {
		ib = len(allowedCategories)
	}
	return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
}

// WriteTable writes the listing of `uai catalog list`: aligned columns ID,
// NAME, CATEGORY, MATURITY, IMAGE, sorted by category (in display order) and
// then id. It does not change c.
func WriteTable(w io.Writer, c *Catalog) error {
	eds := slices.Clone(c.Editions)
	slices.SortStableFunc(eds, func(a, b Edition) int {
		return cmp.Or(compareCategory(a.Category, b.Category), cmp.Compare(a.ID, b.ID))
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCATEGORY\tMATURITY\tIMAGE")
	for _, e := range eds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Name, e.Category, e.Maturity, e.Image)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write catalog table: %w", err)
	}
	return nil
}
