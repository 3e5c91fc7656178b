package catalog

import (
	"reflect"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	ed := func(id, image string) Edition {
		return Edition{ID: id, Name: id, Image: image, Arches: []string{"amd64"}}
	}
	a := &Catalog{APIVersion: APIVersion, Editions: []Edition{ed("one", "r.io/a/one:1"), ed("two", "r.io/a/two:1")}}
	b := &Catalog{APIVersion: APIVersion, Editions: []Edition{ed("two", "r.io/b/two:2"), ed("three", "r.io/b/three:1")}}
	same := &Catalog{APIVersion: APIVersion, Editions: []Edition{ed("one", "r.io/a/one:1")}}
	c := &Catalog{APIVersion: APIVersion, Editions: []Edition{{ID: "two", Name: "Two", Image: "r.io/c/two:3", Arches: []string{"arm64"}}}}

	type want struct {
		ids       string // merged ids in order
		images    string // merged images in order
		conflicts []string
	}
	for _, tc := range []struct {
		name  string
		cats  []*Catalog
		names []string
		want  want
	}{
		{"one catalog", []*Catalog{a}, []string{"A"}, want{"one two", "r.io/a/one:1 r.io/a/two:1", nil}},
		{"later wins in place", []*Catalog{a, b}, []string{"A", "B"}, want{"one two three", "r.io/a/one:1 r.io/b/two:2 r.io/b/three:1",
			[]string{"two B A image"}}},
		{"identical redefinition is no conflict", []*Catalog{a, same}, []string{"A", "S"}, want{"one two", "r.io/a/one:1 r.io/a/two:1", nil}},
		{"three catalogs, every conflict", []*Catalog{a, b, c}, []string{"A", "B", "C"}, want{"one two three", "r.io/a/one:1 r.io/c/two:3 r.io/b/three:1",
			[]string{"two B A image", "two C B name,image,arches"}}},
		{"nothing", nil, nil, want{"", "", nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Clone()
			m, conflicts := Merge(tc.cats, tc.names)
			var ids, images []string
			for _, e := range m.Editions {
				ids = append(ids, e.ID)
				images = append(images, e.Image)
			}
			if strings.Join(ids, " ") != tc.want.ids || strings.Join(images, " ") != tc.want.images {
				t.Errorf("merged %v %v; want %s / %s", ids, images, tc.want.ids, tc.want.images)
			}
			var got []string
			for _, c := range conflicts {
				got = append(got, c.ID+" "+c.Winner+" "+c.Loser+" "+strings.Join(c.Fields, ","))
			}
			if !reflect.DeepEqual(got, tc.want.conflicts) {
				t.Errorf("conflicts %q; want %q", got, tc.want.conflicts)
			}
			if m.APIVersion != APIVersion {
				t.Error("merged catalog has no apiVersion")
			}
			if !reflect.DeepEqual(a, before) {
				t.Error("Merge changed its input")
			}
		})
	}
	_, conflicts := Merge([]*Catalog{a, b}, []string{"https://a.example/c.json", "oci://r.io/b:1"})
	if s := conflicts[0].String(); s != "edition two from oci://r.io/b:1 replaces the one from https://a.example/c.json (image differ); later catalogs win, so reorder --catalog if the other one is meant" {
		t.Errorf("String() = %q", s)
	}
}

// TestMergeDoesNotAlias: changing the merged catalog changes no input.
func TestMergeDoesNotAlias(t *testing.T) {
	a := &Catalog{APIVersion: APIVersion, Editions: []Edition{{ID: "x", Arches: []string{"amd64"}}}}
	m, _ := Merge([]*Catalog{a}, []string{"A"})
	m.Editions[0].Arches[0] = "s390x"
	if a.Editions[0].Arches[0] != "amd64" {
		t.Error("the merged catalog shares slices with its input")
	}
}
