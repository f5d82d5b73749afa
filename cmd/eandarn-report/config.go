package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/vtk"
)

const synopsis = prog + ` -in DIR [-by KEY,...] [-format md|csv] [-out FILE] [-values NAME,...] [-strict]
       ` + prog + ` -html DIR|A.h5,B.h5,... [-out report.html] [-png FIGDIR] [-times auto|t,...] [-nodes auto|i,...]
       ` + prog + ` -vtk OUTDIR -result result.h5 [-run run.h5] [-frames 0:661:10]

Table mode: every *.h5 result file in DIR (not its subfolders; hidden and
temporary files are skipped) is one run. Runs are grouped by the
configuration keys that take more than one value across DIR, except seed and
the per-task paths (out, checkpoint, ...), or by the -by keys. A key is a
eandarn-batch flag name (method, noise, seed, lambda, width, layers,
ep-lambda, ...) or method.NAME for a field of the method's configuration
(method.Layers, method.EpsDelta, ...). Each row: the keys, n, RE, CC and MSE
as mean ± sample std (n − 1; – when n = 1), the mean solve time in seconds,
and the bad-initialization count and rate when the runs record
values/bad_init. An unreadable file is reported on stderr and skipped
(-strict: exit 2).

HTML mode: one self-contained HTML file (figures inlined, nothing fetched
from the network) for a folder of result files (a sweep) or a list of
them: the table above, the paper's Figs. 6–9 as grouped bar charts of RE,
CC and MSE (mean ± std over the runs of each group), electrograms of every
method at chosen nodes, and for each run (at most -max-runs; beyond, one
run per group: the one with the group's median RE) heart maps of truth,
reconstruction and error at chosen times in anterior, posterior and basal
views, the activation-time map, and the loss and RE-monitor curves or the
L-curve and GCV curves with the chosen λ marked; the configuration and
versions of what it shows. -png also writes every figure as a PNG file.
Heart maps need the run file (the result's input attribute, or -run).

VTK mode: writes OUTDIR/series.pvd and OUTDIR/frame_NNNNN.vtp for ParaView
with the reconstruction u, the truth u_truth and u_abs_error = |u − u_truth|
on the heart mesh of the run file (default: the result's input attribute).

Exit status: 0 success, 1 internal failure, 2 bad input or usage (one line
on stderr, nothing written).`

// config is the command line, validated.
type config struct {
	// Table mode.
	In           string
	By           []string // grouping keys; nil: the varying ones
	Format       string   // md | csv
	Out          string   // "" = stdout
	Values       []string // extra columns: values/<name> mean ± std
	Strict       bool
	BadInitRatio float64 // > 0: recompute bad_init as ratio0 > this

	// HTML mode (also uses By, Values, Strict, BadInitRatio, Out and Run).
	HTML    string   // a folder of result files, or comma-separated result files
	files   []string // the result files of HTML
	PNG     string   // also write every figure into this folder
	Times   []float64
	Nodes   []int
	MaxRuns int

	// VTK mode.
	VTK    string // output folder
	Result string
	Run    string // "" = the result's input attribute
	Frames string

	LogLevel string
}

// modeFlags says which modes each mode-specific flag belongs to.
var modeFlags = map[string]string{
	"in": "table", "format": "table", "out": "table html",
	"by": "table html", "values": "table html", "strict": "table html", "bad-init-ratio": "table html",
	"html": "html", "png": "html", "times": "html", "nodes": "html", "max-runs": "html",
	"result": "vtk", "run": "vtk html", "frames": "vtk",
}

