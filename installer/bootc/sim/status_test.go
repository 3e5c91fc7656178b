package sim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatusNotBooted(t *testing.T) {
	env := fakeEnv(t, nil)
	r := runSim("bootc", env, "status", "--format=json", "--format-version=1")
	want := `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"bootOrder":"default","image":null},"status":{"booted":null,"readOnly":false,"rollback":null,"rollbackQueued":false,"staged":null,"type":null,"usrOverlay":null}}`
	if r.code != 0 || r.stdout != want {
		t.Errorf("got %s\nwant stdout %s", r, want)
	}
	// The reference's spec-v1-null fixture is what older releases print.
	env.Version = "1.1.0"
	r = runSim("bootc", env, "status", "--format=json")
	want = `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"bootOrder":"default","image":null},"status":{"booted":null,"rollback":null,"rollbackQueued":false,"staged":null,"type":null}}`
	if r.stdout != want {
		t.Errorf("1.1.0: %s\nwant %s", r.stdout, want)
	}
	var fixture, got map[string]any
	_ = json.Unmarshal([]byte(`{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"image":null,"bootOrder":"default"},"status":{"staged":null,"booted":null,"rollback":null,"rollbackQueued":false,"type":null}}`), &fixture)
	_ = json.Unmarshal([]byte(r.stdout), &got)
	if b1, _ := json.Marshal(fixture); string(b1) != func() string { b, _ := json.Marshal(got); return string(b) }() {
		t.Error("1.1.0 output differs from the spec-v1-null fixture")
	}

	env.Version = DefaultBootcVersion
	if r := runSim("bootc", env, "status"); !strings.HasPrefix(r.stdout, "apiVersion: org.containers.bootc/v1\nkind: BootcHost\nmetadata:\n  name: host\nspec:\n  image: null\n  bootOrder: default\nstatus:\n  staged: null\n") {
		t.Errorf("default (YAML, not a TTY): %s", r)
	}
	if r := runSim("bootc", env, "status", "--format", "humanreadable"); r.stdout != "System is not deployed via bootc.\n" {
		t.Errorf("humanreadable: %s", r)
	}
	if r := runSim("bootc", env, "status", "--json"); !strings.HasPrefix(r.stdout, `{"apiVersion"`) {
		t.Errorf("hidden --json: %s", r)
	}
	expect(t, runSim("bootc", env, "status", "--format-version=2"), 1, "error: Status: Unsupported format version: 2\n")
}

func TestStatusBooted(t *testing.T) {
	env := fakeEnv(t, nil)
	env.StateDir = t.TempDir()
	if err := SeedBootedHost(env.StateDir, testImage); err != nil {
		t.Fatal(err)
	}
	r := runSim("bootc", env, "status", "--format=json", "--format-version=1")
	if r.code != 0 {
		t.Fatal(r)
	}
	golden(t, "status-booted.json", strings.ReplaceAll(r.stdout, `"architecture":"`+ociArch()+`"`, `"architecture":"ARCH"`))
	var host struct {
		Spec struct {
			Image *struct{ Image, Transport string }
		}
		Status struct {
			Booted *struct {
				Image struct {
					Image        struct{ Image, Transport string }
					ImageDigest  string
					Architecture string
					Version      string
				}
				Ostree struct {
					Stateroot, Checksum string
					DeploySerial        int
				}
			}
			Staged *json.RawMessage
			Type   string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &host); err != nil {
		t.Fatal(err)
	}
	b := host.Status.Booted
	if host.Spec.Image == nil || host.Spec.Image.Image != testImage || b == nil || b.Image.Image.Image != testImage ||
		b.Image.ImageDigest != ImageDigest(testImage) || b.Ostree.Checksum != CommitChecksum(testImage) ||
		host.Status.Type != "bootcHost" || b.Image.Version != "42" || host.Status.Staged != nil {
		t.Errorf("status: %+v", host)
	}
	golden(t, "status-booted.yaml", strings.ReplaceAll(runSim("bootc", env, "status", "--format=yaml").stdout, "architecture: "+ociArch()+"\n", "architecture: ARCH\n"))
	human := runSim("bootc", env, "status", "--format=humanreadable", "-v").stdout
	if !strings.HasPrefix(human, "● Booted image: quay.io/fedora/fedora-bootc:42\n        Digest: sha256:") || !strings.Contains(human, "Commit: "+CommitChecksum(testImage)) {
		t.Errorf("humanreadable:\n%s", human)
	}
	// Inside a container bootc cannot see the host's deployments.
	env.InContainer = true
	if r := runSim("bootc", env, "status", "--format=json"); !strings.Contains(r.stdout, `"booted":null`) {
		t.Errorf("in container: %s", r.stdout)
	}
}

func TestYAMLScalars(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "": "''", "null": "'null'", "true": "'true'", "42": "'42'", "1.5": "'1.5'",
		"-x": "'-x'", "a: b": "'a: b'", "it's": "it's", "#c": "'#c'", "sha256:abc": "sha256:abc",
	} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
}
