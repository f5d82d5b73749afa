package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/synth"
)

// config is one generation: every flag, validated. Params (everything but
// where the file goes and how chatty the log is) is the generation key: it is
// hashed for -cache and written as JSON into the run file's provenance.
type config struct {
	Out      string
	Cache    string
	LogLevel string
	// MinActivated is the least fraction of heart nodes the wave must
	// activate for the dataset to be written (a check, not a generation
	// parameter: it does not change the numbers).
	MinActivated float64
	Progress     time.Duration // -progress: how the job reports, not what it computes
	Params       params
}

// params are the generation parameters.
type params struct {
	Heart     string  `json:"heart"`      // "default" or a mesh path
	Torso     string  `json:"torso"`      // "default" or a mesh path
	Leads     string  `json:"leads"`      // "" (default torso's leads, else every torso node) or a path of lead indices
	Pace      string  `json:"pace"`       // "apex", a heart node index or "x,y,z"
	Frames    int     `json:"frames"`     // output frames T
	TEnd      float64 `json:"tend"`       // time of the last frame, AP units
	Dt        float64 `json:"dt"`         // largest integration step, AP units
	Laplacian string  `json:"laplacian"`  // cotangent | eq15
	MeshUnits string  `json:"mesh_units"` // units of the mesh files' coordinates: mm, cm or m
	Refine    float64 `json:"refine"`     // simulate on a subdivided heart with mean edge ≤ this (mm); 0 = off
	Seed      uint64  `json:"seed"`
	// Regions labels the heart nodes (a label per node or per triangle) and
	// RegionNames names the distinct labels in ascending order (comma list).
	Regions     string `json:"regions,omitempty"`
	RegionNames string `json:"region_names,omitempty"`
	// Import mode (-bspm): a measured recording instead of a simulation.
	BSPM      string  `json:"bspm,omitempty"`      // m x T body-surface potentials
	Units     string  `json:"units,omitempty"`     // their units: mV, uV or normalized
	Potential string  `json:"potential,omitempty"` // extracellular or transmembrane ("": by units)
	Rate      float64 `json:"rate,omitempty"`      // sampling rate in Hz, or
	TimeFile  string  `json:"time,omitempty"`      // frame times in ms
	Truth     string  `json:"truth,omitempty"`     // n x T heart-surface potentials, optional
	Forward   string  `json:"forward,omitempty"`   // m x n transfer matrix, instead of the BEM
}

// synthOnly are the flags of a simulation, refused in import mode, and
// importOnly those of an import, refused without -bspm.
var (
	synthOnly  = []string{"cache", "pace", "frames", "tend", "dt", "laplacian", "refine", "min-activated", "seed"}
	importOnly = []string{"units", "potential", "rate", "time", "truth"}
)

// meshScale converts the -mesh-units of mesh files to mm.
var meshScale = map[string]float64{"mm": 1, "cm": 10, "m": 1000}

