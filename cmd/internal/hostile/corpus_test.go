package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// bin is the folder of the binaries TestMain builds.
var bin string

// TestMain builds eandarn-batch, eandarn-synth and eandarn-report once:
// the corpus runs them as a user does, as separate processes, so that exit
// statuses, signals, panics and memory use are the real ones.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eandarn-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := clitest.Build(dir, "", "github.com/eandarn/eandarn/cmd/eandarn-batch",
		"github.com/eandarn/eandarn/cmd/eandarn-synth", "github.com/eandarn/eandarn/cmd/eandarn-report"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// outcome is what a run of a binary left.
type outcome struct {
	code           int
	stdout, stderr string
	maxRSS         int64 // kB
	wall           time.Duration
}

// caseTimeout bounds every run: a refusal is immediate, and a run that
// blocks (on a named pipe, say) must fail the case, not hang the test.
const caseTimeout = 30 * time.Second

// start starts prog in dir; finish waits for it.
func start(t *testing.T, dir, prog string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, prog), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return cmd, &out, &errb, cancel
}

func finish(t *testing.T, cmd *exec.Cmd, out, errb *bytes.Buffer, cancel context.CancelFunc, began time.Time) outcome {
	t.Helper()
	defer cancel()
	err := cmd.Wait()
	o := outcome{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String(), wall: time.Since(began)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.maxRSS = ru.Maxrss
	}
	if o.code < 0 {
		t.Fatalf("%s killed (%v) after %v: stderr %q", cmd.Path, err, o.wall, o.stderr)
	}
	return o
}

// run runs prog with args in dir and waits.
func run(t *testing.T, dir, prog string, args ...string) outcome {
	t.Helper()
	began := time.Now()
	cmd, out, errb, cancel := start(t, dir, prog, args...)
	return finish(t, cmd, out, errb, cancel, began)
}

// entry is what snapshot records of one path.
type entry struct {
	mode  fs.FileMode
	size  int64
	mtime time.Time
	sum   [32]byte
	link  string
}

// snapshot records every path under dir without opening anything but
// regular files (a named pipe must not be opened).
func snapshot(t *testing.T, dir string) map[string]entry {
	t.Helper()
	s := map[string]entry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: st.Mode(), size: st.Size(), mtime: st.ModTime()}
		switch {
		case st.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.sum = sha256.Sum256(b)
		case st.Mode()&fs.ModeSymlink != 0:
			e.link, _ = os.Readlink(p)
		case st.IsDir():
			e.size, e.mtime = 0, time.Time{} // a probe file comes and goes
		}
		s[p] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unchanged reports the differences between two snapshots.
func unchanged(t *testing.T, before, after map[string]entry) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s was removed", p)
		case a != b:
			t.Errorf("%s was changed: %v %d bytes → %v %d bytes", p, b.mode, b.size, a.mode, a.size)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was written", p)
		}
	}
}

// refused asserts the refusal contract: the exit status, nothing on
// stdout, exactly one stderr line "prog: …" containing want.
func refused(t *testing.T, prog string, o outcome, code int, want string) {
	t.Helper()
	if o.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", o.code, code, o.stderr)
	}
	if o.stdout != "" {
		t.Errorf("stdout %q, want nothing", o.stdout)
	}
	if strings.Count(o.stderr, "\n") != 1 || !strings.HasPrefix(o.stderr, prog+": ") || !strings.Contains(o.stderr, want) {
		t.Errorf("stderr %q, want one line %q containing %q", o.stderr, prog+": …", want)
	}
}

// Fixtures.

// problem is the corpus' valid recording (clitest.TinyProblem): 42 heart
// nodes, 42 leads, T frames.
func problem(T int) *inverse.Problem { return clitest.TinyProblem(T) }

// frames is the number of frames of the corpus' run files.
const frames = 20

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// keep writes the placeholder of an existing output that must survive.
func keep(t *testing.T, path string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte("keep me"), 0o644))
}

// work is one case's folder: run.h5 (a valid run file), run/ (the same as
// an NPY folder) and res.h5, an existing output holding "keep me".
type work struct {
	t   *testing.T
	dir string
	p   *inverse.Problem
}

func newWork(t *testing.T) *work {
	t.Helper()
	w := &work{t: t, dir: t.TempDir(), p: problem(frames)}
	must(t, runfile.Save(w.path("run.h5"), w.p))
	must(t, runfile.Save(w.path("run"), w.p))
	keep(t, w.path("res.h5"))
	return w
}

func (w *work) path(name string) string { return filepath.Join(w.dir, filepath.FromSlash(name)) }

