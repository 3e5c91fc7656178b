package catalog

import (
	"fmt"
	"strings"

	"github.com/universal-atomic-installer/uai/catalog/jsonschema"
)

// ordered and member are the schema generator's JSON object, which keeps its
// members in the order written so that the schema reads top-down.
type (
	ordered = jsonschema.Object
	member  = jsonschema.Member
)

// encodeIndented is the one canonical pretty form used for the schema, the
// example and the embedded catalog.
func encodeIndented(v any) ([]byte, error) { return jsonschema.Indent(v) }

// Schema returns the JSON Schema (draft 2020-12) of catalog v1, generated
// from the same field table the strict decoder uses. docs/catalog.schema.json
// is this output; a test keeps the two equal.
func Schema() []byte {
	var defs jsonschema.Defs
	root := ordered{
		{"$schema", jsonschema.Draft},
	}
	root = append(root, objectSchema(&defs, catalogObject)...)
	root = append(root, member{"$defs", defs.Object()})
	out, err := encodeIndented(root)
	if err != nil {
		// The input is a constant table; failing here is a programming error.
		panic(fmt.Sprintf("catalog: generating the schema: %v", err))
	}
	return out
}

// ref returns the reference to o's definition, adding it to defs first.
func ref(defs *jsonschema.Defs, o *object) string {
	return defs.Ref(o.name, func() ordered { return objectSchema(defs, o) })
}

func objectSchema(defs *jsonschema.Defs, o *object) ordered {
	props := ordered{}
	var required []string
	for _, f := range o.fields {
		props = append(props, member{f.name, fieldSchema(defs, f)})
		if f.required {
			required = append(required, f.name)
		}
	}
	s := ordered{
		{"title", o.title},
		{"description", o.doc},
		{"type", "object"},
		{"additionalProperties", false},
		{"required", required},
		{"properties", props},
	}
	return append(s, o.rules...)
}

func fieldSchema(defs *jsonschema.Defs, f field) ordered {
	s := ordered{{"description", f.doc}}
	switch f.kind {
	case kindString:
		s = append(s, stringSchema(f)...)
	case kindInt:
		s = append(s, member{"type", "integer"}, member{"minimum", f.min}, member{"maximum", f.max})
	case kindStringList:
		s = append(s, member{"type", "array"})
		if f.minItems > 0 {
			s = append(s, member{"minItems", f.minItems})
		}
		if f.unique {
			s = append(s, member{"uniqueItems", true})
		}
		s = append(s, member{"items", stringSchema(f)})
	case kindObject:
		s = append(s, member{"$ref", ref(defs, f.obj)})
	case kindObjectList:
		s = append(s, member{"type", "array"})
		if f.minItems > 0 {
			s = append(s, member{"minItems", f.minItems})
		}
		s = append(s, member{"items", ordered{{"$ref", ref(defs, f.obj)}}})
	}
	return s
}

func stringSchema(f field) ordered {
	s := ordered{{"type", "string"}}
	if f.constant != "" {
		s = append(s, member{"const", f.constant})
	}
	if len(f.enum) > 0 {
		s = append(s, member{"enum", f.enum})
	}
	if f.minLen > 0 {
		s = append(s, member{"minLength", f.minLen})
	}
	if f.maxLen > 0 {
		s = append(s, member{"maxLength", f.maxLen})
	}
	if f.format != "" {
		s = append(s, member{"format", f.format})
	}
	if f.pattern != "" {
		s = append(s, member{"pattern", f.pattern})
	}
	if f.notPattern != "" {
		s = append(s, member{"not", ordered{{"pattern", f.notPattern}}})
	}
	return s
}

// fieldsMarkdown renders the field table as the reference section of
// docs/catalog.md, so the prose documentation lists every field too.
func fieldsMarkdown() string {
	var b strings.Builder
	for _, o := range []*object{catalogObject, editionObject, signatureObject} {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", o.title, o.doc)
		b.WriteString("| field | type | required | meaning |\n| --- | --- | --- | --- |\n")
		for _, f := range o.fields {
			req := "no"
			if f.required {
				req = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.name, typeName(f), req, strings.ReplaceAll(f.doc, "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func typeName(f field) string {
	enum := ""
	if len(f.enum) > 0 {
		enum = " (" + strings.Join(f.enum, ", ") + ")"
	}
	switch f.kind {
	case kindString:
		if f.constant != "" {
			return fmt.Sprintf("string `%s`", f.constant)
		}
		return "string" + enum
	case kindInt:
		return fmt.Sprintf("integer %d..%d", f.min, f.max)
	case kindStringList:
		return "list of strings" + enum
	case kindObject:
		return f.obj.title + " object"
	case kindObjectList:
		return "list of " + f.obj.title + " objects"
	}
	return "?"
}