func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	p := &c.Params
	fs.StringVar(&c.Out, "out", "", "run file (.h5) to write atomically; its folder must exist (this or -cache)")
	fs.StringVar(&c.Cache, "cache", "", "instead of -out: write or reuse DIR/<default|custom>-<key>.h5, key = hash of the parameters, meshes and version")
	fs.StringVar(&p.Heart, "heart", "default", "heart surface: default (built-in, ~1094 nodes), or a mesh: CSV prefix/folder, .h5, .mat or .npy (see README)")
	fs.StringVar(&p.Torso, "torso", "default", "torso surface: default (built-in, 352 lead nodes around the heart), or a mesh path as for -heart")
	fs.StringVar(&p.Leads, "leads", "", "lead node indices into the torso (0-based; .csv, .npy, or .h5 dataset or .mat variable leads); empty: the default torso's leads, or every node of a torso file")
	fs.StringVar(&p.Pace, "pace", "apex", "pacing site: apex (node 0 of the default heart; on another heart the node farthest from the nodes' centroid, a guess, warned), a heart node index (0-based), or x,y,z in mm (the nearest node; refused when more than 10% of the heart's bounding-box diagonal outside that box)")
	fs.IntVar(&p.Frames, "frames", 661, fmt.Sprintf("output frames T (≥ %d), uniform over [0, tend]", runfile.MinFrames))
	fs.Float64Var(&p.TEnd, "tend", 56, "time of the last frame, AP time units (1 unit ≈ 12.9 ms)")
	fs.Float64Var(&p.Dt, "dt", ap.DefaultConfig().Dt, "largest explicit Euler step, AP time units (the step used divides the frame spacing); an unstable step is refused")
	fs.StringVar(&p.Laplacian, "laplacian", "cotangent", "simulation Laplacian: cotangent (Laplace–Beltrami; no inverse crime) or eq15 (paper Eq. 15, as the inverse methods use)")
	fs.StringVar(&p.MeshUnits, "mesh-units", "mm", "units of the coordinates in the -heart and -torso files: mm, cm or m (scaled to mm on reading; ECGSim meshes are in m)")
	fs.Float64Var(&p.Refine, "refine", 0, "simulate on a midpoint-subdivided copy of the heart with mean edge ≤ this many mm, sampled back at the heart's own nodes (0: simulate on the heart itself)")
	fs.Float64Var(&c.MinActivated, "min-activated", 0.99, "refuse the dataset unless the wave activates at least this fraction of the heart nodes (0 accepts any)")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed recorded in the provenance (the generator itself is deterministic)")
	fs.StringVar(&p.Regions, "regions", "", "heart region labels (optional): one integer per heart node, or per heart triangle (a node then takes the label covering most of its area); .csv, .npy, FILE.h5[:DATASET] or FILE.mat[:VAR] (default name region)")
	fs.StringVar(&p.RegionNames, "region-names", "", "names of the distinct -regions labels in ascending order, comma-separated (default region<label>)")
	fs.StringVar(&p.BSPM, "bspm", "", "import mode: measured body-surface potentials, leads x frames (.csv, .npy, FILE.h5[:DATASET] or FILE.mat[:VAR], default name bspm), instead of a simulation; forward: R·truth (measured heart potentials seen through R)")
	fs.StringVar(&p.Units, "units", "", "import: units of -bspm and -truth: mV, uV or normalized (required)")
	fs.StringVar(&p.Potential, "potential", "", "import: kind of heart-surface potential: extracellular (electrograms; the default for mV and uV) or transmembrane (action-potential-like; the PINN methods accept mV/uV data only then)")
	fs.Float64Var(&p.Rate, "rate", 0, "import: sampling rate in Hz (this or -time)")
	fs.StringVar(&p.TimeFile, "time", "", "import: frame times in ms, one per frame (.csv, .npy, FILE.h5[:DATASET] or FILE.mat[:VAR], default name time); converted to AP units")
	fs.StringVar(&p.Truth, "truth", "", "import: measured heart-surface potentials, heart nodes x frames, same units (optional; metrics only)")
	fs.StringVar(&p.Forward, "forward", "", "transfer matrix, leads x heart nodes (.csv, .npy, FILE.h5[:DATASET] or FILE.mat[:VAR], default name R), instead of computing it by BEM from -torso: for a simulation or an import; -torso is then optional (without it the run file has no torso geometry)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "stderr log level: debug, info, warn, error")
	cli.AddMemoryFlag(fs)
	cli.ProgressFlag(fs, &c.Progress)
	return fs
}

// parseArgs parses and validates args; help is true after -h.
func parseArgs(args []string, stdout io.Writer) (*config, bool, error) {
	c := new(config)
	fs := newFlagSet(c)
	cli.SetUsage(fs, prog+" -out run.h5 | -cache DIR [flags]   (import: -bspm FILE -units U -rate HZ|-time FILE ...)")
	if help, err := cli.Parse(fs, args, stdout); help || err != nil {
		return nil, help, err
	}
	// A flag of the other mode is refused rather than silently ignored.
	wrong, mode := importOnly, "needs -bspm (import mode)"
	if c.Params.BSPM != "" {
		wrong, mode = synthOnly, "is for simulations, not for -bspm imports"
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && slices.Contains(wrong, f.Name) {
			err = cli.BadInputf("-%s %s", f.Name, mode)
		}
	})
	if err != nil {
		return nil, false, err
	}
	return c, false, c.validate()
}

