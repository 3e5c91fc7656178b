// Command bootc is the strict bootc fake of test/fakes for the end-to-end live system, which also installs a real boot loader when UAI_SIM_REAL_BOOTLOADER is set.
package main

import (
	"os"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

func main() {
	os.Exit(sim.MainWithRealBootloader("bootc", os.Args[1:], sim.DefaultEnv()))
}
