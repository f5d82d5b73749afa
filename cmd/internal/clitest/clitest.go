// Package clitest holds the test helpers the eandarn binaries' tests share:
// running a binary in-process or building it, checking the bad-input
// contract of cmd/internal/cli (exit status 2, one line on stderr, nothing
// on stdout, no output written and an existing output left as it was), and
// small fixtures (a tiny recording, a mesh file).
package clitest

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Call runs a binary's in-process entry point run (its main without
// os.Exit) on args and returns the exit status, stdout and stderr.
func Call(run func(args []string, stdout, stderr io.Writer) int, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// CheckRefused asserts a refusal: exit status 2, nothing on stdout and
// exactly one stderr line "prog: …" containing want.
func CheckRefused(t testing.TB, prog string, code int, stdout, stderr, want string) {
	t.Helper()
	if code != cli.ExitBadInput {
		t.Errorf("exit status %d, want %d (stderr %q)", code, cli.ExitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, prog+": ") || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want one line %q containing %q", stderr, prog+": ...", want)
	}
}

// kept is what RefusalKeepsOutput writes into an existing output.
const kept = "keep me"

// CheckOutput asserts that out still holds "keep me" when it existed, and
// does not exist otherwise; and that no temporary file was left beside it.
func CheckOutput(t testing.TB, out string, existed bool) {
	t.Helper()
	b, err := os.ReadFile(out)
	switch {
	case existed && (err != nil || string(b) != kept):
		t.Errorf("existing output changed: %q, %v", b, err)
	case !existed && err == nil:
		t.Errorf("output %s was written", out)
	}
	if ents, err := os.ReadDir(filepath.Dir(out)); err == nil && len(ents) > map[bool]int{true: 1}[existed] {
		t.Errorf("files left in the output folder: %v", ents)
	}
}

// RefusalKeepsOutput runs call with the output path name in a fresh
// temporary folder, first absent and then holding "keep me", and asserts
// each time that the binary prog refused (CheckRefused with want) and left
// the output as it was (CheckOutput).
func RefusalKeepsOutput(t *testing.T, prog, name, want string, call func(out string) (code int, stdout, stderr string)) {
	t.Helper()
	for _, existing := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), name)
		if existing {
			if err := os.WriteFile(out, []byte(kept), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := call(out)
		CheckRefused(t, prog, code, stdout, stderr, want)
		CheckOutput(t, out, existing)
	}
}

// Build builds the binaries of the packages pkgs (import paths) into dir
// with the go command of this toolchain and the given -ldflags ("" for
// none), as the Makefile does.
func Build(dir, ldflags string, pkgs ...string) error {
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gocmd); err != nil {
		if gocmd, err = exec.LookPath("go"); err != nil {
			return fmt.Errorf("no go toolchain to build the binaries: %w", err)
		}
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	out, err := exec.Command(gocmd, append(args, pkgs...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// TinyProblem is a 42-node heart (icosphere, r = 20 mm) inside a 42-node
// torso (r = 60 mm), every torso node a lead, with a smooth travelling wave
// as truth and a random but well-conditioned R (identity plus small PCG
// entries), T frames 0.5 AP units apart.
func TinyProblem(T int) *inverse.Problem {
	heart := geometry.Icosphere(1, 20)
	torso := geometry.Icosphere(1, 60)
	n, m := len(heart.Nodes), len(torso.Nodes)
	rng := rand.New(rand.NewPCG(7, 7))
	R := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			R.Set(i, j, 0.05*rng.NormFloat64())
		}
		R.Set(i, i, R.At(i, i)+1)
	}
	time := make([]float64, T)
	U, V := mat.NewDense(n, T, nil), mat.NewDense(n, T, nil)
	for f := range time {
		time[f] = 0.5 * float64(f)
	}
	for i, x := range heart.Nodes {
		for f, t := range time {
			U.Set(i, f, 0.5+0.5*math.Sin(x[2]/10-0.4*t))
			V.Set(i, f, 0.2+0.1*math.Cos(x[0]/10-0.4*t))
		}
	}
	var Y mat.Dense
	Y.Mul(R, U)
	leads := make([]int, m)
	for i := range leads {
		leads[i] = i
	}
	return &inverse.Problem{
		Heart: heart, Torso: torso, Leads: leads,
		R: R, BSPM: &Y, Time: time, TruthU: U, TruthV: V,
		Attrs: map[string]string{"units": "normalized", "generator": "clitest"},
	}
}

// WriteMesh writes m as FILE.h5 with root datasets nodes and triangles, the
// mesh file eandarn-synth -heart and -torso read.
func WriteMesh(t testing.TB, path string, m *mesh.Mesh) {
	t.Helper()
	f, err := h5.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	nodes, tris := MeshArrays(m)
	if err := f.WriteDense("nodes", nodes); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteInts("triangles", len(m.Tris), 3, tris); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// MeshArrays returns m as the arrays of a mesh file: the n x 3 node
// coordinates and the row-major F x 3 triangle indices.
func MeshArrays(m *mesh.Mesh) (*mat.Dense, []int) {
	nodes := mat.NewDense(len(m.Nodes), 3, nil)
	for i, x := range m.Nodes {
		nodes.SetRow(i, x[:])
	}
	tris := make([]int, 0, 3*len(m.Tris))
	for _, tr := range m.Tris {
		tris = append(tris, tr[:]...)
	}
	return nodes, tris
}
