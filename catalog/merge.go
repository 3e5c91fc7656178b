package catalog

import (
	"fmt"
	"reflect"
	"strings"
)

// Conflict is an edition id that two catalogs define differently. The later
// catalog wins; the conflict is reported so that nobody is surprised which
// image an id installs.
type Conflict struct {
	ID string `json:"id"`
	// Winner and Loser are the locations of the catalog whose edition is
	// used and of the one whose edition was replaced.
	Winner string `json:"winner"`
	Loser  string `json:"loser"`
	// Fields are the JSON names of the fields that differ.
	Fields []string `json:"fields"`
}

func (c Conflict) String() string {
	return fmt.Sprintf("edition %s from %s replaces the one from %s (%s differ); later catalogs win, so reorder --catalog if the other one is meant", c.ID, c.Winner, c.Loser, strings.Join(c.Fields, ", "))
}

// Merge merges catalogs in order: an edition id defined again replaces the
// earlier edition, in the earlier edition's place, and every replacement
// that changes something is a Conflict. names label the catalogs in
// conflicts (locations); the catalogs are not changed.
func Merge(cats []*Catalog, names []string) (*Catalog, []Conflict) {
	srcs := make([]Source, len(cats))
	for i := range srcs {
		if i < len(names) {
			srcs[i].Location = names[i]
		}
	}
	c, conflicts, _ := merge(cats, srcs)
	return c, conflicts
}

// merge also returns, per edition id, the index of the catalog it came
// from.
func merge(cats []*Catalog, srcs []Source) (*Catalog, []Conflict, map[string]int) {
	out := &Catalog{APIVersion: APIVersion}
	at := map[string]int{}   // id -> index in out.Editions
	from := map[string]int{} // id -> index in cats
	var conflicts []Conflict
	for ci, c := range cats {
		for _, e := range c.Clone().Editions {
			i, seen := at[e.ID]
			if !seen {
				at[e.ID] = len(out.Editions)
				from[e.ID] = ci
				out.Editions = append(out.Editions, e)
				continue
			}
			if fields := differingFields(out.Editions[i], e); len(fields) > 0 {
				conflicts = append(conflicts, Conflict{ID: e.ID, Winner: srcs[ci].Location, Loser: srcs[from[e.ID]].Location, Fields: fields})
			}
			out.Editions[i] = e
			from[e.ID] = ci
		}
	}
	return out, conflicts, from
}

// differingFields names the fields of a and b that differ, by JSON name.
func differingFields(a, b Edition) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	t := va.Type()
	var out []string
	for i := range t.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, jsonName(t.Field(i)))
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if n == "" {
		return f.Name
	}
	return n
}
