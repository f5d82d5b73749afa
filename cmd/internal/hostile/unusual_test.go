package hostile

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// This file holds the classes of a second hostile-user audit: numbers and
// meshes that look valid but leave a method nothing sound to compute (one
// lead, an R that sees only the mean, two heart surfaces, values whose
// squares underflow, a heart whose n² arrays would not fit in memory),
// outputs that are symbolic links or too long to name, and, in
// TestUnusualValid, layouts other tools write that must give the same
// result as the plain file (compressed HDF5, Fortran's space-padded
// strings, float32 times, uint64 indices, a 5-frame recording, a 255-byte
// output name). Each refusal failed on the code before its fix: a raw
// stack trace, exit status 1, or a result of garbage with exit status 0.

// degenerateCases are the refusals of the second audit; TestCorpus runs
// them with the others.
func degenerateCases() []hostileCase {
	npyRun := func(method string, extra ...string) []string {
		return append([]string{"-in", "run", "-out", "res.h5", "-method", method, "-log-level", "warn"}, extra...)
	}
	return []hostileCase{
		// Outputs a rename would destroy, or cannot name.
		{name: "out_symlink_elsewhere", prog: "batch", want: "-out link.h5 is a symbolic link (to res.h5)",
			setup: func(w *work) []string {
				must(w.t, os.Symlink("res.h5", w.path("link.h5")))
				return args("-in", "run.h5", "-out", "link.h5", "-method", "tikhonov2")
			}},
		{name: "checkpoint_dangling_symlink", prog: "batch", want: "-checkpoint ck is a symbolic link (to nowhere)",
			setup: func(w *work) []string {
				must(w.t, os.Symlink("nowhere", w.path("ck")))
				return append([]string{"-in", "run.h5", "-out", "r.h5", "-checkpoint", "ck"}, pinnArgs...)
			}},
		{name: "out_name_256_bytes", prog: "batch", want: strings.Repeat("x", 253) + ".h5: file name too long",
			setup: func(w *work) []string {
				return args("-in", "run.h5", "-out", strings.Repeat("x", 253)+".h5", "-method", "tikhonov2")
			}},
		// Data that leave a method nothing sound to compute.
		{name: "stre_one_lead", prog: "batch", want: "needs at least 2 leads",
			setup: func(w *work) []string { w.npyLeads(1); return npyRun("stre") }},
		{name: "tikhonov2_one_lead", prog: "batch", want: "needs at least 2 leads",
			setup: func(w *work) []string { w.npyLeads(1); return npyRun("tikhonov2") }},
		{name: "R_sees_only_the_mean", prog: "batch", want: "R sees nothing of u beyond its constant part",
			setup: func(w *work) []string {
				r := mat.DenseCopyOf(w.p.R)
				for j := range r.RawMatrix().Cols {
					r.SetCol(j, mat.Col(nil, 0, w.p.R))
				}
				w.npyDense(runfile.Forward, r)
				return npyRun("tikhonov2")
			}},
		{name: "heart_two_surfaces", prog: "batch", want: "2 separate surfaces",
			setup: func(w *work) []string {
				a, b := geometry.Icosphere(1, 20), geometry.Icosphere(1, 20)
				for i := range b.Nodes {
					b.Nodes[i][0] += 100
				}
				two := &mesh.Mesh{Nodes: append(a.Nodes, b.Nodes...), Tris: a.Tris}
				for _, t := range b.Tris {
					two.Tris = append(two.Tris, [3]int{t[0] + 42, t[1] + 42, t[2] + 42})
				}
				w.npyMesh(two)
				return npyRun("tikhonov2")
			}},
		{name: "R_squares_underflow", prog: "batch", want: "dataset forward/R: want an entry of magnitude at least 1e-150",
			setup: func(w *work) []string {
				var r mat.Dense
				r.Scale(1e-300, w.p.R)
				w.npyDense(runfile.Forward, &r)
				return npyRun("tikhonov2")
			}},
		{name: "bspm_all_zero", prog: "batch", want: "dataset signals/bspm: want an entry of magnitude at least 1e-150 (squares must not underflow), got all zeros",
			setup: func(w *work) []string {
				w.npyDense(runfile.BSPM, mat.NewDense(42, frames, nil))
				return npyRun("tikhonov2")
			}},
		{name: "time_step_underflows", prog: "batch", want: "want a time step of at least 1e-150",
			setup: func(w *work) []string {
				tm := make([]float64, frames)
				for i := range tm {
					tm[i] = float64(i) * 5e-324
				}
				must(w.t, npy.WriteVector(w.path("run/"+runfile.Time+".npy"), tm))
				return npyRun("eandarn", "-epochs", "1", "-width", "4")
			}},
		{name: "heart_coordinates_1e120", prog: "batch", want: "coordinates of magnitude at most 1e+75",
			setup: func(w *work) []string {
				var nodes mat.Dense
				nodes0, _ := clitest.MeshArrays(w.p.Heart)
				nodes.Scale(1e120, nodes0)
				w.npyDense(runfile.HeartNodes, &nodes)
				return npyRun("tikhonov2")
			}},
		{name: "truth_dangling_symlink", prog: "batch", want: "truth/u.npy is a symbolic link to gone.npy, which does not exist",
			setup: func(w *work) []string {
				must(w.t, os.Remove(w.path("run/truth/u.npy")))
				must(w.t, os.Symlink("gone.npy", w.path("run/truth/u.npy")))
				return npyRun("tikhonov2")
			}},
		// A 3.5 MB file whose 10242-node heart would make STRE allocate
		// 8 GB: refused before the solve, in a few MB.
		{name: "heart_arrays_over_budget", prog: "batch", want: "the arrays it works with", check: tinyRSS,
			setup: func(w *work) []string {
				must(w.t, runfile.Save(w.path("big.h5"), bigHeart(5)))
				return args("-in", "big.h5", "-out", "res.h5", "-method", "stre", "-log-level", "warn")
			}},
		{name: "lambda_square_overflows", prog: "batch", want: "want auto or a number in (0, 1e+150]",
			setup: func(w *work) []string {
				return args("-in", "run.h5", "-out", "res.h5", "-method", "tikhonov2", "-lambda", "1e308")
			}},
		{name: "sweep_output_inside_npy_input", prog: "batch", want: "lies inside the input folder",
			setup: func(w *work) []string { return w.sweepSpec("run", "run/res", "method = \"tikhonov2\"") }},
		{name: "synth_leads_2d", prog: "synth", want: "want one integer per line (a vector), got shape [2 2]",
			setup: func(w *work) []string {
				must(w.t, npy.WriteInts(w.path("leads.npy"), 2, 2, []int{0, 1, 2, 3}))
				return append(smallMeshes(w), "-leads", "leads.npy", "-out", "res.h5")
			}},
	}
}