// npyDense replaces dataset ds of the NPY run folder.
func (w *work) npyDense(ds string, m mat.Matrix) {
	must(w.t, npy.WriteDense(w.path("run/"+ds+".npy"), m))
}

// npyMesh replaces the heart of the NPY run folder, with R and the truth
// cut or padded to its node count (new columns zero, new truth rows 0.5).
func (w *work) npyMesh(m *mesh.Mesh) {
	nodes, tris := clitest.MeshArrays(m)
	w.npyDense(runfile.HeartNodes, nodes)
	must(w.t, npy.WriteInts(w.path("run/"+runfile.HeartTris+".npy"), len(m.Tris), 3, tris))
	n := len(m.Nodes)
	mR, n0 := w.p.R.Dims()
	R := mat.NewDense(mR, n, nil)
	U, V := mat.NewDense(n, frames, nil), mat.NewDense(n, frames, nil)
	for j := 0; j < n; j++ {
		for i := 0; i < mR; i++ {
			if j < n0 {
				R.Set(i, j, w.p.R.At(i, j))
			}
		}
		for f := 0; f < frames; f++ {
			U.Set(j, f, 0.5)
			if j < n0 {
				U.Set(j, f, w.p.TruthU.At(j, f))
				V.Set(j, f, w.p.TruthV.At(j, f))
			}
		}
	}
	w.npyDense(runfile.Forward, R)
	w.npyDense(runfile.TruthU, U)
	w.npyDense(runfile.TruthV, V)
}

// npyHeader writes a .npy file that is only a header declaring shape.
func npyHeader(t *testing.T, path, shape string) {
	t.Helper()
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }"
	h += strings.Repeat(" ", 63-(10+len(h))%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	must(t, os.WriteFile(path, append(b, h...), 0o644))
}

// declare replaces dataset ds of run.h5 by one declared with dims (chunked
// as chunk) and no data.
func (w *work) declare(ds string, dims, chunk []uint64, deflate bool, external string) {
	must(w.t, Unlink(w.path("run.h5"), ds))
	must(w.t, Declare(w.path("run.h5"), ds, dims, chunk, deflate, external))
}

// resultFile writes a small valid result file at path.
func resultFile(t *testing.T, path string, input string) {
	t.Helper()
	p := problem(frames)
	f := resultfile.New()
	f.Matrices["reconstruction/u"] = p.TruthU
	f.Vectors["reconstruction/time"] = p.Time
	f.Scalars["metrics/re"] = 0.1
	f.Attrs["method"] = "tikhonov2"
	f.Attrs["input"] = input
	must(t, resultfile.Save(path, f))
}

// mknodNull makes a character device like /dev/null at path (root only).
func mknodNull(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod needs root: %v", err)
	}
}

// hostileCase is one bad input or operator mistake.
type hostileCase struct {
	name   string
	defect int    // its number in issue 12; 0 for a class of this corpus' own
	prog   string // batch, synth or report
	// setup prepares the case's folder and returns the arguments (paths
	// relative to the folder).
	setup func(w *work) []string
	code  int    // expected exit status; 0 means 2 (bad input)
	want  string // the stderr line must contain it
	// check makes extra assertions (memory, time).
	check func(t *testing.T, o outcome)
}

var progs = map[string]string{"batch": "eandarn-batch", "synth": "eandarn-synth", "report": "eandarn-report"}

// tinyRSS bounds the memory of a refusal (kB): the corpus' files declare
// gigabytes that must never be allocated.
func tinyRSS(t *testing.T, o outcome) {
	t.Helper()
	t.Logf("refused after %v with a max RSS of %d MB", o.wall.Round(time.Millisecond), o.maxRSS>>10)
	if o.maxRSS > 300<<10 {
		t.Errorf("max RSS %d MB: the declared data was allocated before it was refused", o.maxRSS>>10)
	}
}

// ck is the layout of a PINN checkpoint (solver/pinn's state, as gob
// encodes it by field name), so that the corpus can craft one whose hash
// matches the run.
type ck struct {
	Version                     int
	Hash                        string
	Params, M, V                []float64
	AdamT                       int
	Epoch, Pos                  int
	Order                       []int
	Step                        int
	LRScale                     float64
	Retries                     int
	RNG                         []byte
	LossData, LossEP, REMonitor []float64
	Alpha                       [][]float64
	EpLD, EpLEP                 float64
	EpN                         int
	Ratio0                      float64
	HaveRatio0                  bool
	Good                        *ck
}

// pinnArgs are the flags of the corpus' short PINN runs.
var pinnArgs = []string{"-method", "eandarn", "-epochs", "2", "-width", "4", "-log-level", "warn"}

