// Package bootc builds the bootc and podman command lines uai hands an install to, and reads back the deployment bootc wrote.
package bootc

import "github.com/universal-atomic-installer/uai/installer/host"

// Everything here is pure (argv in, argv out; bytes in, values out) except
// FindDeployment, which only reads a directory tree. The facts encoded here
// (flag names, value enums, the documented podman invocation, the ostree
// origin schemes) follow bootc v1.16.9 and ostree-ext; the simulator in the
// sim sub-package is held to the same facts by its tests.

// Install methods, the second word of `bootc install`.
const (
	MethodToFilesystem = "to-filesystem"
	MethodToDisk       = "to-disk"
)

// Transport names as bootc's status JSON and ostree origins spell them
// (containers-image-proxy's Transport). "docker://" is an alias of
// TransportRegistry.
const (
	TransportRegistry          = "registry"
	TransportOCI               = "oci"
	TransportOCIArchive        = "oci-archive"
	TransportDockerArchive     = "docker-archive"
	TransportContainersStorage = "containers-storage"
	TransportDir               = "dir"
	TransportDockerDaemon      = "docker-daemon"
)

// transports is every transport containers-image-proxy parses, in the
// order its Transport enum declares them.
var transports = []string{
	TransportRegistry, TransportOCI, TransportOCIArchive, TransportDockerArchive,
	TransportContainersStorage, TransportDir, TransportDockerDaemon,
}

// BootcCommand is bootc run directly on the live system (the "host
// runner"); args come from InstallArgs.
func BootcCommand(args []string) host.Command {
	return host.Command{Tool: host.Bootc, Args: append([]string(nil), args...)}
}

// PodmanCommand is bootc run from inside the image being installed, the
// invocation bootc documents (see PodmanRunArgs).
func PodmanCommand(p PodmanRun, bootcArgs []string) host.Command {
	return host.Command{Tool: host.Podman, Args: PodmanRunArgs(p, bootcArgs)}
}