// npyLeads keeps the first m leads of the NPY run folder (and the rows of
// R and the BSPM that go with them).
func (w *work) npyLeads(m int) {
	leads := slices.Clone(w.p.Leads[:m])
	must(w.t, npy.WriteIntVector(w.path("run/"+runfile.Leads+".npy"), leads))
	w.npyDense(runfile.Forward, w.p.R.Slice(0, m, 0, 42))
	w.npyDense(runfile.BSPM, w.p.BSPM.Slice(0, m, 0, frames))
}

// bigHeart is a recording of 5 frames on an icosphere heart of the given
// subdivision (10242 nodes for 5, 2562 for 4) seen by the 42 leads of the
// corpus' torso, with a random R and no truth: a small file whose heart
// makes the methods' n x n arrays large.
func bigHeart(sub int) *inverse.Problem {
	p := problem(5)
	p.Heart = geometry.Icosphere(sub, 20)
	n, m := len(p.Heart.Nodes), len(p.Leads)
	rng := rand.New(rand.NewPCG(3, 3))
	r := mat.NewDense(m, n, nil)
	u := mat.NewDense(n, 5, nil)
	for i := range m {
		for j := range n {
			r.Set(i, j, rng.NormFloat64())
		}
	}
	for i := range n {
		for f := range 5 {
			u.Set(i, f, math.Sin(p.Heart.Nodes[i][2]/10-0.4*float64(f)))
		}
	}
	var y mat.Dense
	y.Mul(r, u)
	p.R, p.BSPM, p.TruthU, p.TruthV = r, &y, nil, nil
	return p
}