// craftCheckpoint trains the corpus' PINN configuration to the end with a
// checkpoint, then rewinds that checkpoint to the start of the last epoch
// (a consistent state, as a run interrupted there would have written) with
// a valid batch order, and applies edit: a checkpoint whose hash matches
// the run, crafted by hand.
func craftCheckpoint(w *work, edit func(c *ck)) {
	t := w.t
	args := append([]string{"-in", "run.h5", "-out", "first.h5", "-checkpoint", "ck.gob"}, pinnArgs...)
	if o := run(t, w.dir, "eandarn-batch", args...); o.code != 0 {
		t.Fatalf("making a checkpoint: %d %s", o.code, o.stderr)
	}
	must(t, os.Remove(w.path("first.h5")))
	c := decodeCk(t, w.path("ck.gob"))
	c.Epoch--
	c.LossData, c.LossEP, c.Alpha = c.LossData[:c.Epoch], c.LossEP[:c.Epoch], c.Alpha[:c.Epoch]
	c.REMonitor = c.REMonitor[:min(len(c.REMonitor), c.Epoch)]
	c.Pos, c.Order = 0, rand.New(rand.NewPCG(1, 2)).Perm(frames)
	edit(c)
	encodeCk(t, w.path("ck.gob"), c)
}

// TestCorpus runs every case and asserts the refusal contract.
func TestCorpus(t *testing.T) {
	for _, c := range slices.Concat(corpus(), degenerateCases(), operatorCases(), editedCases(), broughtCases(), matCases()) {
		t.Run(fmt.Sprintf("%02d_%s", c.defect, c.name), func(t *testing.T) {
			w := newWork(t)
			args := c.setup(w)
			before := snapshot(t, w.dir)
			prog := progs[c.prog]
			o := run(t, w.dir, prog, args...)
			code := c.code
			if code == 0 {
				code = 2
			}
			refused(t, prog, o, code, c.want)
			unchanged(t, before, snapshot(t, w.dir))
			if c.check != nil {
				c.check(t, o)
			}
		})
	}
}

func args(a ...string) []string { return a }

