package pinn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/nn"
)

// MemberSeed returns the seed of ensemble member k of a run seeded with
// seed: seed itself for member 0 (so member 0 is the plain run), and
// SplitMix64(seed + k·0x9e3779b97f4a7c15) for k ≥ 1, so the members of
// neighbouring seeds do not overlap (seed + k would make the ensembles of
// -seed 1 and -seed 2 share all members but one).
func MemberSeed(seed uint64, k int) uint64 {
	if k == 0 {
		return seed
	}
	z := seed + uint64(k)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// MemberPath is the checkpoint file of ensemble member k of a run whose
// checkpoint is path: "path.member<k>".
func MemberPath(path string, k int) string {
	return path + ".member" + strconv.Itoa(k)
}

// ensemble trains Run.Ensemble = K networks one after the other on the
// objective o, which keeps everything uploaded (node coordinates, frame
// times, R, the BSPM, the Eq. 15 operator, the Eq. 17–18 stencil and every
// step buffer): member k only uploads its initial weights (nn.New with
// MemberSeed) and zeroes Adam's moments. Member k has the configuration
// with Seed = MemberSeed(Config.Seed, k), so it is exactly the run of that
// seed: its own batch order, collocation draws and initialization. Its
// checkpoint is MemberPath(Run.Checkpoint, k); with Run.Resume, member k
// continues from MemberPath(Run.Resume, k) when that file exists and starts
// afresh otherwise (a member not reached before an interruption). With a
// deadline, member k's is now + (deadline − now)/(K − k): an equal share of
// the time left.
//
// The result is the mean over members, Ū = (1/K) Σ_k U_k (and V̄), or
// with Run.EnsembleReduce ReduceLowestObjective the U and V of the member
// LowestObjective picks, with UStd = sqrt(Σ_k (U_k − Ū)²/(K − 1)), the
// sample std per node and frame over all members (Welford's running sums,
// in member order). Values and the loss series are member 0's (the plain
// run's); "ensemble" is K, "ensemble_lowest_objective" the index of the
// member with the lowest objective (whatever the reduction), and the Series
// "member_ratio0", "member_epochs", "member_lr_horizon" (what reproduces a
// member of a budgeted ensemble: -seed MemberSeed, -epochs, -lr-horizon),
// "member_loss_data" and "member_loss_ep" (each member's last epoch mean of
// L_D and of L_EP: what a truth-free comparison of the members has) and,
// with truth,
// "member_re" (RE of each member against the truth: monitoring only) hold
// every member's; Config["ensemble_seeds"] lists the seeds.
func (m *Method) ensemble(ctx context.Context, p *inverse.Problem, o *objective, log *slog.Logger) (*inverse.Result, error) {
	K := m.Run.Ensemble
	var (
		out            *inverse.Result
		mean, m2, vbar *mat.Dense
		seeds          = make([]uint64, K)
		ratio0, epochs = make([]float64, K), make([]float64, K)
		horizons       = make([]float64, K)
		lossD, lossEP  = make([]float64, K), make([]float64, K)
		memberRE       []float64
		lowU, lowV     *mat.Dense // the lowest-objective member's so far
	)
	for k := range K {
		cfg, run := m.Config, m.Run
		cfg.Seed = MemberSeed(m.Config.Seed, k)
		seeds[k] = cfg.Seed
		if run.Checkpoint != "" {
			run.Checkpoint = MemberPath(run.Checkpoint, k)
		}
		if run.Resume != "" {
			run.Resume = MemberPath(run.Resume, k)
			if _, err := os.Stat(run.Resume); errors.Is(err, fs.ErrNotExist) {
				run.Resume = ""
			}
		}
		if !run.Deadline.IsZero() {
			now := m.hooks.clock()
			run.Deadline = now.Add(run.Deadline.Sub(now) / time.Duration(K-k))
		}
		if k > 0 {
			net, err := nn.New(o.net.Config, o.net.Norm, cfg.Seed)
			if err != nil {
				return nil, fmt.Errorf("pinn: ensemble member %d: %w", k, err)
			}
			zero := make([]float64, net.NumParams())
			if err := o.push(net.Params, zero, zero); err != nil {
				return nil, fmt.Errorf("pinn: ensemble member %d: upload weights: %w", k, err)
			}
			o.net = net
		}
		o.cfg = &cfg
		mlog := log.With("member", k, "of", K, "seed", cfg.Seed)
		mlog.Info("ensemble member", "checkpoint", run.Checkpoint, "resume", run.Resume != "")
		r, err := m.train(ctx, p, o, &cfg, &run, mlog)
		if err != nil {
			return nil, fmt.Errorf("ensemble member %d of %d (seed %d): %w", k, K, cfg.Seed, err)
		}
		ratio0[k], epochs[k], horizons[k] = r.Values["ratio0"], r.Values["epochs"], r.Values["lr_horizon"]
		lossD[k], lossEP[k] = last(r.Series["loss_data"]), last(r.Series["loss_ep"])
		if p.TruthU != nil {
			memberRE = append(memberRE, metrics.RE(r.U, p.TruthU))
		}
		if m.Run.EnsembleReduce == ReduceLowestObjective && LowestObjective(lossD[:k+1], lossEP[:k+1], cfg.Lambda) == k {
			lowU, lowV = mat.DenseCopyOf(r.U), mat.DenseCopyOf(r.V)
		}
		if k == 0 {
			out, mean, vbar = r, mat.DenseCopyOf(r.U), mat.DenseCopyOf(r.V)
			n, T := r.U.Dims()
			m2 = mat.NewDense(n, T, nil)
			continue
		}
		welford(mean, m2, r.U, k+1)
		vbar.Apply(func(i, j int, v float64) float64 { return v + (r.V.At(i, j)-v)/float64(k+1) }, vbar)
	}
	m2.Apply(func(_, _ int, v float64) float64 { return math.Sqrt(v / float64(K-1)) }, m2)
	out.U, out.V, out.UStd = mean, vbar, m2
	if lowU != nil {
		out.U, out.V = lowU, lowV
	}
	out.Values["ensemble"] = float64(K)
	out.Values["ensemble_lowest_objective"] = float64(LowestObjective(lossD, lossEP, m.Config.Lambda))
	out.Config["ensemble_reduce"] = cmp.Or(m.Run.EnsembleReduce, ReduceMean)
	out.Series["member_ratio0"] = ratio0
	out.Series["member_epochs"] = epochs
	out.Series["member_lr_horizon"] = horizons
	out.Series["member_loss_data"] = lossD
	out.Series["member_loss_ep"] = lossEP
	if memberRE != nil {
		out.Series["member_re"] = memberRE
	}
	out.Config["ensemble_seeds"] = seeds
	return out, nil
}

// LowestObjective returns the index k of the smallest training objective
// L_D,k + λ·L_EP,k (Eq. 4) over ensemble members whose last-epoch mean
// losses are lossD and lossEP (series member_loss_data, member_loss_ep):
// the member a restart-and-keep-the-best rule keeps, without the truth.
// The first of equal ones; NaN losses never win.
func LowestObjective(lossD, lossEP []float64, lambda float64) int {
	k := 0
	for i := range lossD {
		if j := lossD[i] + lambda*lossEP[i]; j < lossD[k]+lambda*lossEP[k] || math.IsNaN(lossD[k]+lambda*lossEP[k]) && !math.IsNaN(j) {
			k = i
		}
	}
	return k
}

// welford adds the k-th sample x (k ≥ 2) to the running mean and sum of
// squared deviations m2: mean' = mean + (x − mean)/k,
// m2' = m2 + (x − mean)(x − mean').
func welford(mean, m2, x *mat.Dense, k int) {
	n, T := x.Dims()
	for i := range n {
		for j := range T {
			v, mu := x.At(i, j), mean.At(i, j)
			mu2 := mu + (v-mu)/float64(k)
			mean.Set(i, j, mu2)
			m2.Set(i, j, m2.At(i, j)+(v-mu)*(v-mu2))
		}
	}
}

// last is the last element of s, NaN for an empty s.
func last(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)-1]
}
