// Command eandarn-batch is the headless batch job of eandarn: it reads a run
// file (HDF5, or a folder of .npy files), adds Gaussian noise of a given std
// to the body-surface potentials with a given seed, reconstructs the
// heart-surface potentials with one method chosen by name, and writes a
// result file atomically (temporary name + rename) with the reconstruction,
// the metrics against the truth when the run file has one, the chosen
// parameters and curves, the loss history, timings, the full configuration,
// the version and the seed. It prints one JSON line on stdout; logs go to
// stderr.
//
// Exit status: 0 success, 2 bad input or usage (nothing written, an existing
// output untouched), 1 internal failure, 3 interrupted by SIGTERM/SIGINT
// (a PINN method checkpointed first; -resume continues).
//
// With -sweep spec.toml it runs, lists or prints the sbatch script of the
// tasks of a sweep (sweep.go).
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/cmd/internal/gpu"
	"github.com/eandarn/eandarn/kernels"
)

const prog = "eandarn-batch"

var program = cli.Program[*config]{
	Name:     prog,
	Parse:    parseArgs,
	LogLevel: func(c *config) string { return c.LogLevel },
	Progress: func(c *config) time.Duration { return c.progress },
	Run:      func(ctx context.Context, c *config, log *slog.Logger) (any, error) { return execute(ctx, c, log) },
}

func main() {
	// On a node with a usable GPU the CPU build continues as the CUDA build
	// (bin/eandarn-batch-cuda, same arguments) before doing anything else;
	// elsewhere, and in the CUDA build, this returns at once.
	if err := gpu.Handoff(os.Args[1:], kernels.Registered("cuda")); err != nil {
		os.Exit(cli.Report(os.Stderr, prog, err))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, callable in-process from tests: it parses args,
// runs the job and returns the exit status. SIGINT and SIGTERM cancel the
// context handed to the method, which stops (a PINN method checkpoints
// first); the result file is then not written.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer cli.Recover(stderr, prog, &code)
	if isSweep(args) {
		return runSweep(args, stdout, stderr) // sweep.go
	}
	return program.Main(args, stdout, stderr)
}