// corpus lists the cases, by defect of issue 12 (the Slurm and sweep parts
// are in cmd/eandarn-batch and slurm).
func corpus() []hostileCase {
	batch := func(extra ...string) []string {
		return append([]string{"-in", "run.h5", "-out", "res.h5", "-method", "tikhonov2", "-log-level", "warn"}, extra...)
	}
	pinn := func(extra ...string) []string {
		return append(append([]string{"-in", "run.h5", "-out", "res.h5"}, pinnArgs...), extra...)
	}
	npyRun := func(extra ...string) []string {
		return append([]string{"-in", "run", "-out", "res.h5", "-method", "tikhonov2", "-log-level", "warn"}, extra...)
	}
	return []hostileCase{
		// 1. Outputs that would destroy an input.
		{name: "out_is_in", defect: 1, prog: "batch", want: "same file as the input -in run.h5",
			setup: func(w *work) []string { return args("-in", "run.h5", "-out", "run.h5", "-method", "tikhonov2") }},
		{name: "out_is_dot_in", defect: 1, prog: "batch", want: "same file as the input",
			setup: func(w *work) []string { return args("-in", "run.h5", "-out", "./run.h5", "-method", "tikhonov2") }},
		{name: "out_symlink_to_in", defect: 1, prog: "batch", want: "same file as the input",
			setup: func(w *work) []string {
				must(w.t, os.Symlink("run.h5", w.path("link.h5")))
				return args("-in", "run.h5", "-out", "link.h5", "-method", "tikhonov2")
			}},
		{name: "out_hardlink_to_in", defect: 1, prog: "batch", want: "same file as the input",
			setup: func(w *work) []string {
				must(w.t, os.Link(w.path("run.h5"), w.path("hard.h5")))
				return args("-in", "hard.h5", "-out", "run.h5", "-method", "tikhonov2")
			}},
		{name: "checkpoint_is_in", defect: 1, prog: "batch", want: "-checkpoint run.h5 is the same file as the input",
			setup: func(w *work) []string { return pinn("-checkpoint", "run.h5") }},
		{name: "out_in_npy_input", defect: 1, prog: "batch", want: "inside the input folder",
			setup: func(w *work) []string {
				return args("-in", "run", "-out", "run/forward/R.npy", "-method", "tikhonov2")
			}},
		{name: "out_is_checkpoint", defect: 1, prog: "batch", want: "are the same file",
			setup: func(w *work) []string { return pinn("-checkpoint", "res.h5") }},
		{name: "synth_out_is_heart", defect: 1, prog: "synth", want: "same file as the input -heart",
			setup: func(w *work) []string { return append(smallMeshes(w), "-out", "heart.h5") }},
		{name: "report_out_is_result", defect: 1, prog: "report", want: "same file as the input result",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("results"), 0o755))
				resultFile(w.t, w.path("results/task-00000.h5"), "run.h5")
				return args("-in", "results", "-out", "results/task-00000.h5")
			}},
		{name: "report_vtk_holds_result", defect: 1, prog: "report", want: "would replace the folder holding the input -result",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("maps"), 0o755))
				keep(w.t, w.path("maps/series.pvd"))
				resultFile(w.t, w.path("maps/r.h5"), "run.h5")
				return args("-vtk", "maps", "-result", "maps/r.h5", "-run", "run.h5")
			}},

		// 3. Sizes from headers that overflow or were never checked.
		{name: "h5_bspm_2^58", defect: 3, prog: "batch", want: "signals/bspm", check: tinyRSS,
			setup: func(w *work) []string {
				w.declare(runfile.BSPM, []uint64{42, 1 << 58}, []uint64{1, 1024}, false, "")
				return batch()
			}},
		{name: "npy_bspm_2^58", defect: 3, prog: "batch", want: "signals/bspm", check: tinyRSS,
			setup: func(w *work) []string {
				npyHeader(w.t, w.path("run/signals/bspm.npy"), "(42, 288230376151711744)")
				return npyRun()
			}},
		{name: "h5_R_1e9x1e9_chunked", defect: 3, prog: "batch", want: "forward/R", check: tinyRSS,
			setup: func(w *work) []string {
				w.declare(runfile.Forward, []uint64{1e9, 1e9}, []uint64{1024, 1024}, true, "")
				return batch()
			}},
		{name: "npy_R_negative_shape", defect: 3, prog: "batch", want: "forward/R",
			setup: func(w *work) []string {
				npyHeader(w.t, w.path("run/forward/R.npy"), "(-1, 42)")
				return npyRun()
			}},
		{name: "h5_time_2^40", defect: 3, prog: "batch", want: "signals/time", check: tinyRSS,
			setup: func(w *work) []string {
				w.declare(runfile.Time, []uint64{1 << 40}, []uint64{1 << 16}, false, "")
				return batch()
			}},
		{name: "report_result_1e12", defect: 3, prog: "report", want: "memory budget", check: tinyRSS,
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("results"), 0o755))
				resultFile(w.t, w.path("results/r.h5"), "run.h5")
				must(w.t, Declare(w.path("results/r.h5"), "series/huge", []uint64{1e12}, []uint64{1 << 20}, false, ""))
				return args("-in", "results", "-strict")
			}},
		{name: "report_vtk_result_1e12", defect: 3, prog: "report", want: "memory budget", check: tinyRSS,
			setup: func(w *work) []string {
				resultFile(w.t, w.path("r.h5"), "run.h5")
				must(w.t, Declare(w.path("r.h5"), "series/huge", []uint64{1e12}, []uint64{1 << 20}, false, ""))
				return args("-vtk", "maps", "-result", "r.h5", "-run", "run.h5")
			}},
		{name: "width_1e8", defect: 3, prog: "batch", want: "memory budget", check: tinyRSS,
			setup: func(w *work) []string { return pinn("-width", "100000000") }},
		{name: "synth_frames_2e9", defect: 3, prog: "synth", want: "-frames 2000000000",
			setup: func(w *work) []string { return args("-out", "res.h5", "-frames", "2000000000") }},
		{name: "synth_frames_memory", defect: 3, prog: "synth", want: "memory budget",
			setup: func(w *work) []string {
				return args("-out", "res.h5", "-frames", "5000000", "-tend", "5000000", "-dt", "1")
			}},

		// 4. Memory taken before the data are validated.
		{name: "h5_R_compressed_wrong_shape", defect: 4, prog: "batch", want: "want 42x42 (leads x heart nodes), got 42x3000000", check: tinyRSS,
			setup: func(w *work) []string {
				w.declare(runfile.Forward, []uint64{42, 3e6}, []uint64{42, 1 << 14}, true, "")
				return batch()
			}},
		{name: "npy_R_header_only", defect: 4, prog: "batch", want: "truncated or padded", check: tinyRSS,
			setup: func(w *work) []string {
				npyHeader(w.t, w.path("run/forward/R.npy"), "(42, 3000000)")
				return npyRun()
			}},
		{name: "over_max_memory", defect: 0, prog: "batch", want: "memory budget of 16 KiB",
			setup: func(w *work) []string { return batch("-max-memory", "16KiB") }},

		// 5. Special files as outputs.
		{name: "out_fifo", defect: 5, prog: "batch", want: "named pipe",
			setup: func(w *work) []string { must(w.t, syscall.Mkfifo(w.path("p.h5"), 0o644)); return batch("-out", "p.h5") }},
		{name: "out_char_device", defect: 5, prog: "batch", want: "character device",
			setup: func(w *work) []string { mknodNull(w.t, w.path("null")); return batch("-out", "null") }},
		{name: "checkpoint_fifo", defect: 5, prog: "batch", want: "named pipe",
			setup: func(w *work) []string {
				must(w.t, syscall.Mkfifo(w.path("ck"), 0o644))
				return pinn("-checkpoint", "ck")
			}},
		{name: "synth_out_fifo", defect: 5, prog: "synth", want: "named pipe",
			setup: func(w *work) []string {
				must(w.t, syscall.Mkfifo(w.path("s.h5"), 0o644))
				return args("-out", "s.h5", "-frames", "30")
			}},
		{name: "report_out_char_device", defect: 5, prog: "report", want: "character device",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("results"), 0o755))
				resultFile(w.t, w.path("results/r.h5"), "run.h5")
				mknodNull(w.t, w.path("null"))
				return args("-in", "results", "-out", "null")
			}},

		// 6. Outputs found unwritable only at the end.
		{name: "out_unwritable_folder", defect: 6, prog: "batch", want: "not writable",
			setup: func(w *work) []string { return batch("-out", "/proc/res.h5") }},
		{name: "pinn_out_unwritable", defect: 6, prog: "batch", want: "not writable",
			setup: func(w *work) []string { return pinn("-out", "/proc/res.h5") }},
		{name: "checkpoint_missing_folder", defect: 6, prog: "batch", want: "folder nope does not exist",
			setup: func(w *work) []string { return pinn("-checkpoint", "nope/ck") }},
		{name: "synth_out_unwritable", defect: 6, prog: "synth", want: "not writable",
			setup: func(w *work) []string { return args("-out", "/proc/s.h5", "-frames", "30") }},

		// 7. Garbage written with exit status 0.
		{name: "synth_dt_1e-300", defect: 7, prog: "synth", want: "Euler steps",
			setup: func(w *work) []string { return args("-out", "res.h5", "-dt", "1e-300") }},
		{name: "synth_never_activates", defect: 7, prog: "synth", want: "never activates",
			setup: func(w *work) []string {
				return append(smallMeshes(w), "-out", "res.h5", "-tend", "0.01", "-frames", "5", "-log-level", "warn")
			}},
		{name: "batch_frames_maxint", defect: 7, prog: "batch", want: "batch frames 9223372036854775807 exceed the 20 frames",
			setup: func(w *work) []string { return pinn("-batch-frames", "9223372036854775807") }},
		{name: "noise_1e308", defect: 7, prog: "batch", want: "-noise 1e+308: the noisy BSPM is unusable",
			setup: func(w *work) []string { return batch("-noise", "1e308") }},
		{name: "heart_nodes_coincide", defect: 7, prog: "batch", want: "degenerate triangle",
			setup: func(w *work) []string {
				m := geometry.Icosphere(1, 20)
				for i := range m.Nodes {
					m.Nodes[i] = [3]float64{1, 2, 3}
				}
				w.npyMesh(m)
				return npyRun()
			}},

		// 8. One schema for every method.
		{name: "heart_open", defect: 8, prog: "batch", want: "not closed",
			setup: func(w *work) []string {
				m := geometry.Icosphere(1, 20)
				m.Tris = m.Tris[1:]
				w.npyMesh(m)
				return npyRun()
			}},
		{name: "heart_non_manifold", defect: 8, prog: "batch", want: "non-manifold",
			setup: func(w *work) []string {
				m := geometry.Icosphere(1, 20)
				t0 := m.Tris[0]
				far := farthest(m, t0[0])
				m.Tris = append(m.Tris, [3]int{t0[0], t0[1], far})
				w.npyMesh(m)
				return npyRun()
			}},
		{name: "heart_flat", defect: 8, prog: "batch", want: "flat surface",
			setup: func(w *work) []string { w.npyMesh(flatOctahedron()); return npyRun() }},
		{name: "heart_isolated_node", defect: 8, prog: "batch", want: "is in no triangle",
			setup: func(w *work) []string {
				m := geometry.Icosphere(1, 20)
				m.Nodes = append(m.Nodes, [3]float64{0, 0, 0})
				w.npyMesh(m)
				return npyRun()
			}},
		{name: "time_non_uniform_tikhonov", defect: 8, prog: "batch", want: "uniform sampling",
			setup: func(w *work) []string { w.npyTimeJitter(); return npyRun() }},
		{name: "time_non_uniform_pinn", defect: 8, prog: "batch", want: "uniform sampling",
			setup: func(w *work) []string {
				w.npyTimeJitter()
				return append([]string{"-in", "run", "-out", "res.h5"}, pinnArgs...)
			}},

		// 9. Bad input or usage reported as an internal failure.
		{name: "width_0", defect: 9, prog: "batch", want: "width must be ≥ 1",
			setup: func(w *work) []string { return pinn("-width", "0") }},
		{name: "layers_0", defect: 9, prog: "batch", want: "layers",
			setup: func(w *work) []string { return pinn("-layers", "0") }},
		{name: "blocks_-1", defect: 9, prog: "batch", want: "blocks must be ≥ 0",
			setup: func(w *work) []string { return pinn("-blocks", "-1") }},
		{name: "lr_Inf", defect: 9, prog: "batch", want: "learning rates",
			setup: func(w *work) []string { return pinn("-lr", "Inf") }},
		{name: "ep_lambda_Inf", defect: 9, prog: "batch", want: "lambda +Inf",
			setup: func(w *work) []string { return pinn("-ep-lambda", "Inf") }},
		{name: "window_1e9", defect: 9, prog: "batch", want: "STRE window 1000000000 needs more than 20 frames",
			setup: func(w *work) []string {
				return args("-in", "run.h5", "-out", "res.h5", "-method", "stre", "-window", "1000000000", "-log-level", "warn")
			}},
		{name: "R_all_zero", defect: 9, prog: "batch", want: "all zeros",
			setup: func(w *work) []string { w.npyDense(runfile.Forward, mat.NewDense(42, 42, nil)); return npyRun() }},
		{name: "checkpoint_truncated", defect: 9, prog: "batch", want: "not a checkpoint",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(*ck) {})
				st, err := os.Stat(w.path("ck.gob"))
				must(w.t, err)
				must(w.t, os.Truncate(w.path("ck.gob"), st.Size()/2))
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},
		{name: "checkpoint_random", defect: 9, prog: "batch", want: "not a checkpoint",
			setup: func(w *work) []string {
				rb := make([]byte, 4096)
				for i := range rb {
					rb[i] = byte(i * 7919)
				}
				must(w.t, os.WriteFile(w.path("ck.gob"), rb, 0o644))
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},
		{name: "checkpoint_empty", defect: 9, prog: "batch", want: "not a checkpoint",
			setup: func(w *work) []string {
				must(w.t, os.WriteFile(w.path("ck.gob"), nil, 0o644))
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},
		{name: "checkpoint_folder", defect: 9, prog: "batch", want: "is a folder",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("ck.gob"), 0o755))
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},

		// 10. Values accepted without checks.
		{name: "max_retries_-3", defect: 10, prog: "batch", want: "max retries -3",
			setup: func(w *work) []string { return pinn("-max-retries", "-3") }},
		{name: "checkpoint_every_-1", defect: 10, prog: "batch", want: "checkpoint every -1",
			setup: func(w *work) []string { return pinn("-checkpoint-every", "-1") }},
		{name: "monitor_every_-1", defect: 10, prog: "batch", want: "monitor every -1",
			setup: func(w *work) []string { return pinn("-monitor-every", "-1") }},
		{name: "bad_init_ratio_NaN", defect: 10, prog: "batch", want: "bad-initialization ratio NaN",
			setup: func(w *work) []string { return pinn("-bad-init-ratio", "NaN") }},
		{name: "pace_NaN", defect: 10, prog: "synth", want: "want a finite coordinate",
			setup: func(w *work) []string { return args("-out", "res.h5", "-pace", "NaN,0,0") }},
		{name: "units_array", defect: 10, prog: "batch", want: "attribute units",
			setup: func(w *work) []string {
				must(w.t, StringArrayAttr(w.path("run.h5"), "units", "mV", "uV"))
				return batch()
			}},

		// 11. Hangs.
		{name: "run_file_fifo", defect: 11, prog: "batch", want: "named pipe",
			setup: func(w *work) []string {
				must(w.t, syscall.Mkfifo(w.path("fifo.h5"), 0o644))
				return batch("-in", "fifo.h5")
			}},
		{name: "R_npy_fifo", defect: 11, prog: "batch", want: "named pipe",
			setup: func(w *work) []string {
				must(w.t, os.Remove(w.path("run/forward/R.npy")))
				must(w.t, syscall.Mkfifo(w.path("run/forward/R.npy"), 0o644))
				return npyRun()
			}},
		{name: "synth_tend_1e12", defect: 11, prog: "synth", want: "Euler steps",
			setup: func(w *work) []string { return args("-out", "res.h5", "-tend", "1e12") }},

		// 13. A crafted checkpoint whose hash matches.
		{name: "checkpoint_order_out_of_range", defect: 13, prog: "batch", want: "not part of a permutation",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(c *ck) { c.Order[0] = 1 << 20 })
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},
		{name: "checkpoint_position_past_end", defect: 13, prog: "batch", want: "batch position 7",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(c *ck) { c.Pos = 7 })
				return pinn("-checkpoint", "ck.gob", "-resume")
			}},

		// Classes of this corpus' own.
		{name: "h5_external_link_to_fifo", prog: "batch", want: "soft or external link, not followed",
			setup: func(w *work) []string {
				must(w.t, syscall.Mkfifo(w.path("pipe.h5"), 0o644))
				must(w.t, Unlink(w.path("run.h5"), runfile.BSPM))
				must(w.t, MakeLink(w.path("run.h5"), ExternalLink, "/bspm", "pipe.h5", runfile.BSPM))
				return batch()
			}},
		{name: "h5_soft_link", prog: "batch", want: "soft or external link",
			setup: func(w *work) []string {
				must(w.t, Unlink(w.path("run.h5"), runfile.TruthV))
				must(w.t, MakeLink(w.path("run.h5"), SoftLink, "/truth/u", "", runfile.TruthV))
				return batch()
			}},
		{name: "h5_external_storage_dev_zero", prog: "batch", want: "raw data in external files",
			setup: func(w *work) []string {
				w.declare(runfile.Forward, []uint64{42, 42}, nil, false, "/dev/zero")
				return batch()
			}},
		{name: "h5_never_written", prog: "batch", want: "never fully written",
			setup: func(w *work) []string {
				w.declare(runfile.TruthU, []uint64{42, frames}, []uint64{7, 5}, false, "")
				return batch()
			}},
		{name: "report_group_cycle", prog: "report", want: "none of the 1 result files could be read",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("results"), 0o755))
				resultFile(w.t, w.path("results/r.h5"), "run.h5")
				must(w.t, MakeLink(w.path("results/r.h5"), HardLink, "/metrics", "", "/metrics/loop"))
				return args("-in", "results", "-log-level", "error")
			}},
		{name: "attrs_json_fifo", prog: "batch", want: "named pipe",
			setup: func(w *work) []string {
				must(w.t, os.Remove(w.path("run/attrs.json")))
				must(w.t, syscall.Mkfifo(w.path("run/attrs.json"), 0o644))
				return npyRun()
			}},
		{name: "in_is_char_device", prog: "batch", want: "character device",
			setup: func(w *work) []string { mknodNull(w.t, w.path("null.h5")); return batch("-in", "null.h5") }},
	}
}

