package hostile

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// This file holds the classes of a third audit: operator mistakes, result
// files that the second program of a pipeline reads, and refusals whose
// line did not say plainly what was wrong. Each failed on the code before
// its fix (as its comment says).

// operatorCases are the refusals of the third audit; TestCorpus runs them
// with the others.
func operatorCases() []hostileCase {
	return []hostileCase{
		// A raw panic (index out of range), exit status 1.
		{name: "report_html_empty_list", prog: "report", want: `-html ",": want a folder of result files or a comma-separated list of them`,
			setup: func(w *work) []string { return args("-html", ",") }},
		// Heart maps of a NaN written with exit status 0 (exit 1 when
		// the NaN fell in an exported frame).
		{name: "report_vtk_reconstruction_NaN", prog: "report", want: "r.h5: dataset reconstruction/u: want finite values, got NaN at [3,7]",
			setup: func(w *work) []string {
				nanResult(w, "r.h5")
				return args("-vtk", "maps", "-result", "r.h5", "-run", "run.h5")
			}},
		// Figures of a NaN, exit status 0.
		{name: "report_html_reconstruction_NaN", prog: "report", want: "r.h5: dataset reconstruction/u: want finite values, got NaN at [3,7]",
			setup: func(w *work) []string {
				nanResult(w, "r.h5")
				return args("-html", "r.h5", "-run", "run.h5", "-out", "report.html", "-log-level", "warn")
			}},
		// A raw panic (makeslice: len out of range, in the activation
		// times' smoothing), exit status 1.
		{name: "report_html_time_decreasing", prog: "report", want: "r.h5: dataset reconstruction/time: want strictly increasing times, got t[1] = 9 after t[0] = 9.5",
			setup: func(w *work) []string {
				editResult(w, "r.h5", func(f *resultfile.File) { slices.Reverse(f.Vectors["reconstruction/time"]) })
				return args("-html", "r.h5", "-run", "run.h5", "-out", "report.html", "-log-level", "warn")
			}},
		// A mistyped name gave a column of dashes, exit status 0.
		{name: "report_values_unknown", prog: "report", want: "-values lamda: no result file has values/lamda",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("results"), 0o755))
				resultFile(w.t, w.path("results/r.h5"), "run.h5")
				return args("-in", "results", "-values", "lamda")
			}},
		// Refused only when the run file was saved, after the BEM and
		// the simulation, with exit status 1.
		{name: "synth_region_names_invalid", prog: "synth", want: `-region-names "lv,rv/epi": want names of letters, digits, '_', '-' and '.', got "rv/epi" at [1]`,
			setup: func(w *work) []string {
				labels := make([]int, 162)
				for i := range labels {
					labels[i] = i % 2
				}
				must(w.t, npy.WriteIntVector(w.path("labels.npy"), labels))
				return append(smallMeshes(w), "-regions", "labels.npy", "-region-names", "lv,rv/epi", "-out", "res.h5")
			}},
		// Trained, then a raw panic (the configuration's JSON failed on
		// the +Inf, leaving a nil map), exit status 1.
		{name: "bad_init_ratio_Inf", prog: "batch", want: "bad-initialization ratio +Inf: want a finite value ≥ 0",
			setup: func(w *work) []string {
				return append(append([]string{"-in", "run.h5", "-out", "res.h5"}, pinnArgs...), "-bad-init-ratio", "Inf")
			}},
		// Garbled messages: "want a non-empty a 2-D float dataset",
		// "got shape a scalar".
		{name: "R_no_columns", prog: "batch", want: "run/forward/R.npy: dataset forward/R: want a non-empty 2-D float dataset (leads x heart nodes), got 42x0",
			setup: func(w *work) []string {
				w.npyDense(runfile.Forward, mat.NewDense(42, 1, nil).Slice(0, 42, 0, 0))
				return args("-in", "run", "-out", "res.h5", "-method", "tikhonov2")
			}},
		{name: "time_scalar", prog: "batch", want: "run/signals/time.npy: dataset signals/time: want a 1-D float dataset (frames), got a scalar",
			setup: func(w *work) []string {
				writeNpy(w.t, w.path("run/"+runfile.Time+".npy"), 0.5)
				return args("-in", "run", "-out", "res.h5", "-method", "tikhonov2")
			}},
		// "degenerate triangle: …: zero area (2A = +Inf, longest edge² =
		// +Inf)": the winding check ran before the coordinate check.
		{name: "synth_heart_coordinates_1e200", prog: "synth", want: "-heart big.h5: want coordinates of magnitude at most 1e+75 (areas and volumes must stay finite), got",
			setup: func(w *work) []string {
				clitest.WriteMesh(w.t, w.path("big.h5"), scaled(geometry.Icosphere(2, 20), 1e199))
				return append(smallMeshes(w), "-heart", "big.h5", "-out", "res.h5")
			}},
		{name: "synth_torso_coordinates_1e200", prog: "synth", want: "-torso big.h5: want coordinates of magnitude at most 1e+75 (areas and volumes must stay finite), got",
			setup: func(w *work) []string {
				clitest.WriteMesh(w.t, w.path("big.h5"), scaled(geometry.Icosphere(2, 80), 1e199))
				return append(smallMeshes(w), "-torso", "big.h5", "-out", "res.h5")
			}},
		// Under the old bound (1e100), areas (squares of cross products,
		// so fourth powers of coordinates) overflowed: "flat surface:
		// encloses volume 2.93e+274 for area +Inf".
		{name: "heart_coordinates_1e90", prog: "batch", want: "run/geometry/heart/nodes.npy: dataset geometry/heart/nodes: want coordinates of magnitude at most 1e+75 (areas and volumes must stay finite), got",
			setup: func(w *work) []string {
				var nodes mat.Dense
				nodes0, _ := clitest.MeshArrays(w.p.Heart)
				nodes.Scale(1e90, nodes0)
				w.npyDense(runfile.HeartNodes, &nodes)
				return args("-in", "run", "-out", "res.h5", "-method", "tikhonov2")
			}},
		// The spec check ran eandarn-batch's flag checks but not the PINN
		// method's own: out/logs and out/checkpoints were made, and every
		// task failed (with -sbatch, every Slurm job would have).
		{name: "sweep_pinn_setting_invalid", prog: "batch", want: "sweep s.toml: task 0 (seed=1): method eandarn: pinn: learning rates -1 → 0.001: want finite values > 0",
			setup: func(w *work) []string { return w.sweepSpec("run.h5", "out", "method = \"eandarn\"\nlr = -1") }},
		{name: "sweep_network_over_budget", prog: "batch", want: "sweep s.toml: task 0 (seed=1): method eandarn: network of -layers 10 -width 100000000",
			setup: func(w *work) []string { return w.sweepSpec("run.h5", "out", "method = \"eandarn\"\nwidth = 100000000") }},
		// Refused, but as "output keepdir is a folder, want a file name",
		// though a folder is what a .npy output is.
		{name: "synth_out_folder_not_a_run", prog: "synth", want: "-out keepdir: exists and is not a run folder this program wrote (no attrs.json); not replacing it",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("keepdir"), 0o755))
				keep(w.t, w.path("keepdir/notes.txt"))
				return append(smallMeshes(w), "-out", "keepdir")
			}},
	}
}

