// Command bootc is a strict fake of bootc for tests that run uai as a real process; it is the simulator in installer/bootc/sim.
package main

import (
	"os"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

func main() {
	os.Exit(sim.Main("bootc", os.Args[1:], sim.DefaultEnv()))
}
