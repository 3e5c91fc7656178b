package catalog

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestWriteTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, Embedded()); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/table.golden", b.Bytes())
}

func TestWriteTableOrderAndNoMutation(t *testing.T) {
	c := &Catalog{APIVersion: APIVersion, Editions: []Edition{
		{ID: "z", Name: "Z", Category: "zebra", Maturity: "sandbox", Image: "h.io/z:1"},
		{ID: "b", Name: "B", Category: "gaming", Maturity: "sandbox", Image: "h.io/b:1"},
		{ID: "a", Name: "A", Category: "gaming", Maturity: "sandbox", Image: "h.io/a:1"},
		{ID: "c", Name: "C", Category: "desktop", Maturity: "graduated", Image: "h.io/c:1"},
		{ID: "y", Name: "Y", Category: "aardvark", Maturity: "sandbox", Image: "h.io/y:1"},
	}}
	var b bytes.Buffer
	if err := WriteTable(&b, c); err != nil {
		t.Fatal(err)
	}
	// Known categories in display order, then unknown ones alphabetically;
	// ids sorted within a category.
	want := "" +
		"ID  NAME  CATEGORY  MATURITY   IMAGE\n" +
		"c   C     desktop   graduated  h.io/c:1\n" +
		"a   A     gaming    sandbox    h.io/a:1\n" +
		"b   B     gaming    sandbox    h.io/b:1\n" +
		"y   Y     aardvark  sandbox    h.io/y:1\n" +
		"z   Z     zebra     sandbox    h.io/z:1\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
	if c.Editions[0].ID != "z" {
		t.Error("WriteTable reordered the caller's catalog")
	}
	if got := c.Categories(); !slices.Equal(got, []string{"desktop", "gaming", "aardvark", "zebra"}) {
		t.Errorf("Categories() = %v", got)
	}
}

func TestEmbeddedCategories(t *testing.T) {
	want := []string{"desktop", "server", "iot", "container-host", "gaming"}
	if got := Embedded().Categories(); !slices.Equal(got, want) {
		t.Errorf("Categories() = %v, want %v", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTableReportsWriteErrors(t *testing.T) {
	err := WriteTable(failWriter{}, Embedded())
	if err == nil || err.Error() != "write catalog table: disk full" {
		t.Fatalf("err = %v", err)
	}
}
