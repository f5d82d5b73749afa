// Command eandarn-synth makes a synthetic inverse-ECG dataset the way the
// paper did (its data are not public): heart and torso geometry -> transfer
// matrix R by the boundary element method -> Aliev-Panfilov simulation of
// the heart-surface potentials u, v from a pacing site -> clean body-surface
// potentials Y = R U. It writes one complete run file (geometry, R, clean
// BSPM, time, truth u and v, provenance) atomically. Noise is not added here:
// eandarn-batch adds it (-noise σ -seed N), so one dataset serves a noise
// sweep. -forward R replaces the BEM by a transfer matrix of the user's
// (then the torso geometry is optional).
//
// With -cache DIR instead of -out, the file is DIR/<name>-<key>.h5, where
// key hashes every generation parameter, the meshes and the version; an
// existing, loadable file with that key is reused and not regenerated.
//
// Import mode (-bspm FILE -units U -rate HZ|-time FILE): a measured
// recording instead of a simulation. The heart and torso meshes, the lead
// list and the measured BSPM (optionally a truth) become a run file in one
// command, R computed by BEM or given by -forward (then without torso
// geometry if there is none); the frame times in ms are converted to AP
// units. -regions labels the heart nodes in both modes.
//
// Exit status: 0 success, 2 bad input or usage (nothing written), 1
// internal failure.
package main

import (
	"io"
	"os"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
)

const prog = "eandarn-synth"

var program = cli.Program[*config]{
	Name:     prog,
	Parse:    parseArgs,
	LogLevel: func(c *config) string { return c.LogLevel },
	Progress: func(c *config) time.Duration { return c.Progress },
	Run:      synthesize,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, callable in-process from tests; it returns the
// exit status. SIGINT and SIGTERM stop it before the file is renamed into
// place, so an interrupted run leaves nothing behind.
func run(args []string, stdout, stderr io.Writer) int {
	return program.Main(args, stdout, stderr)
}
