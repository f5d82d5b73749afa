package main

import (
	"slices"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
)

// ensembleScores are the scores of an ensemble (-ensemble K ≥ 2): how well
// its spread predicts the error of its mean, and its members' REs, for the
// check that the mean is no worse than the best single member's median.
type ensembleScores struct {
	members int
	// spearman is metrics.SpreadSkill: the Spearman correlation between the
	// per-node spread (RMS over frames of reconstruction/u_std) and the
	// per-node error of the mean (RMS over frames of u − truth/u).
	spearman float64
	// best and median are the smallest and the median of the members' REs
	// (pinn's series member_re: each member's reconstruction alone).
	best, median float64
	// mean and nearLowest are the RE of the members' mean and of
	// pinn.NearLowest's mean (values/ensemble_mean_re,
	// ensemble_near_lowest_re), whatever the reduction written.
	mean, nearLowest float64
	truth            bool
}

// ensembleSummary is the JSON line's "ensemble" entry; the scores are
// absent without truth.
type ensembleSummary struct {
	Members        int      `json:"members"`
	Spearman       *float64 `json:"spearman,omitempty"`
	BestMemberRE   *float64 `json:"best_member_re,omitempty"`
	MedianMemberRE *float64 `json:"median_member_re,omitempty"`
	MeanRE         *float64 `json:"mean_re,omitempty"`
	NearLowestRE   *float64 `json:"near_lowest_re,omitempty"`
}

// ensembleScoresOf scores an ensemble's result; nil for a single run.
func ensembleScoresOf(p *inverse.Problem, res *inverse.Result) *ensembleScores {
	if res.UStd == nil {
		return nil
	}
	e := &ensembleScores{members: int(res.Values["ensemble"])}
	re := res.Series["member_re"]
	if p.TruthU == nil || len(re) == 0 {
		return e
	}
	e.truth = true
	e.spearman = metrics.SpreadSkill(res.UStd, res.U, p.TruthU)
	s := slices.Sorted(slices.Values(re))
	e.best, e.median = s[0], (s[(len(s)-1)/2]+s[len(s)/2])/2
	e.mean, e.nearLowest = res.Values["ensemble_mean_re"], res.Values["ensemble_near_lowest_re"]
	return e
}

// write adds to the result file (n heart nodes, T frames):
//
//	reconstruction/u_std                n x T  per-node, per-frame sample std over the members
//	metrics/ensemble/spearman                  SpreadSkill of u_std against the error of u (with truth)
//	metrics/ensemble/best_member_re            smallest member RE (with truth)
//	metrics/ensemble/median_member_re          median member RE (with truth)
//	metrics/ensemble/mean_re                   RE of the members' mean (with truth)
//	metrics/ensemble/near_lowest_re            RE of -ensemble-reduce near-lowest's mean (with truth)
//
// (series/member_re, member_ratio0, member_epochs, member_loss_data,
// member_loss_ep and values/ensemble come with the method's series and
// values).
func (e *ensembleScores) write(f *resultfile.File, res *inverse.Result) {
	if e == nil {
		return
	}
	f.Matrices["reconstruction/u_std"] = res.UStd
	if !e.truth {
		return
	}
	f.Scalars["metrics/ensemble/spearman"] = e.spearman
	f.Scalars["metrics/ensemble/best_member_re"] = e.best
	f.Scalars["metrics/ensemble/median_member_re"] = e.median
	f.Scalars["metrics/ensemble/mean_re"] = e.mean
	f.Scalars["metrics/ensemble/near_lowest_re"] = e.nearLowest
}

// summarize fills the JSON line's "ensemble" entry.
func (e *ensembleScores) summarize(s *summary) {
	if e == nil {
		return
	}
	s.Ensemble = &ensembleSummary{Members: e.members}
	if e.truth {
		s.Ensemble.Spearman, s.Ensemble.BestMemberRE, s.Ensemble.MedianMemberRE = finite(e.spearman), finite(e.best), finite(e.median)
		s.Ensemble.MeanRE, s.Ensemble.NearLowestRE = finite(e.mean), finite(e.nearLowest)
	}
}