// smallMeshes writes heart.h5 (a 162-node icosphere, r = 20 mm) and
// torso.h5 (r = 80 mm) and returns the eandarn-synth flags of a quick
// generation from them: 30 frames over 20 AP time units, paced at node 0.
func smallMeshes(w *work) []string {
	clitest.WriteMesh(w.t, w.path("heart.h5"), geometry.Icosphere(2, 20))
	clitest.WriteMesh(w.t, w.path("torso.h5"), geometry.Icosphere(2, 80))
	return args("-heart", "heart.h5", "-torso", "torso.h5", "-frames", "30", "-tend", "20", "-pace", "0")
}

// farthest returns the node of m farthest from node i.
func farthest(m *mesh.Mesh, i int) int {
	best, far := -1.0, 0
	for j, x := range m.Nodes {
		d := math.Hypot(math.Hypot(x[0]-m.Nodes[i][0], x[1]-m.Nodes[i][1]), x[2]-m.Nodes[i][2])
		if d > best {
			best, far = d, j
		}
	}
	return far
}

// flatOctahedron is a closed octahedron with its two apexes moved into
// the plane of the other four nodes: valid triangles, zero volume.
func flatOctahedron() *mesh.Mesh {
	return &mesh.Mesh{
		Nodes: [][3]float64{{10, 0, 0}, {0, 10, 0}, {-10, 0, 0}, {0, -10, 0}, {0, 0, 0}, {0, 0, 0}},
		Tris: [][3]int{{0, 1, 4}, {1, 2, 4}, {2, 3, 4}, {3, 0, 4},
			{1, 0, 5}, {2, 1, 5}, {3, 2, 5}, {0, 3, 5}},
	}
}

