package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/figure"
	"github.com/eandarn/eandarn/io/heartmap"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
)

// fig is one rendered figure of the report.
type fig struct {
	name    string // PNG file name
	caption string
	png     []byte
}

// pngFigure is what every io/figure description is.
type pngFigure interface{ PNG() ([]byte, error) }

func render(name, caption string, f pngFigure) (fig, error) {
	b, err := f.PNG()
	if err != nil {
		return fig{}, fmt.Errorf("figure %s: %w", name, err)
	}
	return fig{name: name, caption: caption, png: b}, nil
}

// runData is one result file with the run file it was made from (nil with
// the reason when that cannot be loaded: the figures that need the heart
// mesh are then left out).
type runData struct {
	rec   *record
	label string // method and the group's other key values
	res   *resultfile.File
	u     *mat.Dense // n x T reconstruction
	time  []float64
	prob  *inverse.Problem
	scene *heartmap.Scene // of prob's heart
	noRun string          // why prob is nil
}

// truth returns the run file's true u (nil when unknown; load checked
// that it has the reconstruction's shape).
func (r *runData) truth() *mat.Dense {
	if r.prob == nil {
		return nil
	}
	return r.prob.TruthU
}

// reference is what the chosen times and nodes follow: the truth, else the
// reconstruction (measured data).
func (r *runData) reference() *mat.Dense {
	if t := r.truth(); t != nil {
		return t
	}
	return r.u
}

// units is the potential units of the run (the result's units attribute).
func (r *runData) units() string {
	if u := r.res.Attrs["units"]; u != "" {
		return u
	}
	return "normalized"
}

// activation returns the activation time of every node of m (NaN where
// there is none) as eandarn-batch scores it: metrics.ActivationTimes with
// the polarity of the recording's kind of potential and the default
// smoothing.
func (r *runData) activation(m *mat.Dense) []float64 {
	return metrics.ActivationTimes(m, r.time, r.polarity(), metrics.ActivationSmoothing)
}

// polarity is the activation marker of the run file's kind of potential
// (upstroke for transmembrane and normalized u, downstroke for
// extracellular electrograms).
func (r *runData) polarity() metrics.Polarity {
	return metrics.PolarityOf(r.prob.Potential())
}

// prefix is the start of the run's PNG names: its result file's name.
func (r *runData) prefix() string {
	return strings.TrimSuffix(filepath.Base(r.rec.file), filepath.Ext(r.rec.file))
}

// ms converts times on the AP time axis of run files (measured recordings
// are imported onto it) to milliseconds, as a cardiologist reads them.
func ms(t float64) float64 { return ap.MillisecondsPerUnit * t }

// msAll is ms of every time.
func msAll(ts []float64) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = ms(t)
	}
	return out
}

// msText renders a time in whole ms, e.g. "197 ms".
func msText(t float64) string { return strconv.FormatFloat(ms(t), 'f', 0, 64) + " ms" }

// frameNear returns the frame whose time is nearest to t.
func frameNear(time []float64, t float64) int {
	k := sort.SearchFloat64s(time, t)
	switch {
	case k == 0:
		return 0
	case k == len(time):
		return len(time) - 1
	case t-time[k-1] <= time[k]-t:
		return k - 1
	}
	return k
}

// autoFrames are the frames at which 20%, 50% and 80% of the nodes with
// an activation time have activated (the spread of the wavefront, as in
// the paper's Fig. 10); without activation times, a quarter, half and
// three quarters of the recording.
func autoFrames(act, time []float64) []int {
	var a []float64
	for _, x := range act {
		if !math.IsNaN(x) {
			a = append(a, x)
		}
	}
	qs := []float64{0.2, 0.5, 0.8}
	frames := make([]int, 0, len(qs))
	if len(a) == 0 {
		for _, q := range qs {
			frames = append(frames, int(math.Round(q*float64(len(time)-1))))
		}
		return frames
	}
	slices.Sort(a)
	for _, q := range qs {
		k := frameNear(time, a[int(math.Round(q*float64(len(a)-1)))])
		if !slices.Contains(frames, k) {
			frames = append(frames, k)
		}
	}
	return frames
}

// autoNodes are the earliest-, median- and latest-activated nodes, named;
// without activation times, the first, middle and last node.
func autoNodes(act []float64) (nodes []int, names []string) {
	var idx []int
	for i, x := range act {
		if !math.IsNaN(x) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		n := len(act)
		return []int{0, n / 2, n - 1}, []string{"", "", ""}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(act[a], act[b]) })
	return []int{idx[0], idx[len(idx)/2], idx[len(idx)-1]}, []string{"earliest activation", "median activation", "latest activation"}
}

