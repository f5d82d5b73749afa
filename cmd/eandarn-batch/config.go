package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/cmd/internal/gpu"
	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/pinn"
	"github.com/eandarn/eandarn/solver/reg"
)

// config is one batch job: every flag, validated. It is written to the
// result file as JSON ("config"), so a result names everything that made it.
// A sweep task is a config too: the sweep builds one argument list per task
// and calls parseArgs.
type config struct {
	In       string  `json:"in"`
	Out      string  `json:"out"`
	Method   string  `json:"method"`
	Noise    float64 `json:"noise"`
	Seed     uint64  `json:"seed"`
	Sigma    float64 `json:"sigma"`    // known noise std already in the BSPM; 0 = unknown
	Lambda   string  `json:"lambda"`   // "auto" or a positive number
	Select   string  `json:"select"`   // one of reg.Selectors
	LambdaS  float64 `json:"lambda_s"` // STRE spatial weight; 0 = by -select
	LambdaT  float64 `json:"lambda_t"` // STRE temporal weight; 0 = by -select
	Window   int     `json:"window"`   // STRE temporal half-window; 0 = by -select
	Device   string  `json:"device"`
	LogLevel string  `json:"log_level"`

	// Resume and Pinn (the PINN flags given, by name) apply to the PINN
	// methods only.
	Resume bool              `json:"resume,omitempty"`
	Pinn   map[string]string `json:"pinn,omitempty"`

	lambda float64     // Lambda parsed; 0 means "choose by Select"
	device gpu.Choice  // the device a PINN method runs on (resolved from Device)
	pinn   []*pinnFlag // the PINN flags, applied by pinnMethod
	given  []string    // names of the flags given on the command line

	progress time.Duration // -progress: how the job reports, not what it computes
	start    time.Time     // when the job started: -time-budget counts from it
}

// maxWeight bounds the regularization weights -lambda, -lambda-s and
// -lambda-t: the methods work with their squares, and 1e308² is +Inf (the
// bound of the run file's values, runfile's maxMagnitude, for the same
// reason).
const maxWeight = 1e150

// newFlagSet declares every flag on a fresh FlagSet bound to c, with the
// defaults a bare invocation gets.
func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.StringVar(&c.In, "in", "", "input run file: .h5, or a folder of .npy files (required)")
	fs.StringVar(&c.Out, "out", "", "result file (.h5) to write atomically; its folder must exist (required)")
	fs.StringVar(&c.Method, "method", "", "inverse method, one of: "+strings.Join(methodNames(), ", ")+" (required; -methods describes them)")
	fs.Float64Var(&c.Noise, "noise", 0.01, "std σ of the Gaussian noise added to the BSPM before solving (≥ 0; 0 = clean)")
	fs.Float64Var(&c.Sigma, "sigma", 0, "known std of the noise already in the BSPM (measured data), for the discrepancy principle; adds nothing (0 = unknown)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the noise (PCG) and of any randomized method")
	fs.StringVar(&c.Lambda, "lambda", "auto", "Tikhonov λ: a positive number, or auto to choose it by -select (the PINN methods weight their EP loss by -ep-lambda)")
	fs.StringVar(&c.Select, "select", reg.SelectGuarded, "how auto chooses λ: "+strings.Join(reg.Selectors, ", ")+" (guarded: GCV unless its reconstruction is far larger than the L-curve corner's, kept on exact data: a run file whose BSPM is R times the heart potential, -noise 0; discrepancy uses σ = √(sigma² + noise²))")
	fs.Float64Var(&c.LambdaS, "lambda-s", 0, "STRE spatial weight λs (> 0), or 0 to choose it by -select")
	fs.Float64Var(&c.LambdaT, "lambda-t", 0, "STRE temporal weight λt (> 0), or 0 to choose it by -select")
	fs.IntVar(&c.Window, "window", 0, "STRE temporal half-window w (≥ 1 frames), or 0 to choose it by -select")
	fs.StringVar(&c.Device, "device", "auto", "compute device of the PINN training: auto (a usable GPU, else the CPU, with the reason logged), cpu, or cuda (exit 2 without a usable GPU)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "stderr log level: debug, info, warn, error")
	cli.AddMemoryFlag(fs)
	cli.ProgressFlag(fs, &c.progress)
	addPinnFlags(fs, c)
	return fs
}

// parseArgs parses and validates args. help is true after -h (usage printed
// on stdout) or -methods (method list printed); err is a BadInput error for
// any usage problem. The output path is checked whole, with the input,
// before the job reads anything (execute: cli.CheckFiles), so that an
// output that is a link to the input is named as the input.
func parseArgs(args []string, stdout io.Writer) (c *config, help bool, err error) {
	c, help, err = parseFlags(args, stdout)
	if help || err != nil {
		return nil, help, err
	}
	if c.Out == "" {
		return nil, false, cli.BadInputf("no output path (-out)")
	}
	return c, false, nil
}

