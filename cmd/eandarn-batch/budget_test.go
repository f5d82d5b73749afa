package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/pinn"
)

// job runs eandarn-batch in-process, requires exit 0 and returns the JSON
// line and the result file.
func job(t *testing.T, args ...string) (summary, *resultfile.File) {
	t.Helper()
	code, stdout, stderr := call(append(args, "-device", "cpu", "-log-level", "warn")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	var out string
	for i, a := range args {
		if a == "-out" {
			out = args[i+1]
		}
	}
	f, err := resultfile.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

// TestTimeBudgetJob: -time-budget 1s on a small run file without -epochs
// trains until the budget is spent and ends cleanly: exit 0, a result file,
// the checkpoint, and values epochs K, lr_horizon N and budget_ended 1 in
// the JSON line and the file. The same job with -epochs K -lr-horizon N and
// no budget reproduces the reconstruction bit for bit; and the budgeted
// job's checkpoint, resumed with -resume and a new budget, continues (never
// restarts) its plan.
func TestTimeBudgetJob(t *testing.T) {
	dir := t.TempDir()
	in, ckpt := filepath.Join(dir, "run.h5"), filepath.Join(dir, "ckpt")
	writeRun(t, in)
	common := []string{"-in", in, "-method", "epdl-nd", "-batch-frames", "5", "-noise", "0.01", "-seed", "3"}
	s, f := job(t, append(common, "-out", filepath.Join(dir, "budget.h5"), "-time-budget", "1s", "-checkpoint", ckpt)...)
	K, N := f.Scalars["values/epochs"], f.Scalars["values/lr_horizon"]
	if f.Scalars["values/budget_ended"] != 1 || s.Values["budget_ended"] != 1.0 {
		t.Fatalf("budget_ended: file %v, JSON %v; want 1", f.Scalars["values/budget_ended"], s.Values["budget_ended"])
	}
	if !(K >= 1 && K <= N && N < 1e6) {
		t.Fatalf("epochs %v, lr_horizon %v: want 1 ≤ K ≤ N below the cap", K, N)
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint at the budget's stop: %v", err)
	}
	t.Logf("1 s budget: %v epochs of a %v-epoch horizon, RE %.4f", K, N, *s.RE)
	args := append(common, "-out", filepath.Join(dir, "repro.h5"), "-epochs", strconv.Itoa(int(K)))
	if K != N {
		args = append(args, "-lr-horizon", strconv.Itoa(int(N)))
	}
	_, g := job(t, args...)
	if !reflect.DeepEqual(data(f.Matrices["reconstruction/u"]), data(g.Matrices["reconstruction/u"])) {
		t.Errorf("-epochs %v -lr-horizon %v does not reproduce the budgeted run", K, N)
	}
	if !reflect.DeepEqual(f.Vectors["series/loss_data"], g.Vectors["series/loss_data"]) {
		t.Errorf("loss histories differ")
	}
	// Resuming with another second: the plan N is kept, at least the
	// epochs done are kept, and the history continues the first run's.
	_, h := job(t, append(common, "-out", filepath.Join(dir, "resumed.h5"), "-time-budget", "1s", "-checkpoint", ckpt, "-resume")...)
	if h.Scalars["values/lr_horizon"] != N || h.Scalars["values/epochs"] < K || !reflect.DeepEqual(h.Vectors["series/loss_data"][:int(K)], f.Vectors["series/loss_data"]) {
		t.Errorf("resumed: epochs %v of horizon %v; want ≥ %v of %v, continuing the first run's history", h.Scalars["values/epochs"], h.Scalars["values/lr_horizon"], K, N)
	}
}

// TestEnsembleJob: -ensemble 3 with every PINN method writes the mean as
// reconstruction/u, reconstruction/u_std of the same shape (non-negative,
// finite, not all zero), the members' REs and seeds, and the ensemble's
// scores in the file and the JSON line: the Spearman correlation recomputed
// from the written u_std and u, and the best and median of member_re.
// Checkpoints are per member and a rerun with -resume continues from them
// to the same result; with -ensemble-reduce lowest-objective to the member
// values/ensemble_lowest_objective names and the same u_std; with
// near-lowest to as many members as values/ensemble_near_lowest counts;
// every run records both reductions' RE, each equal to that reduction's
// metrics/re.
func TestEnsembleJob(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.h5")
	writeRun(t, in)
	truth := tinyProblem().TruthU
	for _, method := range pinn.Names {
		t.Run(method, func(t *testing.T) {
			ckpt := filepath.Join(dir, method+".ckpt")
			args := []string{"-in", in, "-method", method, "-epochs", "2", "-batch-frames", "5", "-ensemble", "3", "-checkpoint", ckpt, "-resume"}
			s, f := job(t, append(args, "-out", filepath.Join(dir, method+".h5"))...)
			u, std := f.Matrices["reconstruction/u"], f.Matrices["reconstruction/u_std"]
			if std == nil {
				t.Fatal("no reconstruction/u_std")
			}
			if r, c := std.Dims(); r != truth.RawMatrix().Rows || c != truth.RawMatrix().Cols {
				t.Fatalf("u_std %dx%d", r, c)
			}
			var sum float64
			for _, x := range data(std) {
				if !(x >= 0) || math.IsInf(x, 0) {
					t.Fatalf("u_std holds %v", x)
				}
				sum += x
			}
			if sum == 0 {
				t.Fatal("u_std is zero: the members are one network")
			}
			re := f.Vectors["series/member_re"]
			if len(re) != 3 || f.Scalars["values/ensemble"] != 3 {
				t.Fatalf("member_re %v, values/ensemble %v", re, f.Scalars["values/ensemble"])
			}
			sorted := append([]float64(nil), re...)
			slices.Sort(sorted)
			spearman := metrics.SpreadSkill(std, u, truth)
			e := s.Ensemble
			if e == nil || e.Members != 3 || e.Spearman == nil || *e.Spearman != spearman || f.Scalars["metrics/ensemble/spearman"] != spearman ||
				*e.BestMemberRE != sorted[0] || *e.MedianMemberRE != sorted[1] || f.Scalars["metrics/ensemble/median_member_re"] != sorted[1] {
				t.Errorf("ensemble summary %+v, file spearman %v; want spearman %v, best %v, median %v", e, f.Scalars["metrics/ensemble/spearman"], spearman, sorted[0], sorted[1])
			}
			for k := range 3 {
				if _, err := os.Stat(pinn.MemberPath(ckpt, k)); err != nil {
					t.Errorf("member %d: no checkpoint: %v", k, err)
				}
			}
			_, g := job(t, append(args, "-out", filepath.Join(dir, method+"-again.h5"))...)
			if !reflect.DeepEqual(data(u), data(g.Matrices["reconstruction/u"])) ||
				!reflect.DeepEqual(data(std), data(g.Matrices["reconstruction/u_std"])) {
				t.Error("rerun with -resume from the members' final checkpoints gives another result")
			}
			// -ensemble-reduce lowest-objective from the same members: their
			// std, and the reconstruction of the member the file names.
			_, l := job(t, append(args, "-ensemble-reduce", "lowest-objective", "-out", filepath.Join(dir, method+"-lowest.h5"))...)
			k := int(l.Scalars["values/ensemble_lowest_objective"])
			if k != int(f.Scalars["values/ensemble_lowest_objective"]) || l.Scalars["metrics/re"] != re[k] ||
				!reflect.DeepEqual(data(std), data(l.Matrices["reconstruction/u_std"])) {
				t.Errorf("lowest-objective: member %d, RE %v; want member %v's RE %v and the mean's u_std",
					k, l.Scalars["metrics/re"], f.Scalars["values/ensemble_lowest_objective"], re[k])
			}
			// -ensemble-reduce near-lowest from the same members: as many kept
			// as the mean's run records, by the members' recorded objective
			// tails; all kept, the mean again.
			_, nl := job(t, append(args, "-ensemble-reduce", "near-lowest", "-out", filepath.Join(dir, method+"-near.h5"))...)
			kept := nl.Scalars["values/ensemble_near_lowest"]
			keep := pinn.NearLowest(f.Vectors["series/member_objective_tail"], f.Vectors["series/member_objective_tail_se"])
			if n := float64(len(slices.DeleteFunc(keep, func(b bool) bool { return !b }))); kept != f.Scalars["values/ensemble_near_lowest"] || kept != n || kept < 1 ||
				!reflect.DeepEqual(data(std), data(nl.Matrices["reconstruction/u_std"])) {
				t.Errorf("near-lowest: kept %v, the mean's run %v, NearLowest of the tails %v; or u_std differs", kept, f.Scalars["values/ensemble_near_lowest"], n)
			}
			// Both reductions' RE are in every run's file and JSON line.
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"mean's run, mean_re", *e.MeanRE, f.Scalars["metrics/re"]},
				{"mean's run, file mean_re", f.Scalars["metrics/ensemble/mean_re"], f.Scalars["metrics/re"]},
				{"mean's run, near_lowest_re", *e.NearLowestRE, nl.Scalars["metrics/re"]},
				{"near-lowest run, near_lowest_re", nl.Scalars["metrics/ensemble/near_lowest_re"], nl.Scalars["metrics/re"]},
				{"near-lowest run, mean_re", nl.Scalars["metrics/ensemble/mean_re"], f.Scalars["metrics/re"]},
			} {
				if math.Abs(c.got-c.want) > 1e-12*c.want {
					t.Errorf("%s %v, want %v", c.what, c.got, c.want)
				}
			}
			if kept == 3 {
				for i, x := range data(nl.Matrices["reconstruction/u"]) {
					if math.Abs(x-data(u)[i]) > 1e-12 {
						t.Fatalf("near-lowest keeping all: u[%d] = %v, the mean %v", i, x, data(u)[i])
					}
				}
			}
		})
	}
}

// data returns the values of a matrix read from a result file.
func data(m mat.Matrix) []float64 { return m.(*mat.Dense).RawMatrix().Data }