// rowRange returns the smallest and largest finite values of the given
// columns of m (all columns when cols is nil).
func rowRange(m *mat.Dense, cols []int) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	n, T := m.Dims()
	if cols == nil {
		cols = make([]int, T)
		for k := range cols {
			cols[k] = k
		}
	}
	for i := 0; i < n; i++ {
		for _, k := range cols {
			if x := m.At(i, k); !math.IsNaN(x) && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

// heartMaps draws, for each frame, truth (when known), reconstruction and
// |error| in the anterior, posterior and basal views. Truth and
// reconstruction share the colour scale of the reference over the whole
// recording; the errors share one scale over the frames shown.
func heartMaps(r *runData, scene *heartmap.Scene, frames []int) ([]fig, error) {
	truth := r.truth()
	lo, hi := rowRange(r.reference(), nil)
	var errHi float64
	if truth != nil {
		n, _ := r.u.Dims()
		for _, k := range frames {
			for i := 0; i < n; i++ {
				errHi = math.Max(errHi, math.Abs(r.u.At(i, k)-truth.At(i, k)))
			}
		}
	}
	units := r.units()
	scales := []figure.MapScale{{Label: "u (" + units + ")", Map: figure.PotentialMap(lo, hi)},
		{Label: "|u − u_truth| (" + units + ")", Map: figure.ErrorMap(errHi)}}
	var out []fig
	for _, k := range frames {
		u := mat.Col(nil, k, r.u)
		var rows []figure.MapRow
		if truth != nil {
			tu := mat.Col(nil, k, truth)
			e := make([]float64, len(u))
			for i := range e {
				e[i] = math.Abs(u[i] - tu[i])
			}
			rows = []figure.MapRow{{Label: "truth", Values: tu}, {Label: r.rec.keys["method"], Values: u}, {Label: "|error|", Values: e, Scale: 1}}
		} else {
			rows = []figure.MapRow{{Label: r.rec.keys["method"], Values: u}}
		}
		title := fmt.Sprintf("%s: heart-surface potential at t = %s", r.label, msText(r.time[k]))
		f, err := render(fmt.Sprintf("%s_maps_%04d.png", r.prefix(), k), title+fmt.Sprintf(" (frame %d, %.4g AP time units); %s.", k, r.time[k], viewsNote),
			&figure.HeartFigure{Title: title, Scene: scene, Rows: rows, Scales: scales})
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// viewsNote says how the heart-map views are oriented.
const viewsNote = "views: anterior (from the front, the patient's left on the right), posterior (from the back), basal (from the base toward the apex, anterior up)"

// niceStep returns a step of 1, 2 or 5 times a power of ten near span/n.
func niceStep(span float64, n int) float64 {
	if !(span > 0) {
		return 0
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// activationMap draws the activation times of the truth (when known) and
// of the reconstruction with isochrones, and their absolute difference;
// the caption gives the comparison of metrics.CompareActivation.
func activationMap(r *runData, scene *heartmap.Scene) (fig, error) {
	rec := msAll(r.activation(r.u))
	rows := []figure.MapRow{{Label: r.rec.keys["method"], Values: rec}}
	ref := rec
	stroke := "downstroke"
	if r.polarity() == metrics.Upstroke {
		stroke = "upstroke"
	}
	caption := fmt.Sprintf("%s: activation times (at each node the steepest %s of u smoothed over %s, metrics.ActivationTimes) with isochrones; %s",
		r.label, stroke, msText(metrics.ActivationSmoothing), viewsNote)
	var diff []float64
	if truth := r.truth(); truth != nil {
		ref = msAll(r.activation(truth))
		rows = append([]figure.MapRow{{Label: "truth", Values: ref}}, rows...)
		diff = make([]float64, len(rec))
		for i := range diff {
			diff[i] = math.Abs(rec[i] - ref[i])
		}
		sc := metrics.CompareActivation(rec, ref, scene.Mesh().Nodes)
		caption += fmt.Sprintf(". Against the truth over %d nodes: CC %.3f, mean |Δt| %.3g ms, earliest site node %d vs %d (%.1f mm apart)",
			sc.Compared, sc.CC, sc.MAE, sc.Earliest, sc.RefEarliest, sc.Localization)
	}
	lo, hi := finiteRange(ref)
	step := niceStep(hi-lo, 10)
	scales := []figure.MapScale{{Label: "activation time (ms)", Map: figure.ActivationMap(lo, hi), Isolines: step}}
	if diff != nil {
		_, dhi := finiteRange(diff)
		scales = append(scales, figure.MapScale{Label: "|Δ activation time| (ms)", Map: figure.ErrorMap(dhi)})
		rows = append(rows, figure.MapRow{Label: "|difference|", Values: diff, Scale: 1})
	}
	if step > 0 {
		caption += fmt.Sprintf("; isochrones every %g ms", step)
	}
	return render(r.prefix()+"_activation.png", caption+". Grey: no activation found.",
		&figure.HeartFigure{Title: r.label + ": activation times", Scene: scene, Rows: rows, Scales: scales})
}

// finiteRange returns the smallest and largest non-NaN values (0, 1 when
// there are none).
func finiteRange(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

// electrograms draws u(t) at each node: the truth (black) and every run
// (series colours, with its label), one panel per node.
func electrograms(name, title string, runs []*runData, labels []string, nodes []int, names []string) (fig, error) {
	ref := runs[0]
	truth := ref.truth()
	var legend []figure.Entry
	if truth != nil {
		legend = append(legend, figure.Entry{Label: "truth", Color: -1})
	}
	for i := range runs {
		legend = append(legend, figure.Entry{Label: labels[i], Color: i})
	}
	var panels []figure.Panel
	for j, node := range nodes {
		pn := figure.Panel{XLabel: "t (ms)", YLabel: "u (" + ref.units() + ")", Legend: "none"}
		pn.Title = fmt.Sprintf("node %d", node)
		if names[j] != "" {
			pn.Title += " (" + names[j] + ")"
		}
		if truth != nil {
			pn.Curves = append(pn.Curves, figure.Curve{X: msAll(ref.time), Y: mat.Row(nil, node, truth), Color: -1, Width: 2.5})
		}
		for i, r := range runs {
			pn.Curves = append(pn.Curves, figure.Curve{X: msAll(r.time), Y: mat.Row(nil, node, r.u), Color: i, Width: 1.5})
		}
		panels = append(panels, pn)
	}
	caption := title + ": u(t) at the chosen nodes"
	if truth != nil {
		caption += ", truth in black"
	}
	return render(name, caption+".", &figure.LineFigure{Title: title, Legend: legend, Panels: panels, Height: 230*len(panels) + 60})
}

// curves draws a run's diagnostic curves, whichever it recorded: the
// training losses and RE monitor (PINN methods), the GCV curve and the
// L-curve with the chosen λ (Tikhonov), or the GCV over STRE's search.
func curves(r *runData) (*fig, error) {
	s, v := r.res.Vectors, r.res.Scalars
	var panels []figure.Panel
	var what []string
	if ld := s["series/loss_data"]; len(ld) > 0 {
		epochs := seq(1, len(ld))
		pn := figure.Panel{Title: "training losses (epoch means)", XLabel: "epoch", YLabel: "loss", LogY: true,
			Curves: []figure.Curve{{Label: "L_D (data, Eq. 5)", X: epochs, Y: ld, Color: 0}}}
		if lep := s["series/loss_ep"]; len(lep) == len(ld) {
			pn.Curves = append(pn.Curves, figure.Curve{Label: "L_EP (physics, Eq. 6–9)", X: epochs, Y: lep, Color: 1})
		}
		panels = append(panels, pn)
		what = append(what, "training losses")
		if re := s["series/re_monitor"]; len(re) > 0 {
			every := float64(len(ld)) / float64(len(re))
			if me, ok := methodConfig(r.res)["MonitorEvery"].(float64); ok && me > 0 {
				every = me
			}
			x := make([]float64, len(re))
			for i := range x {
				x[i] = every * float64(i+1)
			}
			panels = append(panels, figure.Panel{Title: "RE against the truth (monitoring only)", XLabel: "epoch", YLabel: "RE", Legend: "none",
				Curves: []figure.Curve{{X: x, Y: re, Color: 2}}})
			what = append(what, "RE monitor")
		}
	}
	grid := s["series/lambda_grid"]
	if g := s["series/gcv"]; len(grid) > 0 && len(g) == len(grid) {
		pn := figure.Panel{Title: "GCV", XLabel: "λ", YLabel: "G(λ)", LogX: true, LogY: true,
			Curves: []figure.Curve{{X: grid, Y: g, Color: 0}}}
		for i, l := range lambdaMarks(v) {
			pn.VLines = append(pn.VLines, figure.VLine{Label: l.label, X: l.x, Color: i + 1, Dashed: i > 0})
		}
		panels = append(panels, pn)
		what = append(what, "GCV curve")
	}
	if res, semi := s["series/lcurve_residual"], s["series/lcurve_seminorm"]; len(grid) > 0 && len(res) == len(grid) && len(semi) == len(grid) {
		pn := figure.Panel{Title: "L-curve", XLabel: "residual ‖Y − RU‖", YLabel: "seminorm ‖ΓU‖", LogX: true, LogY: true, Legend: "bottom",
			Curves: []figure.Curve{{X: res, Y: semi, Color: 0}}}
		for i, l := range lambdaMarks(v) {
			pn.Marks = append(pn.Marks, figure.Mark{Label: l.label, X: logInterp(grid, res, l.x), Y: logInterp(grid, semi, l.x), Color: i + 1})
		}
		panels = append(panels, pn)
		what = append(what, "L-curve")
	}
	if p := streGCV(s, v); p != nil {
		panels = append(panels, p...)
		what = append(what, "STRE's GCV search")
	}
	if len(panels) == 0 {
		return nil, nil
	}
	f, err := render(r.prefix()+"_curves.png", r.label+": "+strings.Join(what, ", ")+".",
		&figure.LineFigure{Title: r.label, Panels: panels, Columns: min(2, len(panels))})
	return &f, err
}

// seq returns from, from+1, …, from+n−1 as floats.
func seq(from, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(from + i)
	}
	return x
}

// mark is a labelled λ.
type mark struct {
	label string
	x     float64
}

// lambdaMarks lists the chosen λ first, then the other rules' choices the
// result records; a rule that chose the same λ is named with the chosen one.
func lambdaMarks(v map[string]float64) []mark {
	chosen, ok := v["values/lambda"]
	var out []mark
	var same []string
	for _, k := range []string{"gcv", "lcurve", "discrepancy"} {
		x, has := v["values/lambda_"+k]
		switch {
		case !has:
		case ok && x == chosen:
			same = append(same, k)
		default:
			out = append(out, mark{fmt.Sprintf("%s λ = %.3g", k, x), x})
		}
	}
	if ok {
		label := fmt.Sprintf("chosen λ = %.3g", chosen)
		if len(same) > 0 {
			label += " (" + strings.Join(same, ", ") + ")"
		}
		out = append([]mark{{label, chosen}}, out...)
	}
	return out
}

// logInterp interpolates y at x on the log-log curve (xs, ys), xs
// increasing or decreasing; NaN outside.
func logInterp(xs, ys []float64, x float64) float64 {
	lx := math.Log(x)
	for i := 1; i < len(xs); i++ {
		a, b := math.Log(xs[i-1]), math.Log(xs[i])
		if (lx-a)*(lx-b) <= 0 && a != b {
			w := (lx - a) / (b - a)
			return math.Exp((1-w)*math.Log(ys[i-1]) + w*math.Log(ys[i]))
		}
	}
	return math.NaN()
}

// streGCV draws STRE's search: GCV against λt for every window at the
// chosen λs (nearest grid value), and the best GCV of each λs.
func streGCV(s map[string][]float64, v map[string]float64) []figure.Panel {
	ls, ws, lt, g := s["series/lambda_s_grid"], s["series/window_grid"], s["series/lambda_t_grid"], s["series/gcv"]
	if len(ls) == 0 || len(ws) == 0 || len(lt) == 0 || len(g) != len(ls)*len(ws)*len(lt) {
		return nil
	}
	is := 0
	if x, ok := v["values/lambda_s"]; ok {
		for i := range ls {
			if math.Abs(math.Log(ls[i]/x)) < math.Abs(math.Log(ls[is]/x)) {
				is = i
			}
		}
	}
	pt := figure.Panel{Title: fmt.Sprintf("GCV over λt at λs = %.3g", ls[is]), XLabel: "λt", YLabel: "GCV", LogX: true, LogY: true}
	for iw, w := range ws {
		base := (is*len(ws) + iw) * len(lt)
		pt.Curves = append(pt.Curves, figure.Curve{Label: fmt.Sprintf("w = %g", w), X: lt, Y: g[base : base+len(lt)], Color: iw})
	}
	if x, ok := v["values/lambda_t"]; ok {
		pt.VLines = append(pt.VLines, figure.VLine{Label: fmt.Sprintf("chosen λt = %.3g (w = %g)", x, v["values/window"]), X: x, Color: -1, Dashed: true})
	}
	best := make([]float64, len(ls))
	for i := range ls {
		blk := g[i*len(ws)*len(lt) : (i+1)*len(ws)*len(lt)]
		best[i] = math.NaN()
		for _, x := range blk {
			if !math.IsNaN(x) && (math.IsNaN(best[i]) || x < best[i]) {
				best[i] = x
			}
		}
	}
	ps := figure.Panel{Title: "best GCV over (w, λt) for each λs", XLabel: "λs", YLabel: "GCV", LogX: true, LogY: true,
		Curves: []figure.Curve{{X: ls, Y: best, Color: 0, Points: true}, {X: ls, Y: best, Color: 0}}}
	if x, ok := v["values/lambda_s"]; ok {
		ps.VLines = append(ps.VLines, figure.VLine{Label: fmt.Sprintf("chosen λs = %.3g", x), X: x, Color: -1, Dashed: true})
	}
	return []figure.Panel{pt, ps}
}

// methodConfig returns the "method" object of a result's config attribute
// (nil when it is not JSON).
func methodConfig(f *resultfile.File) map[string]any {
	var cfg struct {
		Method map[string]any `json:"method"`
	}
	if json.Unmarshal([]byte(f.Attrs["config"]), &cfg) != nil {
		return nil
	}
	return cfg.Method
}

// bars draws the table's RE, CC and MSE as grouped bar charts (the paper's
// Figs. 6–9): one group of bars per category (the values of the keys every
// run has, method aside: noise, network, λ), one bar per series (the method
// and its own settings), mean ± sample std over each group's runs.
func bars(t *table) (fig, error) {
	catKeys := t.categoryKeys()
	var cats, series []string
	where := map[[2]string]*group{}
	for _, g := range t.groups {
		cat, ser := categoryOf(t.keys, g.values, catKeys), seriesOf(t.keys, g.values, catKeys)
		if !slices.Contains(cats, cat) {
			cats = append(cats, cat)
		}
		if !slices.Contains(series, ser) {
			series = append(series, ser)
		}
		where[[2]string{cat, ser}] = g
	}
	var charts []figure.BarChart
	for j, c := range metricColumns {
		ch := figure.BarChart{Title: c.header, YLabel: c.header, Categories: cats}
		for _, ser := range series {
			bs := figure.BarSeries{Label: ser}
			for _, cat := range cats {
				m, s := math.NaN(), math.NaN()
				if g := where[[2]string{cat, ser}]; g != nil && g.stats[j].n > 0 {
					m, s = g.stats[j].mean, g.stats[j].std
				}
				bs.Mean, bs.Std = append(bs.Mean, m), append(bs.Std, s)
			}
			ch.Series = append(ch.Series, bs)
		}
		charts = append(charts, ch)
	}
	xl := strings.Join(catKeys, ", ")
	caption := "RE, CC and MSE (Eq. 19–21) as mean ± sample std over each group's runs (the paper's Figs. 6–9)"
	if xl != "" {
		caption += "; grouped by " + xl
	}
	return render("bars.png", caption+".", &figure.BarFigure{Title: "accuracy by group", XLabel: xl, Charts: charts})
}

// categoryKeys are the grouping keys other than the method that every
// group has a value for: what the methods are compared at (noise σ, the
// network, λ). Keys that only some methods have (their own flags, such as
// -epochs) describe the series instead.
func (t *table) categoryKeys() []string {
	var out []string
	for i, k := range t.keys {
		if k == "method" {
			continue
		}
		if !slices.ContainsFunc(t.groups, func(g *group) bool { return g.values[i] == "" }) {
			out = append(out, k)
		}
	}
	return out
}

// categoryOf is the category of a group or run with the given key values:
// the category keys' values ("all" without any; the value alone for one
// key, which the axis label names).
func categoryOf(keys, values, catKeys []string) string {
	var parts []string
	for i, k := range keys {
		if slices.Contains(catKeys, k) {
			parts = append(parts, k+"="+cell(values[i]))
		}
	}
	switch len(parts) {
	case 0:
		return "all"
	case 1:
		_, v, _ := strings.Cut(parts[0], "=")
		return v
	}
	return strings.Join(parts, " ")
}

// seriesOf is the series of a group or run: the method and the values of
// the other keys it has that are not category keys.
func seriesOf(keys, values, catKeys []string) string {
	parts := []string{"all runs"}
	if i := slices.Index(keys, "method"); i >= 0 {
		parts[0] = cell(values[i])
	}
	for i, k := range keys {
		if k != "method" && !slices.Contains(catKeys, k) && values[i] != "" {
			parts = append(parts, k+"="+values[i])
		}
	}
	return strings.Join(parts, " ")
}
