package catalog

import (
	_ "embed"
	"slices"
)

//go:embed default.json
var defaultJSON []byte

// embedded is parsed once; Embedded hands out copies.
var embedded *Catalog

func init() {
	c, rep := Parse(defaultJSON)
	if !rep.OK() {
		// The file is part of the source tree and a test parses it, so this
		// only fires for a build that skipped the tests.
		panic("catalog: the embedded default.json is invalid (a build bug):\n" + rep.Error())
	}
	embedded = c
}

// Embedded returns the default catalog compiled into uai, which works
// offline. Each call returns a fresh copy the caller may change.
func Embedded() *Catalog { return embedded.Clone() }

// EmbeddedJSON returns a copy of the default catalog's JSON, as shipped.
func EmbeddedJSON() []byte { return slices.Clone(defaultJSON) }
