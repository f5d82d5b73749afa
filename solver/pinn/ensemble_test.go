package pinn

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
)

// TestEnsemble trains an ensemble of 3 on a tiny problem for each PINN
// variant and checks it against its members trained alone (the runs of
// -seed MemberSeed(1, k)): U is their mean and UStd their sample std at
// every node and frame (to rounding: Welford's sums against the
// two-pass formula), member_re their RE; member 0 is the plain run.
func TestEnsemble(t *testing.T) {
	p := tinyProblem(11, 24)
	const K = 3
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			m := smallMethod(t, name, t.TempDir())
			m.Config.Epochs = 2
			m.Run.Ensemble = K
			r, err := m.Solve(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			n, T := p.TruthU.Dims()
			if r.UStd == nil {
				t.Fatal("no UStd")
			}
			if rr, c := r.UStd.Dims(); rr != n || c != T {
				t.Fatalf("UStd %dx%d, want %dx%d", rr, c, n, T)
			}
			var members [K][]float64
			for k := range K {
				a := smallMethod(t, name, t.TempDir())
				a.Config.Epochs = 2
				a.Config.Seed = MemberSeed(1, k)
				ra, err := a.Solve(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				members[k] = ra.U.RawMatrix().Data
				if re := metrics.RE(ra.U, p.TruthU); r.Series["member_re"][k] != re {
					t.Errorf("member %d: member_re %v, alone %v", k, r.Series["member_re"][k], re)
				}
				for _, s := range []string{"loss_data", "loss_ep"} {
					if got, want := r.Series["member_"+s][k], ra.Series[s][len(ra.Series[s])-1]; got != want {
						t.Errorf("member %d: member_%s %v, last %s alone %v", k, s, got, s, want)
					}
				}
				if j, se := ObjectiveTail(ra.Series["loss_data"], ra.Series["loss_ep"], a.Config.Lambda, TailEpochs); r.Series["member_objective_tail"][k] != j || r.Series["member_objective_tail_se"][k] != se {
					t.Errorf("member %d: objective tail %v ± %v, alone %v ± %v", k, r.Series["member_objective_tail"][k], r.Series["member_objective_tail_se"][k], j, se)
				}
			}
			if reflect.DeepEqual(members[0], members[1]) {
				t.Fatal("members 0 and 1 are the same network")
			}
			for q := range n * T {
				var mean, ss float64
				for k := range K {
					mean += members[k][q] / K
				}
				for k := range K {
					ss += (members[k][q] - mean) * (members[k][q] - mean)
				}
				std := math.Sqrt(ss / (K - 1))
				if got := r.U.RawMatrix().Data[q]; math.Abs(got-mean) > 1e-13 {
					t.Fatalf("U[%d] = %v, mean of the members %v", q, got, mean)
				}
				if got := r.UStd.RawMatrix().Data[q]; math.Abs(got-std) > 1e-12*(1+std) {
					t.Fatalf("UStd[%d] = %v, sample std of the members %v", q, got, std)
				}
			}
			if r.Values["ensemble"] != K || len(r.Series["member_ratio0"]) != K || len(r.Series["member_epochs"]) != K {
				t.Errorf("values %v, series %v", r.Values, r.Series)
			}

			// -ensemble-reduce lowest-objective: that member's U, the same std.
			low := LowestObjective(r.Series["member_loss_data"], r.Series["member_loss_ep"], m.Config.Lambda)
			if got := r.Values["ensemble_lowest_objective"]; got != float64(low) {
				t.Errorf("values/ensemble_lowest_objective %v, want %d", got, low)
			}
			reduced := func(reduce string) *inverse.Result {
				mr := smallMethod(t, name, t.TempDir())
				mr.Config.Epochs = 2
				mr.Run.Ensemble, mr.Run.EnsembleReduce = K, reduce
				rr, err := mr.Solve(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				return rr
			}
			rl := reduced(ReduceLowestObjective)
			if !reflect.DeepEqual(rl.U.RawMatrix().Data, members[low]) {
				t.Errorf("lowest-objective: U is not member %d's", low)
			}
			if !mat.Equal(rl.UStd, r.UStd) {
				t.Error("lowest-objective: UStd differs from the mean's")
			}
			if rl.Config["ensemble_reduce"] != ReduceLowestObjective || r.Config["ensemble_reduce"] != ReduceMean {
				t.Errorf("config ensemble_reduce %v and %v", rl.Config["ensemble_reduce"], r.Config["ensemble_reduce"])
			}

			// -ensemble-reduce near-lowest: the mean of the members NearLowest
			// keeps, judged by their ObjectiveTail over the 2 epochs.
			keep := NearLowest(r.Series["member_objective_tail"], r.Series["member_objective_tail_se"])
			var kept []int
			for k := range K {
				if keep[k] {
					kept = append(kept, k)
				}
			}
			if got := r.Values["ensemble_near_lowest"]; got != float64(len(kept)) || len(kept) == 0 {
				t.Errorf("values/ensemble_near_lowest %v, NearLowest keeps %v", got, kept)
			}
			rn := reduced(ReduceNearLowest)
			for q := range n * T {
				var mean float64
				for _, k := range kept {
					mean += members[k][q] / float64(len(kept))
				}
				if got := rn.U.RawMatrix().Data[q]; math.Abs(got-mean) > 1e-13 {
					t.Fatalf("near-lowest: U[%d] = %v, mean of members %v %v", q, got, kept, mean)
				}
			}
			if !mat.Equal(rn.UStd, r.UStd) {
				t.Error("near-lowest: UStd differs from the mean's")
			}
			// Both reductions' RE are recorded whatever the reduction.
			for _, rr := range []*inverse.Result{r, rl, rn} {
				if got, want := rr.Values["ensemble_mean_re"], metrics.RE(r.U, p.TruthU); got != want {
					t.Errorf("%s: values/ensemble_mean_re %v, the mean's RE %v", rr.Config["ensemble_reduce"], got, want)
				}
				if got, want := rr.Values["ensemble_near_lowest_re"], metrics.RE(rn.U, p.TruthU); got != want {
					t.Errorf("%s: values/ensemble_near_lowest_re %v, near-lowest's RE %v", rr.Config["ensemble_reduce"], got, want)
				}
			}
		})
	}
}

