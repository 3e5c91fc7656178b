package catalog

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, always returns a report, returns a catalog
// exactly when the report is OK, points every problem into the document, and
// an accepted catalog survives json.Marshal and Parse unchanged (what the
// CLI's --json output and a re-read of it rely on). Seeds are in
// testdata/fuzz/FuzzParse; the embedded catalog and the test fixture are
// added here.
func FuzzParse(f *testing.F) {
	f.Add(EmbeddedJSON())
	f.Add(mustJSON(f, validDoc()))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, rep := Parse(data)
		if rep == nil {
			t.Fatal("nil report")
		}
		if rep.OK() != (c != nil) {
			t.Fatalf("OK=%v but catalog=%v", rep.OK(), c != nil)
		}
		for _, p := range rep.Problems {
			if !strings.HasPrefix(p.Path, "$") || p.Message == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if !rep.OK() {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal an accepted catalog: %v", err)
		}
		c2, rep2 := Parse(out)
		if !rep2.OK() {
			t.Fatalf("the marshalled catalog does not parse:\n%s\n%s", rep2.Error(), out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the catalog:\n%+v\n%+v", c, c2)
		}
	})
}