// parseFlags is parseArgs without the check that -out is given, for a
// sweep, which sets it per task and checks its tasks before it creates
// their folder.
func parseFlags(args []string, stdout io.Writer) (c *config, help bool, err error) {
	c = new(config)
	fs := newFlagSet(c)
	listMethods := fs.Bool("methods", false, "list the methods with one line each and exit")
	cli.SetUsage(fs, prog+" -in run.h5|DIR -out result.h5 -method M [flags]\n       "+sweepSynopsis)
	if help, err := cli.Parse(fs, args, stdout); help || err != nil {
		return nil, help, err
	}
	if *listMethods {
		printMethods(stdout)
		return nil, true, nil
	}
	fs.Visit(func(f *flag.Flag) { c.given = append(c.given, f.Name) })
	c.Pinn = pinnSettings(c.pinn)
	return c, false, c.validate()
}

// validate checks the flags that need no file: required ones, ranges, names.
// parseArgs checks the output path after it.
func (c *config) validate() error {
	switch {
	case c.In == "":
		return cli.BadInputf("no input (-in run.h5|DIR)")
	case c.Method == "":
		return cli.BadInputf("no method (-method %s)", strings.Join(methodNames(), "|"))
	case lookupMethod(c.Method) == nil:
		return cli.BadInputf("unknown method %q: want one of %s", c.Method, strings.Join(methodNames(), ", "))
	case math.IsNaN(c.Noise) || math.IsInf(c.Noise, 0) || c.Noise < 0:
		return cli.BadInputf("-noise %v: want a finite σ ≥ 0", c.Noise)
	case math.IsNaN(c.Sigma) || math.IsInf(c.Sigma, 0) || c.Sigma < 0:
		return cli.BadInputf("-sigma %v: want a finite σ ≥ 0", c.Sigma)
	case !slices.Contains(reg.Selectors, c.Select):
		return cli.BadInputf("-select %q: want one of %s", c.Select, strings.Join(reg.Selectors, ", "))
	case c.Select == reg.SelectDiscrepancy && c.Lambda == "auto" && c.noiseLevel() == 0:
		return cli.BadInputf("-select discrepancy needs the noise level: give -sigma (noise in the data) or -noise > 0")
	case !(c.LambdaS >= 0 && c.LambdaS <= maxWeight) || !(c.LambdaT >= 0 && c.LambdaT <= maxWeight) || c.Window < 0:
		return cli.BadInputf("-lambda-s %v, -lambda-t %v, -window %d: want weights in [0, %g] (0 = by -select; their squares must stay finite) and a window ≥ 0", c.LambdaS, c.LambdaT, c.Window, maxWeight)
	case !slices.Contains(gpu.Devices, c.Device) && !kernels.Registered(c.Device):
		return cli.BadInputf("-device %q: want one of %s", c.Device, strings.Join(gpu.Devices, ", "))
	}
	for _, name := range c.given {
		if owners := flagOwners(name); owners != nil && !slices.Contains(owners, c.Method) {
			return cli.BadInputf("-%s does not apply to %s; it applies to %s", name, c.Method, strings.Join(owners, ", "))
		}
	}
	if slices.Contains(pinn.Names, c.Method) {
		s, err := pinnOptionsOf(c)
		if err == nil {
			err = checkRunFlags(s)
		}
		if err != nil {
			return cli.BadInput(err)
		}
		// The network's size against the memory budget and the method's
		// own checks (pinn.New) too, so that a sweep refuses a task's PINN
		// settings before anything is created.
		if err := checkNetworkMemory(s.Config); err != nil {
			return cli.BadInputf("method %s: %w", c.Method, err)
		}
		if _, err := pinn.New(c.Method, s.Config, s.Run); err != nil {
			return cli.BadInputf("method %s: %w", c.Method, err)
		}
	}
	if c.Lambda != "auto" {
		x, err := strconv.ParseFloat(c.Lambda, 64)
		if err != nil || !(x > 0 && x <= maxWeight) {
			return cli.BadInputf("-lambda %q: want auto or a number in (0, %g] (its square must stay finite)", c.Lambda, maxWeight)
		}
		c.lambda = x
	}
	return nil
}

// noiseLevel is the noise std of the BSPM the method sees: the known noise
// of the data (-sigma) and the independent noise this job adds (-noise)
// add in variance.
func (c *config) noiseLevel() float64 {
	return math.Hypot(c.Sigma, c.Noise)
}

// printMethods writes the registry, one method per line.
func printMethods(w io.Writer) {
	for _, m := range registry {
		fmt.Fprintf(w, "%-10s %s\n", m.name, m.doc)
	}
}
