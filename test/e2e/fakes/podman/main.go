// Command podman is the strict podman fake of test/fakes for the end-to-end live system; `podman run IMAGE bootc install to-filesystem` also installs a real boot loader when UAI_SIM_REAL_BOOTLOADER is set.
package main

import (
	"os"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

func main() {
	os.Exit(sim.MainWithRealBootloader("podman", os.Args[1:], sim.DefaultEnv()))
}
