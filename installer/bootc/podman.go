package bootc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// PodmanRun is `podman run` of the image being installed, so the image's
// own bootc (its flags, install config, SELinux policy and bootupd) does
// the install.
type PodmanRun struct {
	// Image is the image to run, a fully qualified ref (ValidateImageRef).
	Image string
	// Binds are extra "host:container" bind mounts; for to-filesystem the
	// mounted target must be one of them, at the same path on both sides.
	Binds []string
}

// The privileges bootc documents for `bootc install` under podman
// (bootc.md §1.4). The order is fixed so plans and goldens are stable.
var podmanPrivileges = []string{
	"--rm", "--privileged", "--pid=host", "--ipc=host",
	"-v", "/dev:/dev",
	"-v", "/var/lib/containers:/var/lib/containers",
}

const podmanLabelOpt = "label=type:unconfined_t"

// PodmanRunArgs returns the argv after "podman":
//
//	run --rm --privileged --pid=host --ipc=host -v /dev:/dev
//	    -v /var/lib/containers:/var/lib/containers [-v BIND ...]
//	    --security-opt label=type:unconfined_t IMAGE bootc BOOTC-ARGS...
//
// It does not validate; call Validate first when the values come from a
// user.
func PodmanRunArgs(p PodmanRun, bootcArgs []string) []string {
	args := append([]string{"run"}, podmanPrivileges...)
	for _, b := range p.Binds {
		args = append(args, "-v", b)
	}
	args = append(args, "--security-opt", podmanLabelOpt, p.Image, "bootc")
	return append(args, bootcArgs...)
}

// Validate reports every problem with the image ref and the binds.
func (p PodmanRun) Validate() error {
	var errs []error
	if err := ValidateImageRef(p.Image); err != nil {
		errs = append(errs, fmt.Errorf("podman run image: %w", err))
	}
	for _, b := range p.Binds {
		if err := validateBind(b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func validateBind(b string) error {
	src, dst, ok := strings.Cut(b, ":")
	if !ok || strings.Contains(dst, ":") {
		return fmt.Errorf("podman bind %q is not HOST:CONTAINER; give two absolute paths joined by one ':'", b)
	}
	for _, p := range []string{src, dst} {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return fmt.Errorf("podman bind %q: %q is not a clean absolute path; write it as %q", b, p, filepath.Clean("/"+p))
		}
		if strings.ContainsAny(p, " \t\n\x00"+shellMeta) {
			return fmt.Errorf("podman bind %q: %q contains whitespace or a shell metacharacter; mount the target at a plain path such as /mnt/target", b, p)
		}
	}
	return nil
}

// SameBind is the bind mount bootc's to-filesystem needs: the target at
// the same path inside the container, so the paths bootc prints and
// records are the host's.
func SameBind(path string) string { return path + ":" + path }