// npyTimeJitter moves frame 5 of the NPY run folder by 30% of a step.
func (w *work) npyTimeJitter() {
	tm := append([]float64(nil), w.p.Time...)
	tm[5] += 0.15
	must(w.t, npy.WriteVector(w.path("run/"+runfile.Time+".npy"), tm))
}

// decodeCk reads a checkpoint file.
func decodeCk(t *testing.T, path string) *ck {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	var c ck
	must(t, gob.NewDecoder(f).Decode(&c))
	return &c
}

// encodeCk writes c as a checkpoint file.
func encodeCk(t *testing.T, path string, c *ck) {
	t.Helper()
	var buf bytes.Buffer
	must(t, gob.NewEncoder(&buf).Encode(c))
	must(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// TestStaleTemporaries (defect 14): the temporary a killed writer left
// beside its output is removed by the next run that writes that output,
// while one a live process holds (locked) or one younger than the run is
// left alone, and nothing else is touched.
func TestStaleTemporaries(t *testing.T) {
	w := newWork(t)
	old := time.Now().Add(-time.Hour)
	stale, held, young, other := w.path(".res.h5.tmp-111"), w.path(".res.h5.tmp-222"), w.path(".res.h5.tmp-333"), w.path(".other.h5.tmp-444")
	for _, p := range []string{stale, held, young, other} {
		must(t, os.WriteFile(p, make([]byte, 1<<16), 0o600))
		if p != young {
			must(t, os.Chtimes(p, old, old))
		}
	}
	must(t, os.Chtimes(young, time.Now().Add(time.Hour), time.Now().Add(time.Hour)))
	staleDir := w.path(".res.h5.tmp-555.old")
	must(t, os.Mkdir(staleDir, 0o755))
	must(t, os.Chtimes(staleDir, old, old))
	f, err := os.Open(held)
	must(t, err)
	defer f.Close()
	must(t, syscall.Flock(int(f.Fd()), syscall.LOCK_SH))

	o := run(t, w.dir, "eandarn-batch", "-in", "run.h5", "-out", "res.h5", "-method", "tikhonov0", "-log-level", "warn")
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	for _, c := range []struct {
		path string
		gone bool
	}{{stale, true}, {staleDir, true}, {held, false}, {young, false}, {other, false}} {
		_, err := os.Lstat(c.path)
		if gone := err != nil; gone != c.gone {
			t.Errorf("%s: removed %v, want %v", filepath.Base(c.path), gone, c.gone)
		}
	}
}

// TestSignalStopsPromptly (defect 11): SIGTERM in the middle of STRE's
// factorizations (each takes seconds and cannot be interrupted) stops the
// job at once with exit status 3 and no result.
func TestSignalStopsPromptly(t *testing.T) {
	w := newWork(t)
	// 1500 frames make each of STRE's five T x T eigen-decompositions take
	// about a second or more.
	must(t, runfile.Save(w.path("long.h5"), problem(1500)))
	before := snapshot(t, w.dir)
	began := time.Now()
	cmd, out, errb, cancel := start(t, w.dir, "eandarn-batch", "-in", "long.h5", "-out", "res.h5", "-method", "stre", "-log-level", "error")
	time.Sleep(1500 * time.Millisecond)
	sent := time.Now()
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	o := finish(t, cmd, out, errb, cancel, began)
	latency := time.Since(sent)
	refused(t, "eandarn-batch", o, 3, "interrupted")
	unchanged(t, before, snapshot(t, w.dir))
	t.Logf("stopped %v after SIGTERM (measured under load)", latency)
	if latency > 3*time.Second {
		t.Errorf("stopped %v after SIGTERM, want well under 3 s", latency)
	}
}

// TestUnwritableOutputFolder (defect 6): with the output folder immutable
// (chattr +i as root, mode 0555 otherwise), every binary refuses at once
// instead of running the whole job and failing at the end.
func TestUnwritableOutputFolder(t *testing.T) {
	w := newWork(t)
	ro := w.path("ro")
	must(t, os.Mkdir(ro, 0o755))
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chattr", "+i", ro).CombinedOutput(); err != nil {
			t.Skipf("chattr +i not available here (%v: %s)", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", ro).Run() })
	} else {
		must(t, os.Chmod(ro, 0o555))
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
	}
	synth := append(smallMeshes(w), "-out", "ro/s.h5")
	before := snapshot(t, w.dir)
	for _, c := range []struct {
		prog string
		args []string
	}{
		{"eandarn-batch", []string{"-in", "run.h5", "-out", "ro/res.h5", "-method", "tikhonov2"}},
		{"eandarn-batch", append([]string{"-in", "run.h5", "-out", "ro/res.h5"}, pinnArgs...)},
		{"eandarn-batch", append([]string{"-in", "run.h5", "-out", "res2.h5", "-checkpoint", "ro/ck"}, pinnArgs...)},
		{"eandarn-synth", synth},
	} {
		o := run(t, w.dir, c.prog, c.args...)
		refused(t, c.prog, o, 2, "not writable")
		unchanged(t, before, snapshot(t, w.dir))
	}
}
