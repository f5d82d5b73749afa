package main

import (
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
)

// clinical holds the activation map of a reconstruction and, with truth,
// the activation and per-region scores (issue 14): what the result file
// adds to Eq. 19–21.
type clinical struct {
	polarity metrics.Polarity
	at       []float64 // reconstruction's activation time per node (NaN: none)
	truthAT  []float64 // the truth's, nil without truth
	act      metrics.ActivationScores
	regions  []metrics.RegionScore // per p.RegionNames, nil without truth or labels
}

// regionSummary is one region's entry of the JSON line.
type regionSummary struct {
	Nodes int      `json:"nodes"`
	RE    *float64 `json:"re"`
	CC    *float64 `json:"cc"`
}

// clinicalScores computes the reconstruction's activation map with the
// polarity of the recording's kind of potential (metrics.PolarityOf:
// downstroke for extracellular potentials, the default for measured mV/uV;
// upstroke for transmembrane ones and the normalized model u) and the
// default smoothing, and, when the run file has truth, the same map of the
// truth, their comparison and RE/CC per labelled region.
func clinicalScores(p *inverse.Problem, res *inverse.Result) *clinical {
	c := &clinical{polarity: metrics.PolarityOf(p.Potential())}
	c.at = metrics.ActivationTimes(res.U, p.Time, c.polarity, metrics.ActivationSmoothing)
	if p.TruthU == nil {
		return c
	}
	c.truthAT = metrics.ActivationTimes(p.TruthU, p.Time, c.polarity, metrics.ActivationSmoothing)
	c.act = metrics.CompareActivation(c.at, c.truthAT, p.Heart.Nodes)
	if p.Region != nil {
		c.regions = metrics.ByRegion(res.U, p.TruthU, p.Region, len(p.RegionNames))
	}
	return c
}

// write adds to the result file (n heart nodes, K regions):
//
//	reconstruction/activation_time        n  activation time per node (AP units; NaN: none)
//	metrics/truth_activation_time         n  the truth's, same definition (with truth)
//	metrics/at_cc, at_mae                    correlation and mean |Δ| of the two maps
//	metrics/earliest_node, truth_earliest_node, localization_mm
//	                                         earliest-activation nodes and their distance
//	metrics/region/<name>/re, cc, nodes      Eq. 19–20 over each region's nodes
//
// and the root attributes activation (the definition, as text) and
// region_names (JSON, with labels).
func (c *clinical) write(f *resultfile.File, p *inverse.Problem) {
	f.Vectors["reconstruction/activation_time"] = c.at
	marker := "upstroke"
	if c.polarity == metrics.Downstroke {
		marker = "downstroke"
	}
	f.Attrs["activation"] = "steepest " + marker + " after Gaussian smoothing in time, σ = " +
		strconv.FormatFloat(metrics.ActivationSmoothing, 'g', -1, 64) + " AP units (solver/metrics.ActivationTimes)"
	if c.truthAT == nil {
		return
	}
	f.Vectors["metrics/truth_activation_time"] = c.truthAT
	f.Scalars["metrics/at_cc"] = c.act.CC
	f.Scalars["metrics/at_mae"] = c.act.MAE
	f.Scalars["metrics/earliest_node"] = float64(c.act.Earliest)
	f.Scalars["metrics/truth_earliest_node"] = float64(c.act.RefEarliest)
	f.Scalars["metrics/localization_mm"] = c.act.Localization
	for k, r := range c.regions {
		name := "metrics/region/" + p.RegionNames[k] + "/"
		f.Scalars[name+"re"] = r.RE
		f.Scalars[name+"cc"] = r.CC
		f.Scalars[name+"nodes"] = float64(r.Nodes)
	}
	if p.RegionNames != nil {
		b, _ := json.Marshal(p.RegionNames)
		f.Attrs["region_names"] = string(b)
	}
}

// summarize fills the JSON line's activation and region entries (null for
// undefined numbers; absent without truth).
func (c *clinical) summarize(s *summary, p *inverse.Problem) {
	if c.truthAT == nil {
		return
	}
	s.ATCC, s.ATMAE, s.Localization = finite(c.act.CC), finite(c.act.MAE), finite(c.act.Localization)
	if c.regions == nil {
		return
	}
	s.Regions = make(map[string]regionSummary, len(c.regions))
	for k, r := range c.regions {
		s.Regions[p.RegionNames[k]] = regionSummary{Nodes: r.Nodes, RE: finite(r.RE), CC: finite(r.CC)}
	}
}

// warnEmptyRegions warns of each named region that labels no node: its RE
// and CC will be null. The run file allows it (eandarn-synth's vote of a
// node's triangles can leave a face region without nodes), but a user who
// reads the per-region table should know why.
func warnEmptyRegions(log *slog.Logger, p *inverse.Problem) {
	if p.Region == nil {
		return
	}
	count := make([]int, len(p.RegionNames))
	for _, k := range p.Region {
		if k >= 0 && k < len(count) {
			count[k]++
		}
	}
	for k, c := range count {
		if c == 0 {
			log.Warn("a region labels no node: its RE and CC will be null", "region", p.RegionNames[k], "label", k)
		}
	}
}