// TestEnsembleResume interrupts an ensemble inside its second member and
// resumes it: member 0 continues from its final checkpoint, member 1 from
// the interruption, member 2 starts afresh (no file), and the mean, the
// std and every member's checkpoint equal those of an uninterrupted
// ensemble bit for bit.
func TestEnsembleResume(t *testing.T) {
	p := tinyProblem(11, 24)
	a := smallMethod(t, "eandarn", t.TempDir())
	a.Run.Ensemble = 3
	ra, err := a.Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := smallMethod(t, "eandarn", dir)
	b.Run.Ensemble = 3
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	b.hooks.afterStep = func(int) {
		if steps++; steps == 18+8 { // members have 18 steps: step 8 of member 1
			cancel()
		}
	}
	if _, err := b.Solve(ctx, p); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupting: %v", err)
	}
	if _, err := os.Stat(MemberPath(b.Run.Checkpoint, 2)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("member 2 has a checkpoint before it started")
	}
	c := smallMethod(t, "eandarn", dir)
	c.Run.Ensemble = 3
	c.Run.Resume = c.Run.Checkpoint
	rc, err := c.Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ra.U.RawMatrix().Data, rc.U.RawMatrix().Data) || !reflect.DeepEqual(ra.UStd.RawMatrix().Data, rc.UStd.RawMatrix().Data) {
		t.Error("resumed ensemble differs from the uninterrupted one")
	}
	for k := range 3 {
		if !reflect.DeepEqual(finalParams(t, MemberPath(a.Run.Checkpoint, k)), finalParams(t, MemberPath(c.Run.Checkpoint, k))) {
			t.Errorf("member %d: final weights differ", k)
		}
	}
	if filepath.Base(MemberPath(c.Run.Checkpoint, 2)) != "ckpt.gob.member2" {
		t.Errorf("member path %s", MemberPath(c.Run.Checkpoint, 2))
	}
}

// TestMemberSeed: member 0 has the run's seed; the others are distinct
// and differ from the members of the neighbouring seeds.
func TestMemberSeed(t *testing.T) {
	seen := map[uint64]string{}
	for seed := uint64(1); seed <= 3; seed++ {
		if MemberSeed(seed, 0) != seed {
			t.Errorf("member 0 of seed %d has seed %d", seed, MemberSeed(seed, 0))
		}
		for k := 1; k < 10; k++ {
			s := MemberSeed(seed, k)
			if prev, dup := seen[s]; dup || s <= 3 {
				t.Errorf("seed %d member %d: %d, also %s", seed, k, s, prev)
			}
			seen[s] = "seen"
		}
	}
}