// TestSynthRewritesItsRunFolder: eandarn-synth run again with a folder of
// .npy files as -out replaces the run folder it wrote, as it replaces an
// .h5 output (it was refused: "output run2 is a folder, want a file
// name").
func TestSynthRewritesItsRunFolder(t *testing.T) {
	w := newWork(t)
	for _, seed := range []string{"1", "2"} {
		a := append(smallMeshes(w), "-out", "run2", "-seed", seed, "-log-level", "warn")
		if o := run(t, w.dir, "eandarn-synth", a...); o.code != 0 {
			t.Fatalf("-seed %s: exit %d: %s", seed, o.code, o.stderr)
		}
	}
	b, err := os.ReadFile(w.path("run2/attrs.json"))
	must(t, err)
	if !strings.Contains(string(b), `"seed": "2"`) {
		t.Errorf("run2/attrs.json after the second run: %s, want seed 2", b)
	}
}

// scaled returns m with every coordinate multiplied by f.
func scaled(m *mesh.Mesh, f float64) *mesh.Mesh {
	for i := range m.Nodes {
		for d := range m.Nodes[i] {
			m.Nodes[i][d] *= f
		}
	}
	return m
}

// nanResult writes a result file at name whose reconstruction holds a NaN
// at [3,7] (eandarn-batch never writes one: made or edited elsewhere).
func nanResult(w *work, name string) {
	editResult(w, name, func(f *resultfile.File) {
		u := mat.DenseCopyOf(f.Matrices["reconstruction/u"])
		u.Set(3, 7, math.NaN())
		f.Matrices["reconstruction/u"] = u
	})
}

// editResult writes the corpus' result file at name, edited by edit.
func editResult(w *work, name string, edit func(f *resultfile.File)) {
	resultFile(w.t, w.path(name), "run.h5")
	f, err := resultfile.Read(w.path(name))
	must(w.t, err)
	edit(f)
	must(w.t, resultfile.Save(w.path(name), f))
}

// sweepSpec writes the sweep spec s.toml (name s, the input and output
// folder given, the [fixed] table's TOML lines fixed and an axis of seeds
// 1 and 2) and returns the arguments that run the whole sweep locally.
func (w *work) sweepSpec(input, output, fixed string) []string {
	spec := fmt.Sprintf("name = \"s\"\ninput = %q\noutput = %q\n[fixed]\n%s\n[[axis]]\nname = \"seed\"\nvalues = [1, 2]\n", input, output, fixed)
	must(w.t, os.WriteFile(w.path("s.toml"), []byte(spec), 0o644))
	return args("-sweep", "s.toml", "-task", "all", "-log-level", "warn")
}