// parseArgs parses and validates args; help is true after -h.
func parseArgs(args []string, stdout io.Writer) (c *config, help bool, err error) {
	c = new(config)
	var by, values, times, nodes string
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.StringVar(&c.In, "in", "", "folder of result files (*.h5) to aggregate (table mode; required)")
	fs.StringVar(&by, "by", "", "comma-separated grouping keys, in column order (default: every key that varies across the folder, except seed)")
	fs.StringVar(&c.Format, "format", "md", "table format: md (Markdown) or csv")
	fs.StringVar(&c.Out, "out", "", "write the table (table mode; default stdout) or the report (HTML mode; default DIR/report.html, or report.html beside the first file) to this file atomically; its folder must exist")
	fs.StringVar(&values, "values", "", "comma-separated names of values/<name> scalars to add as mean ± std columns (e.g. lambda,ratio0)")
	fs.BoolVar(&c.Strict, "strict", false, "an unreadable file is an error (exit 2) instead of a skipped file")
	fs.Float64Var(&c.BadInitRatio, "bad-init-ratio", 0, "count a run as a bad initialization when values/ratio0 exceeds this (or is NaN); 0 = use the recorded values/bad_init")
	fs.StringVar(&c.HTML, "html", "", "HTML mode: a folder of result files, or comma-separated result files, to report on (one self-contained HTML file)")
	fs.StringVar(&c.PNG, "png", "", "HTML mode: also write every figure as a PNG file into this folder of its own (created; its parent must exist)")
	fs.StringVar(&times, "times", "auto", "HTML mode: times of the heart maps, comma-separated, in the units of the time axis; auto: when 20%, 50% and 80% of the heart has activated")
	fs.StringVar(&nodes, "nodes", "auto", "HTML mode: heart nodes (0-based) of the electrograms, comma-separated; auto: the earliest-, median- and latest-activated nodes")
	fs.IntVar(&c.MaxRuns, "max-runs", 12, "HTML mode: runs shown one by one; beyond this, one run per group (the one with the group's median RE)")
	fs.StringVar(&c.VTK, "vtk", "", "VTK mode: folder to write the heart-map series into (its parent must exist)")
	fs.StringVar(&c.Result, "result", "", "VTK mode: the result file to export (required)")
	fs.StringVar(&c.Run, "run", "", "VTK and HTML modes: run file with the heart mesh and the truth (default: each result's input attribute)")
	fs.StringVar(&c.Frames, "frames", "::10", "VTK mode: frames to export, comma-separated indices or start:stop:step ranges (stop excluded; empty start/stop = first/last)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "stderr log level: debug, info, warn, error")
	cli.AddMemoryFlag(fs)
	cli.SetUsage(fs, synopsis)
	if help, err := cli.Parse(fs, args, stdout); help || err != nil {
		return nil, help, err
	}
	mode := "table"
	switch {
	case c.VTK != "" && c.HTML != "":
		return nil, false, cli.BadInputf("-vtk and -html exclude each other")
	case c.VTK != "":
		mode = "vtk"
	case c.HTML != "":
		mode = "html"
	}
	var wrong []string
	fs.Visit(func(f *flag.Flag) {
		if m, ok := modeFlags[f.Name]; ok && !slices.Contains(strings.Fields(m), mode) {
			wrong = append(wrong, "-"+f.Name)
		}
	})
	if wrong != nil {
		return nil, false, cli.BadInputf("%s: not a %s-mode flag (see -h)", strings.Join(wrong, ", "), mode)
	}
	c.By, c.Values = splitList(by), splitList(values)
	switch mode {
	case "vtk":
		return c, false, c.validateVTK()
	case "html":
		return c, false, c.validateHTML(times, nodes)
	}
	return c, false, c.validateTable()
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c *config) validateTable() error {
	switch {
	case c.In == "":
		return cli.BadInputf("no input folder (-in DIR)")
	case c.Format != "md" && c.Format != "csv":
		return cli.BadInputf("-format %q: want md or csv", c.Format)
	case math.IsNaN(c.BadInitRatio) || math.IsInf(c.BadInitRatio, 0) || c.BadInitRatio < 0:
		return cli.BadInputf("-bad-init-ratio %v: want a finite value ≥ 0 (0 = the recorded bad_init)", c.BadInitRatio)
	}
	if st, err := os.Stat(c.In); err != nil {
		return cli.BadInputf("-in %s: no such folder", c.In)
	} else if !st.IsDir() {
		return cli.BadInputf("-in %s: not a folder", c.In)
	}
	if c.Out == "" {
		return nil
	}
	// -out may lie in -in (a table beside its runs), but must not be one of
	// the result files it summarizes.
	files, err := listResults(c.In)
	if err != nil {
		return err
	}
	ins := make([]cli.File, len(files))
	for i, f := range files {
		ins[i] = cli.File{Flag: "result", Path: f}
	}
	return cli.CheckFiles(ins, []cli.File{{Flag: "-out", Path: c.Out}})
}

func (c *config) validateVTK() error {
	if c.Result == "" {
		return cli.BadInputf("-vtk %s: no result file (-result result.h5)", c.VTK)
	}
	if _, err := parseFrames(c.Frames); err != nil {
		return cli.BadInput(err) // syntax only; the range is checked against T later
	}
	dir := filepath.Dir(c.VTK)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return cli.BadInputf("-vtk %s: folder %s does not exist", c.VTK, dir)
	}
	if st, err := os.Stat(c.VTK); err == nil {
		if _, perr := os.Stat(filepath.Join(c.VTK, vtk.CollectionName)); !st.IsDir() || perr != nil {
			return cli.BadInputf("-vtk %s: exists and is not a series this program wrote (no %s); not replacing it", c.VTK, vtk.CollectionName)
		}
	}
	return cli.CheckFiles([]cli.File{{Flag: "-result", Path: c.Result}, {Flag: "-run", Path: c.Run}},
		[]cli.File{{Flag: "-vtk", Path: c.VTK, Dir: true}})
}