// TestLowestObjective: the smallest L_D + λ·L_EP, not the smallest of either
// alone; the first of equal ones; NaN never wins.
func TestLowestObjective(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name   string
		d, ep  []float64
		lambda float64
		want   int
	}{
		{name: "by the sum", d: []float64{1, 2, 3}, ep: []float64{30, 10, 1}, lambda: 0.1, want: 1},
		{name: "by L_D alone at λ 0", d: []float64{1, 2, 3}, ep: []float64{30, 10, 1}, lambda: 0, want: 0},
		{name: "by L_EP when λ is large", d: []float64{1, 2, 3}, ep: []float64{30, 10, 1}, lambda: 10, want: 2},
		{name: "the first of equal ones", d: []float64{2, 1, 1}, ep: []float64{0, 0, 0}, lambda: 1, want: 1},
		{name: "NaN first", d: []float64{nan, 2, 1}, ep: []float64{0, 0, 0}, lambda: 1, want: 2},
		{name: "NaN later", d: []float64{1, nan, 2}, ep: []float64{0, 0, 0}, lambda: 1, want: 0},
		{name: "one member", d: []float64{5}, ep: []float64{5}, lambda: 1, want: 0},
	} {
		if got := LowestObjective(c.d, c.ep, c.lambda); got != c.want {
			t.Errorf("%s: member %d, want %d", c.name, got, c.want)
		}
	}
}

// TestObjectiveTail: the mean and standard error of L_D + λ·L_EP over the
// last w epochs, against values worked by hand.
func TestObjectiveTail(t *testing.T) {
	for _, c := range []struct {
		name     string
		d, ep    []float64
		lambda   float64
		w        int
		mean, se float64
	}{
		// J = 5, 3, 1 over the last 3: mean 3, s = 2, se = 2/√3.
		{name: "last three of four", d: []float64{9, 4, 2, 0}, ep: []float64{0, 10, 10, 10}, lambda: 0.1, w: 3, mean: 3, se: 2 / math.Sqrt(3)},
		{name: "fewer epochs than w", d: []float64{1, 3}, ep: []float64{0, 0}, lambda: 1, w: 20, mean: 2, se: math.Sqrt(2) / math.Sqrt(2)},
		{name: "one epoch", d: []float64{2}, ep: []float64{4}, lambda: 0.5, w: 20, mean: 4, se: 0},
		{name: "constant", d: []float64{1, 1, 1}, ep: []float64{2, 2, 2}, lambda: 1, w: 2, mean: 3, se: 0},
	} {
		mean, se := ObjectiveTail(c.d, c.ep, c.lambda, c.w)
		if math.Abs(mean-c.mean) > 1e-12 || math.Abs(se-c.se) > 1e-12 {
			t.Errorf("%s: %v ± %v, want %v ± %v", c.name, mean, se, c.mean, c.se)
		}
	}
	if mean, se := ObjectiveTail(nil, nil, 1, 20); !math.IsNaN(mean) || !math.IsNaN(se) {
		t.Errorf("no epochs: %v ± %v, want NaN", mean, se)
	}
}

// TestNearLowest (NearLowestZ = 4): members within 4 standard errors (of the difference) of
// the lowest mean are kept, the others dropped; NaN members never, unless
// all are.
func TestNearLowest(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name     string
		mean, se []float64
		want     []bool
	}{
		// NearLowestZ·√(0.3² + 0.4²) = 2 (Z = 4): 11.99 is kept, 12.01 dropped.
		{name: "boundary", mean: []float64{10, 11.99, 12.01}, se: []float64{0.3, 0.4, 0.4}, want: []bool{true, true, false}},
		{name: "lowest not first", mean: []float64{12, 10, 10.1}, se: []float64{0.1, 0.1, 0.1}, want: []bool{false, true, true}},
		{name: "no spread: the lowest and its ties", mean: []float64{2, 1, 1}, se: []float64{0, 0, 0}, want: []bool{false, true, true}},
		{name: "NaN dropped", mean: []float64{nan, 1, 1.1}, se: []float64{0, 0.1, 0.1}, want: []bool{false, true, true}},
		{name: "all NaN", mean: []float64{nan, nan}, se: []float64{nan, nan}, want: []bool{true, true}},
		{name: "one member", mean: []float64{5}, se: []float64{1}, want: []bool{true}},
	} {
		if got := NearLowest(c.mean, c.se); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
