package bootc

import (
	"reflect"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
)

func TestPodmanRunArgsIsTheDocumentedInvocation(t *testing.T) {
	bootcArgs := []string{"install", "to-filesystem", "--target-imgref=quay.io/fedora/fedora-bootc:42", "/mnt/target"}
	got := PodmanRunArgs(PodmanRun{Image: "quay.io/fedora/fedora-bootc:42", Binds: []string{SameBind("/mnt/target")}}, bootcArgs)
	want := []string{
		"run", "--rm", "--privileged", "--pid=host", "--ipc=host",
		"-v", "/dev:/dev", "-v", "/var/lib/containers:/var/lib/containers",
		"-v", "/mnt/target:/mnt/target",
		"--security-opt", "label=type:unconfined_t",
		"quay.io/fedora/fedora-bootc:42", "bootc",
		"install", "to-filesystem", "--target-imgref=quay.io/fedora/fedora-bootc:42", "/mnt/target",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PodmanRunArgs =\n%q\nwant\n%q", got, want)
	}
	golden(t, "podman-run-to-filesystem.golden", strings.Join(got, "\n")+"\n")

	// The caller's slice must not be aliased into the result.
	bootcArgs[0] = "changed"
	if got[len(got)-4] != "install" {
		t.Error("PodmanRunArgs kept a reference to the caller's bootc args")
	}
}

func TestPodmanRunArgsWithoutBinds(t *testing.T) {
	got := PodmanRunArgs(PodmanRun{Image: "quay.io/x:1"}, []string{"install", "to-disk", "--wipe", "/dev/vda"})
	want := "run --rm --privileged --pid=host --ipc=host -v /dev:/dev -v /var/lib/containers:/var/lib/containers --security-opt label=type:unconfined_t quay.io/x:1 bootc install to-disk --wipe /dev/vda"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestCommands(t *testing.T) {
	c := PodmanCommand(PodmanRun{Image: "quay.io/x:1"}, []string{"--version"})
	if c.Tool != host.Podman || c.Args[len(c.Args)-1] != "--version" || c.Args[len(c.Args)-2] != "bootc" {
		t.Errorf("PodmanCommand = %+v", c)
	}
	in := []string{"install", "to-filesystem", "/mnt/t"}
	b := BootcCommand(in)
	in[0] = "x"
	if b.Tool != host.Bootc || b.Args[0] != "install" {
		t.Errorf("BootcCommand = %+v (must copy its args)", b)
	}
}

func TestPodmanRunValidate(t *testing.T) {
	if err := (PodmanRun{Image: "quay.io/x:1", Binds: []string{"/mnt/t:/mnt/t"}}).Validate(); err != nil {
		t.Fatalf("valid run: %v", err)
	}
	for _, tc := range []struct {
		run  PodmanRun
		want string
	}{
		{PodmanRun{Image: "x:1"}, "podman run image: image ref \"x:1\" is not fully qualified"},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"/mnt/t"}}, "is not HOST:CONTAINER"},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"/a:/b:ro"}}, "is not HOST:CONTAINER"},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"mnt:/mnt"}}, `"mnt" is not a clean absolute path`},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"/mnt/t/:/mnt/t"}}, `"/mnt/t/" is not a clean absolute path; write it as "/mnt/t"`},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"/mnt/a b:/mnt/a b"}}, "whitespace or a shell metacharacter"},
		{PodmanRun{Image: "quay.io/x:1", Binds: []string{"/mnt/$t:/mnt/$t"}}, "whitespace or a shell metacharacter"},
	} {
		err := tc.run.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.run, err, tc.want)
		}
	}
}
