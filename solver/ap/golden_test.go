package ap

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ap")

// goldenPath is the fixture of TestGoldenActivation, in the repository's
// testdata folder (the test runs in solver/ap).
var goldenPath = filepath.Join("..", "..", "testdata", "ap", "icosphere2_r20_node0.csv")

// TestGoldenActivation pins the integrator: activation (u = 0.5 upward) and
// recovery (u = 0.1 downward) times per node of a small run (icosphere of
// 162 nodes, radius 20 mm, paced at node 0 with a 6 mm patch) must match the
// stored ones to 1e-8 (rounding differences, e.g. fused multiply-adds on
// arm64, stay far below that). Regenerate with go test -run Golden -update.
func TestGoldenActivation(t *testing.T) {
	h := geometry.Icosphere(2, 20)
	cfg := DefaultConfig()
	cfg.Heart = h
	cfg.Stim.Pacing = Pacing{Kind: PaceNode, Node: 0}
	cfg.Stim.Radius = 6
	cfg.Frames, cfg.Tend = 201, 40
	sol, err := Simulate(mesh.LaplaceBeltrami(h), cfg)
	if err != nil {
		t.Fatal(err)
	}
	act := ActivationTimes(sol, 0.5)
	rec := RecoveryTimes(sol, act, 0.1)
	if *update {
		var b strings.Builder
		b.WriteString("node,activation,recovery\n")
		for i := range act {
			fmt.Fprintf(&b, "%d,%.17g,%.17g\n", i, act[i], rec[i])
		}
		if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("open golden file (regenerate with -update): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	rows := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != 3 {
			t.Fatalf("%s: line %d: %d fields, want 3", goldenPath, rows+2, len(fields))
		}
		i, err := strconv.Atoi(fields[0])
		if err != nil || i != rows {
			t.Fatalf("%s: line %d: node %q, want %d", goldenPath, rows+2, fields[0], rows)
		}
		for k, got := range []float64{act[i], rec[i]} {
			want, err := strconv.ParseFloat(fields[k+1], 64)
			if err != nil {
				t.Fatalf("%s: line %d: %v", goldenPath, rows+2, err)
			}
			if !(math.Abs(got-want) <= 1e-8) {
				t.Fatalf("node %d: %s time %.12g, golden %.12g", i, []string{"activation", "recovery"}[k], got, want)
			}
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != len(act) {
		t.Fatalf("%s: %d nodes, simulation has %d", goldenPath, rows, len(act))
	}
}
