package test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/universal-atomic-installer/uai"

type goPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	var pkgs []goPackage
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func rel(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }

func under(p, room string) bool { return p == room || strings.HasPrefix(p, room+"/") }

// The dependency direction of DESIGN.md: cmd -> ui -> installer ->
// {partition, catalog, installer/bootc, installer/host}; partition, catalog
// and iso import no other room; only installer/host runs programs; ui never
// touches disks.
func TestDependencyDirection(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 8 {
		t.Fatalf("only %d packages listed; the rule would check nothing", len(pkgs))
	}
	for _, p := range pkgs {
		me := rel(p.ImportPath)
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, module) {
				continue
			}
			d := rel(dep)
			for _, leaf := range []string{"partition", "catalog", "iso"} {
				if under(me, leaf) && !under(d, leaf) {
					t.Errorf("%s imports %s: %s must import no other room", me, d, leaf)
				}
			}
			if under(me, "installer") && (under(d, "ui") || under(d, "cmd")) {
				t.Errorf("%s imports %s: the engine must know nothing of front-ends", me, d)
			}
			if under(d, "test") && !under(me, "test") {
				t.Errorf("%s imports %s: production code must not depend on tests", me, d)
			}
		}
		for _, imp := range p.Imports {
			if imp == "os/exec" && me != "installer/host" && !under(me, "test") {
				t.Errorf("%s imports os/exec: only installer/host runs programs", me)
			}
			if under(me, "ui") && imp == module+"/installer/host" {
				t.Errorf("%s imports installer/host: ui never runs programs", me)
			}
			if under(me, "ui") && strings.HasPrefix(imp, "github.com/diskfs/go-diskfs") {
				t.Errorf("%s imports %s: ui never touches disks", me, imp)
			}
		}
	}
}
