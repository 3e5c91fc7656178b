package partition

import "os"

// crashEnvVar is empty in every real build. Test builds of uai set it at
// link time (go build -ldflags "-X <module>/partition.crashEnvVar=
// UAI_TEST_CRASH_AT"), which makes Checkpoint kill the process at the
// point that variable names. Nothing at run time can set it, so a release
// binary never reads the environment here.
var crashEnvVar string

// Checkpoint marks a point where a disk write became durable: Apply,
// RestoreTable and the engine call it after each step that changes a
// disk. In a test build it kills the process there with SIGKILL (no
// deferred cleanup runs, as with a power cut or an OOM kill), to prove
// that the next run detects what was left and recovers; otherwise it
// does nothing.
func Checkpoint(point string) {
	if crashEnvVar == "" || os.Getenv(crashEnvVar) != point {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill() // SIGKILL
	}
	select {} // the signal is on its way
}
