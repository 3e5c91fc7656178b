// Command podman is a strict fake of podman for tests that run uai as a real process; `podman run IMAGE bootc ...` runs the bootc simulator in-process.
package main

import (
	"os"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

func main() {
	os.Exit(sim.Main("podman", os.Args[1:], sim.DefaultEnv()))
}