func (c *config) validateHTML(times, nodes string) error {
	switch {
	case math.IsNaN(c.BadInitRatio) || math.IsInf(c.BadInitRatio, 0) || c.BadInitRatio < 0:
		return cli.BadInputf("-bad-init-ratio %v: want a finite value ≥ 0 (0 = the recorded bad_init)", c.BadInitRatio)
	case c.MaxRuns < 1:
		return cli.BadInputf("-max-runs %d: want ≥ 1", c.MaxRuns)
	}
	var err error
	if c.Times, err = parseList("-times", times, func(s string) (float64, error) {
		x, err := strconv.ParseFloat(s, 64)
		if err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
			err = fmt.Errorf("not finite")
		}
		return x, err
	}); err != nil {
		return err
	}
	if c.Nodes, err = parseList("-nodes", nodes, func(s string) (int, error) {
		i, err := strconv.Atoi(s)
		if err == nil && i < 0 {
			err = fmt.Errorf("negative")
		}
		return i, err
	}); err != nil {
		return err
	}
	out := "report.html"
	if st, err := os.Stat(c.HTML); err == nil && st.IsDir() {
		if c.files, err = listResults(c.HTML); err != nil {
			return err
		}
		if len(c.files) == 0 {
			return cli.BadInputf("-html %s: no result files (*.h5)", c.HTML)
		}
		out = filepath.Join(c.HTML, out)
	} else {
		c.files = splitList(c.HTML)
		if len(c.files) == 0 {
			return cli.BadInputf("-html %q: want a folder of result files or a comma-separated list of them", c.HTML)
		}
		for _, f := range c.files {
			if st, err := os.Stat(f); err != nil || st.IsDir() {
				return cli.BadInputf("-html %s: %s is not a folder or a result file", c.HTML, f)
			}
		}
		out = filepath.Join(filepath.Dir(c.files[0]), out)
	}
	if c.Out == "" {
		c.Out = out
	}
	// The report may lie beside the results it shows, but must not replace
	// one; -png is a folder of its own (never one holding the inputs).
	ins := []cli.File{{Flag: "-run", Path: c.Run}}
	for _, f := range c.files {
		ins = append(ins, cli.File{Flag: "result", Path: f})
	}
	return cli.CheckFiles(ins, []cli.File{{Flag: "-out", Path: c.Out}, {Flag: "-png", Path: c.PNG, Dir: true}})
}

// parseList parses "auto" (nil) or a comma-separated list of items.
func parseList[T any](flag, spec string, parse func(string) (T, error)) ([]T, error) {
	if strings.TrimSpace(spec) == "auto" {
		return nil, nil
	}
	items := splitList(spec)
	if len(items) == 0 {
		return nil, cli.BadInputf("%s %q: want auto or a comma-separated list", flag, spec)
	}
	out := make([]T, len(items))
	for i, s := range items {
		x, err := parse(s)
		if err != nil {
			return nil, cli.BadInputf("%s %q: item %q: %v", flag, spec, s, err)
		}
		out[i] = x
	}
	return out, nil
}
