package answers

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

// Schema returns the JSON Schema (draft 2020-12) of answer file v1, for
// editors that validate TOML against JSON Schema. It is generated from the
// same field table the strict decoder uses; docs/answers.schema.json is
// this output and a test keeps the two equal.
func Schema() []byte {
	var defs jsonschema.Defs
	top := objectSchema(&defs, answersObject)
	root := ordered{
		{"$schema", jsonschema.Draft},
		{"$id", "https://github.com/universal-atomic-installer/uai/blob/main/docs/answers.schema.json"},
		{"title", "uai answer file, version 1"},
	}
	root = append(root, top[1:4]...) // description, type, additionalProperties
	root = append(root, member{"required", []string{"version"}}, top[4], member{"$defs", defs.Object()})
	out, err := jsonschema.Indent(root)
	if err != nil {
		panic(err) // the schema is built from constants; failing is a bug
	}
	return out
}

// ref returns the reference to o's definition, adding it to defs first.
func ref(defs *jsonschema.Defs, o *object) string {
	return defs.Ref(o.name, func() ordered { return objectSchema(defs, o) })
}

func objectSchema(defs *jsonschema.Defs, o *object) ordered {
	props := ordered{}
	for _, f := range o.fields {
		props = append(props, member{f.name, fieldSchema(defs, f)})
	}
	return ordered{
		{"title", o.title},
		{"description", o.doc},
		{"type", "object"},
		{"additionalProperties", false},
		{"properties", props},
	}
}

func describe(f field) string {
	d := f.doc
	if f.def != "" {
		d += " Default: " + f.def + "."
	}
	if f.secret {
		d += " A secret: never shown in events, logs or exports."
	}
	return d
}

func fieldSchema(defs *jsonschema.Defs, f field) ordered {
	s := ordered{{"description", describe(f)}}
	switch f.kind {
	case kindString:
		s = append(s, stringSchema(f)...)
	case kindBool:
		s = append(s, member{"type", "boolean"})
	case kindInt:
		s = append(s, member{"type", "integer"})
		if f.min == f.max {
			s = append(s, member{"const", f.min})
		} else {
			s = append(s, member{"minimum", f.min}, member{"maximum", f.max})
		}
	case kindStringList:
		s = append(s, member{"type", "array"}, member{"items", stringSchema(f)})
	case kindStringMap:
		s = append(s, member{"type", "object"}, member{"additionalProperties", ordered{{"type", "string"}}})
	case kindObject:
		s = append(s, member{"$ref", ref(defs, f.obj)})
	case kindObjectList:
		s = append(s, member{"type", "array"}, member{"items", ordered{{"$ref", ref(defs, f.obj)}}})
	}
	return s
}

func stringSchema(f field) ordered {
	s := ordered{{"type", "string"}}
	if len(f.enum) > 0 {
		s = append(s, member{"enum", f.enum})
	}
	if f.pattern != "" {
		s = append(s, member{"pattern", f.pattern})
	}
	if f.maxLen > 0 {
		s = append(s, member{"maxLength", f.maxLen})
	}
	return s
}

// Example returns docs/answers.example.toml: every key of the format with
// its meaning as a comment, the optional and alternative ones commented
// out. It is valid as it stands (a test checks), so it is also a template.
func Example() []byte {
	var b strings.Builder
	b.WriteString(`# uai answer file, version 1: every key, with what it means.
# Keys commented out are optional, or alternatives to the key above them.
# Reference: docs/answers.md; JSON Schema: docs/answers.schema.json.
# This file is generated (go test ./installer/answers/ -update) and checked
# by the tests, so it is always current.

`)
	writeExample(&b, answersObject, "", false)
	b.WriteString(`
# Per-host overrides: a fleet ships one file. An entry applies to a machine
# that matches every match key it gives (mac, serial, product); its tables
# override the ones above, key by key, in the order the entries are written.
[[hosts]]
`)
	for _, f := range hostMatchKeys {
		writeKey(&b, f, f.example, f.commented)
	}
	b.WriteString(`[hosts.system]
hostname = "lab-node-07"
[hosts.disk]
serial = "S5GXNX0R654321"
`)
	return []byte(b.String())
}

func writeExample(b *strings.Builder, o *object, header string, list bool) {
	if header != "" {
		b.WriteString("\n")
		comment(b, o.doc)
		if list {
			fmt.Fprintf(b, "[[%s]]\n", header)
		} else {
			fmt.Fprintf(b, "[%s]\n", header)
		}
	}
	for _, f := range o.fields {
		if f.kind == kindObject || f.kind == kindObjectList || f.example == nil {
			continue
		}
		comment(b, describe(f))
		writeKey(b, f, f.example, f.commented)
	}
	for _, f := range o.fields {
		switch {
		case f.name == "hosts":
		case f.kind == kindObject:
			writeExample(b, f.obj, join(header, f.name), false)
		case f.kind == kindObjectList:
			writeExample(b, f.obj, join(header, f.name), true)
		}
	}
}

func writeKey(b *strings.Builder, f field, v any, commented bool) {
	if commented {
		b.WriteString("# ")
	}
	fmt.Fprintf(b, "%s = %s\n", f.name, tomlValue(v))
}

// comment writes text as "# " lines of at most 78 columns.
func comment(b *strings.Builder, text string) {
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 78 && line != "#" {
			b.WriteString(line + "\n")
			line = "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// FieldsMarkdown renders the field reference tables of docs/answers.md.
func FieldsMarkdown() string {
	var b strings.Builder
	objs := []*object{answersObject}
	for i := 0; i < len(objs); i++ {
		o := objs[i]
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", o.title, o.doc)
		b.WriteString("| key | type | default | meaning |\n| --- | --- | --- | --- |\n")
		for _, f := range o.fields {
			def := f.def
			if def == "" {
				def = "—"
			}
			doc := f.doc
			if f.secret {
				doc += " **A secret**: never shown in events, logs or exports."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.name, typeName(f), def, strings.ReplaceAll(doc, "|", `\|`))
			if f.obj != nil && f.obj != hostObject {
				objs = append(objs, f.obj)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "### %s\n\n%s\n\n", hostObject.title, hostObject.doc)
	b.WriteString("| key | type | meaning |\n| --- | --- | --- |\n")
	for _, f := range hostMatchKeys {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.name, typeName(f), f.doc)
	}
	b.WriteString("| any top-level table or key except `version` and `hosts` | as above | overrides the file's value for this machine |\n\n")
	return b.String()
}

func typeName(f field) string {
	enum := ""
	if len(f.enum) > 0 {
		enum = ": " + strings.Join(f.enum, ", ")
	}
	switch f.kind {
	case kindString:
		return "string" + enum
	case kindBool:
		return "boolean"
	case kindInt:
		if f.min == f.max {
			return fmt.Sprintf("integer `%d`", f.min)
		}
		return fmt.Sprintf("integer %d..%d", f.min, f.max)
	case kindStringList:
		return "array of strings" + enum
	case kindStringMap:
		return "table of strings"
	case kindObject:
		return "table " + f.obj.title
	case kindObjectList:
		return "array of tables " + f.obj.title
	}
	return "?"
}