// TestUnusualValid: layouts and values that other tools write, or that are
// valid but at the edge of the schema, run to a result, and where the data
// are the same numbers as the corpus' run file, to the same
// reconstruction bit for bit. Each failed before its fix (refused as
// "never fully written", an unknown units value, non-uniform times, an
// unsupported dtype, too few frames for the mini-batch, a folder "not
// writable", or, on a time step of 5e-11, the Go runtime out of memory in
// the activation-time smoothing, with a stack trace).
func TestUnusualValid(t *testing.T) {
	base := newWork(t)
	if o := run(t, base.dir, "eandarn-batch", "-in", "run.h5", "-out", "base.h5", "-method", "tikhonov2", "-log-level", "warn"); o.code != 0 {
		t.Fatalf("the plain run file: exit %d: %s", o.code, o.stderr)
	}
	want := reconstruction(t, base.path("base.h5"))
	tikhonov := func(in string) []string {
		return args("-in", in, "-out", "out.h5", "-method", "tikhonov2", "-log-level", "warn")
	}
	for _, c := range []struct {
		name  string
		setup func(w *work) []string
		same  bool // the reconstruction equals the plain file's
	}{
		{"h5_every_dataset_deflated_in_edge_chunks", func(w *work) []string {
			for _, ds := range []string{runfile.HeartNodes, runfile.HeartTris, runfile.TorsoNodes, runfile.TorsoTris,
				runfile.Leads, runfile.Forward, runfile.BSPM, runfile.Time, runfile.TruthU, runfile.TruthV} {
				must(w.t, Rechunk(w.path("run.h5"), ds, 7, true))
			}
			return tikhonov("run.h5")
		}, true},
		{"h5_chunked_uncompressed", func(w *work) []string {
			must(w.t, Rechunk(w.path("run.h5"), runfile.Forward, 16, false))
			return tikhonov("run.h5")
		}, true},
		{"h5_units_space_padded", func(w *work) []string {
			must(w.t, SpacePadAttr(w.path("run.h5"), "units", "normalized", 16))
			return tikhonov("run.h5")
		}, true},
		{"npy_uint64_indices", func(w *work) []string {
			writeNpy(w.t, w.path("run/"+runfile.Leads+".npy"), toUint64(w.p.Leads))
			tris := make([]int, 0, 3*len(w.p.Heart.Tris))
			for _, t := range w.p.Heart.Tris {
				tris = append(tris, t[:]...)
			}
			must(w.t, npy.WriteInts(w.path("run/"+runfile.HeartTris+".npy"), len(w.p.Heart.Tris), 3, tris))
			return tikhonov("run")
		}, true},
		{"npy_float32_times_offset", func(w *work) []string {
			tm := make([]float32, frames)
			for i := range tm {
				tm[i] = float32(1000 + 0.1*float64(i))
			}
			writeNpy(w.t, w.path("run/"+runfile.Time+".npy"), tm)
			return tikhonov("run")
		}, true},
		// The PINN methods' own uniformity check was stricter than the
		// run file's: exit status 1 on these valid float32 times.
		{"npy_float32_times_offset_pinn", func(w *work) []string {
			tm := make([]float32, frames)
			for i := range tm {
				tm[i] = float32(1000 + 0.1*float64(i))
			}
			writeNpy(w.t, w.path("run/"+runfile.Time+".npy"), tm)
			return append([]string{"-in", "run", "-out", "out.h5"}, pinnArgs...)
		}, false},
		{"time_step_5e-11", func(w *work) []string {
			tm := slices.Clone(w.p.Time)
			for i := range tm {
				tm[i] *= 1e-10
			}
			must(w.t, npy.WriteVector(w.path("run/"+runfile.Time+".npy"), tm))
			return tikhonov("run")
		}, true},
		{"five_frames_pinn_defaults", func(w *work) []string {
			must(w.t, runfile.Save(w.path("t5.h5"), problem(5)))
			return args("-in", "t5.h5", "-out", "out.h5", "-method", "eandarn", "-epochs", "1", "-width", "4", "-log-level", "warn")
		}, false},
		{"out_name_255_bytes", func(w *work) []string {
			return args("-in", "run.h5", "-out", strings.Repeat("é", 126)+".h5", "-method", "tikhonov2", "-log-level", "warn")
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWork(t)
			a := c.setup(w)
			o := run(t, w.dir, "eandarn-batch", a...)
			if o.code != 0 || strings.Count(o.stdout, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q: want a result", o.code, o.stdout, o.stderr)
			}
			var sum struct{ Out string }
			must(t, json.Unmarshal([]byte(o.stdout), &sum))
			got := reconstruction(t, w.path(sum.Out))
			if c.same && !slices.Equal(got, want) {
				t.Errorf("the reconstruction differs from the plain file's")
			}
			for _, x := range got {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("a non-finite reconstruction: %v", x)
				}
			}
		})
	}
}