func (c *config) validate() error {
	p := &c.Params
	// The names go into the run file, whose check would refuse them only
	// when it is saved, after the BEM and the simulation.
	if p.RegionNames != "" {
		if err := runfile.CheckRegionNames(strings.Split(p.RegionNames, ",")); err != nil {
			return cli.BadInputf("-region-names %q: %w", p.RegionNames, err)
		}
	}
	if p.BSPM != "" {
		return c.validateImport()
	}
	switch {
	case (c.Out == "") == (c.Cache == ""):
		return cli.BadInputf("give exactly one of -out FILE and -cache DIR")
	case p.Frames < runfile.MinFrames:
		return cli.BadInputf("-frames %d: want ≥ %d (the time-derivative stencil of Eq. 17–18 spans 5 frames)", p.Frames, runfile.MinFrames)
	case !(p.TEnd > 0) || math.IsInf(p.TEnd, 0):
		return cli.BadInputf("-tend %v: want a finite time > 0", p.TEnd)
	case !(p.Dt > 0) || math.IsInf(p.Dt, 0):
		return cli.BadInputf("-dt %v: want a finite step > 0", p.Dt)
	case !slices.Contains(synth.Laplacians, p.Laplacian):
		return cli.BadInputf("-laplacian %q: want one of %s", p.Laplacian, strings.Join(synth.Laplacians, ", "))
	case meshScale[p.MeshUnits] == 0:
		return cli.BadInputf("-mesh-units %q: want mm, cm or m", p.MeshUnits)
	case !(p.Refine >= 0) || math.IsInf(p.Refine, 0):
		return cli.BadInputf("-refine %v: want a mean edge length in mm > 0, or 0 for no refinement", p.Refine)
	case !(c.MinActivated >= 0 && c.MinActivated <= 1):
		return cli.BadInputf("-min-activated %v: want a fraction in [0, 1]", c.MinActivated)
	case p.Heart == "":
		return cli.BadInputf("-heart: want default or a mesh path")
	case p.Torso == "":
		return cli.BadInputf("-torso: want default or a mesh path")
	case p.Leads != "" && p.Torso == "default":
		return cli.BadInputf("-leads needs -torso PATH (the default torso has its own leads)")
	}
	if _, err := ap.ParsePacing(p.Pace); err != nil {
		return cli.BadInputf("-pace: %w", err)
	}
	// The protocol's step count, before any work: -tend 1e12 or -dt 1e-300
	// would run for days or take no step at all.
	if _, _, err := (ap.Config{Frames: p.Frames, Tend: p.TEnd, Dt: p.Dt}).Steps(); err != nil {
		return cli.BadInputf("-frames %d -tend %g -dt %g: %w", p.Frames, p.TEnd, p.Dt, err)
	}
	if c.Out != "" {
		return checkOut(c.Out)
	}
	return nil
}

// rateHz is the range of sampling rates taken as an ECG recording's:
// body-surface mapping systems sample at 0.5–10 kHz, Holter ECGs at 128 Hz
// and more. Outside it the rate is most likely in other units: -rate 1 for
// 1 kHz, or -time in seconds (a 1 kHz recording's 0, 0.001, … read as ms
// is a 1 MHz one).
var rateHz = [2]float64{50, 100e3}

// validateImport checks the flags of an import (-bspm).
func (c *config) validateImport() error {
	p := &c.Params
	switch {
	case c.Out == "":
		return cli.BadInputf("-bspm imports need -out FILE")
	case !slices.Contains(runfile.KnownUnits, p.Units):
		return cli.BadInputf("-units %q: want one of %s (the units of -bspm)", p.Units, strings.Join(runfile.KnownUnits, ", "))
	case p.Potential != "" && !slices.Contains(runfile.KnownPotentials, p.Potential):
		return cli.BadInputf("-potential %q: want one of %s", p.Potential, strings.Join(runfile.KnownPotentials, ", "))
	case (p.Rate != 0) == (p.TimeFile != ""):
		return cli.BadInputf("give exactly one of -rate HZ and -time FILE (ms) for the frames of -bspm")
	case p.Rate != 0 && (!(p.Rate > 0) || math.IsInf(p.Rate, 0)):
		return cli.BadInputf("-rate %v: want a sampling rate in Hz > 0", p.Rate)
	case p.Rate != 0 && p.Rate < rateHz[0]:
		return cli.BadInputf("-rate %g: want a sampling rate in Hz, %g Hz–%g kHz for an ECG recording: is it in kHz? (-rate %g for %g kHz)", p.Rate, rateHz[0], rateHz[1]/1000, 1000*p.Rate, p.Rate)
	case p.Rate > rateHz[1]:
		return cli.BadInputf("-rate %g: want a sampling rate in Hz, %g Hz–%g kHz for an ECG recording", p.Rate, rateHz[0], rateHz[1]/1000)
	case p.Heart == "default":
		return cli.BadInputf("-bspm imports need -heart PATH: the heart the recording was made on")
	case p.BSPM == bspmForward && p.Truth == "":
		return cli.BadInputf("-bspm forward computes the body-surface signals as R·truth: it needs -truth FILE")
	case p.Forward == "" && p.Torso == "default":
		return cli.BadInputf("-bspm imports need -torso PATH (for the BEM) or -forward FILE (a given transfer matrix)")
	case p.Leads != "" && p.Torso == "default":
		return cli.BadInputf("-leads needs -torso PATH")
	case meshScale[p.MeshUnits] == 0:
		return cli.BadInputf("-mesh-units %q: want mm, cm or m", p.MeshUnits)
	}
	return checkOut(c.Out)
}

// checkOut checks -out before any file is read: an .h5 output must be a
// file name (cli.CheckOutput); a folder of .npy files a new name or a run
// folder this program wrote, the only folder runfile.Save replaces. The
// rest (a file where the folder would go, the parent's writability) is
// checked with the inputs, before the BEM.
func checkOut(out string) error {
	if runfile.IsHDF5Path(out) {
		return cli.CheckOutput(out)
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() && !runfile.IsRunDir(out) {
		return cli.BadInputf("-out %s: exists and is not a run folder this program wrote (no %s); not replacing it", out, runfile.AttrsFile)
	}
	return nil
}