// reconstruction returns reconstruction/u of a result file.
func reconstruction(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := resultfile.Read(path)
	must(t, err)
	u := f.Matrices["reconstruction/u"]
	if u == nil {
		t.Fatalf("%s: no reconstruction/u", path)
	}
	return mat.DenseCopyOf(u).RawMatrix().Data
}

// writeNpy writes v (a slice npyio writes with its own dtype) as a .npy file.
func writeNpy(t *testing.T, path string, v any) {
	t.Helper()
	var b bytes.Buffer
	must(t, npyio.Write(&b, v))
	must(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func toUint64(v []int) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = uint64(x)
	}
	return out
}

// TestTikhonovSignalDuringFactorization: SIGTERM during Tikhonov's
// factorization (a 2562-node heart) stops the job at once with exit
// status 3 and no result, instead of after the factorization. The signal
// comes a third of the way through a whole run's time, and the job must
// stop within a quarter of it (before the fix it went on for the rest of
// the factorization).
func TestTikhonovSignalDuringFactorization(t *testing.T) {
	w := newWork(t)
	must(t, runfile.Save(w.path("big.h5"), bigHeart(4)))
	a := args("-in", "big.h5", "-out", "big-res.h5", "-method", "tikhonov2", "-log-level", "error")
	whole := run(t, w.dir, "eandarn-batch", a...)
	if whole.code != 0 {
		t.Fatalf("whole run: exit %d: %s", whole.code, whole.stderr)
	}
	must(t, os.Remove(w.path("big-res.h5")))
	before := snapshot(t, w.dir)
	began := time.Now()
	cmd, out, errb, cancel := start(t, w.dir, "eandarn-batch", a...)
	time.Sleep(whole.wall / 3)
	sent := time.Now()
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	o := finish(t, cmd, out, errb, cancel, began)
	latency := time.Since(sent)
	refused(t, "eandarn-batch", o, 3, "interrupted")
	unchanged(t, before, snapshot(t, w.dir))
	t.Logf("whole run %v; stopped %v after SIGTERM (measured under load)", whole.wall.Round(time.Millisecond), latency.Round(time.Millisecond))
	if latency > whole.wall/4 {
		t.Errorf("stopped %v after SIGTERM, want within a quarter of the whole run's %v", latency, whole.wall)
	}
}
