package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/heartmap"
	"github.com/eandarn/eandarn/io/htmlreport"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/inverse"
)

// htmlSummary is HTML mode's JSON line on stdout.
type htmlSummary struct {
	Out     string `json:"out"`
	Results int    `json:"results"`
	Skipped int    `json:"skipped"`
	Shown   int    `json:"shown"`
	Figures int    `json:"figures"`
	PNG     string `json:"png,omitempty"`
	Version string `json:"version"`
}

// writeHTML is HTML mode: the table, the bar charts, the electrograms and
// each shown run's figures in one self-contained HTML file (and the PNGs
// with -png); one JSON line on stdout.
func writeHTML(c *config, stdout io.Writer, log *slog.Logger) error {
	recs, skipped, err := readFiles("-html "+c.HTML, c.files, c.Strict, log)
	if err != nil {
		return err
	}
	t, err := tabulate(c, recs, skipped, c.HTML)
	if err != nil {
		return err
	}

	b := &builder{c: c, t: t, log: log, runs: map[string]*inverse.Problem{}, runErr: map[string]error{}, scenes: map[string]*heartmap.Scene{}}
	doc := &htmlreport.Document{Title: "eandarn report: " + c.HTML, Facts: b.facts(recs)}
	summary, err := b.summary(recs)
	if err != nil {
		return err
	}
	doc.Sections = append(doc.Sections, summary)
	shown, note := pick(t, c.MaxRuns)
	if note != "" {
		doc.Sections[0].Blocks = append(doc.Sections[0].Blocks, &htmlreport.Paragraph{Text: "Runs shown one by one below: " + note})
	}
	data := make([]*runData, len(shown))
	for i, rec := range shown {
		if data[i], err = b.load(rec); err != nil {
			return err
		}
	}
	if sec, err := b.electrogramSection(data); err != nil {
		return err
	} else if sec != nil {
		doc.Sections = append(doc.Sections, *sec)
	}
	for _, r := range data {
		sec, err := b.runSection(r)
		if err != nil {
			return err
		}
		doc.Sections = append(doc.Sections, sec)
	}

	var html bytes.Buffer
	if err := doc.Write(&html); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.Out, func(tmp string) error { return os.WriteFile(tmp, html.Bytes(), 0o644) }); err != nil {
		return fmt.Errorf("write %s: %w", c.Out, err)
	}
	if c.PNG != "" {
		if err := os.MkdirAll(c.PNG, 0o755); err != nil {
			return fmt.Errorf("-png: %w", err)
		}
		for _, f := range b.figs {
			if err := atomicfile.WriteFile(filepath.Join(c.PNG, f.name), func(tmp string) error { return os.WriteFile(tmp, f.png, 0o644) }); err != nil {
				return fmt.Errorf("-png: %w", err)
			}
		}
	}
	log.Info("wrote report", "out", c.Out, "results", len(recs), "shown", len(shown), "figures", len(b.figs), "bytes", html.Len())
	return cli.PrintJSON(stdout, htmlSummary{Out: c.Out, Results: len(recs), Skipped: skipped, Shown: len(shown),
		Figures: len(b.figs), PNG: c.PNG, Version: cli.BuildVersion()})
}

// builder holds what the report's parts share: the run files and scenes
// by path, and every figure made (for -png).
type builder struct {
	c      *config
	t      *table
	log    *slog.Logger
	runs   map[string]*inverse.Problem
	runErr map[string]error
	scenes map[string]*heartmap.Scene
	figs   []fig
}

// add keeps f for -png and returns it as a report block.
func (b *builder) add(f fig) *htmlreport.Figure {
	b.figs = append(b.figs, f)
	return &htmlreport.Figure{Name: f.name, Caption: f.caption, PNG: f.png}
}

// facts says what the report shows and what made it.
func (b *builder) facts(recs []*record) []htmlreport.Fact {
	distinct := func(key string) string {
		set := map[string]bool{}
		for _, r := range recs {
			if v := r.attrs[key]; v != "" {
				set[v] = true
			}
		}
		return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
	}
	f := []htmlreport.Fact{
		{Key: "source", Value: b.c.HTML},
		{Key: "result files", Value: fmt.Sprintf("%d read, %d unreadable", len(recs), b.t.skipped)},
		{Key: "methods", Value: distinct("method")},
		{Key: "results made by eandarn", Value: distinct("version")},
		{Key: "run files", Value: distinct("input")},
		{Key: "units", Value: distinct("units")},
		{Key: "created", Value: firstLast(recs)},
		{Key: "report by", Value: prog + " " + cli.BuildVersion() + ", " + time.Now().UTC().Format(time.RFC3339)},
	}
	if b.c.Run != "" {
		f = append(f, htmlreport.Fact{Key: "run file (-run)", Value: b.c.Run})
	}
	return f
}

// firstLast is the range of the results' created times.
func firstLast(recs []*record) string {
	var ts []string
	for _, r := range recs {
		if v := r.attrs["created"]; v != "" {
			ts = append(ts, v)
		}
	}
	if len(ts) == 0 {
		return "–"
	}
	slices.Sort(ts)
	if ts[0] == ts[len(ts)-1] {
		return ts[0]
	}
	return ts[0] + " … " + ts[len(ts)-1]
}

// summary is the first section: the table (Tables II/III), the bar charts
// (Figs. 6–9) and the configuration every run shares.
func (b *builder) summary(recs []*record) (htmlreport.Section, error) {
	head, numeric, rows := b.t.grid()
	sec := htmlreport.Section{ID: "summary", Title: "Accuracy over all runs", Blocks: []htmlreport.Block{
		&htmlreport.Table{Caption: b.t.caption(), Head: head, Numeric: numeric, Rows: rows},
	}}
	if slices.ContainsFunc(b.t.groups, func(g *group) bool { return g.stats[0].n > 0 }) {
		f, err := bars(b.t)
		if err != nil {
			return sec, err
		}
		sec.Blocks = append(sec.Blocks, b.add(f))
	} else {
		sec.Blocks = append(sec.Blocks, &htmlreport.Paragraph{Text: "No run has metrics (no truth in its run file): no accuracy charts."})
	}
	var common []htmlreport.Fact
	for _, k := range commonKeys(recs) {
		common = append(common, htmlreport.Fact{Key: k, Value: recs[0].keys[k]})
	}
	if len(common) > 0 {
		sec.Blocks = append(sec.Blocks, &htmlreport.Paragraph{Text: "Configuration shared by every run (eandarn-batch flags; method.NAME: the method's configuration):"},
			&htmlreport.Facts{Items: common})
	}
	return sec, nil
}

// commonKeys are the keys with one value in every record, except the
// per-task ones, sorted.
func commonKeys(recs []*record) []string {
	var out []string
	for k, v := range recs[0].keys {
		if perTask[k] {
			continue
		}
		same := true
		for _, r := range recs[1:] {
			if w, ok := r.keys[k]; !ok || w != v {
				same = false
				break
			}
		}
		if same {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// pick returns the runs shown one by one: all when they are at most max,
// else one per group, the one with the group's median RE (the lower
// middle; the first run without metrics), up to max groups.
func pick(t *table, maxRuns int) (shown []*record, note string) {
	var all []*record
	for _, g := range t.groups {
		all = append(all, g.runs...)
	}
	if len(all) <= maxRuns {
		return all, ""
	}
	for _, g := range t.groups {
		runs := slices.Clone(g.runs)
		sort.SliceStable(runs, func(i, j int) bool {
			a, okA := runs[i].scalars["metrics/re"]
			b, okB := runs[j].scalars["metrics/re"]
			return okA && (!okB || a < b)
		})
		shown = append(shown, runs[(len(runs)-1)/2])
	}
	note = fmt.Sprintf("%d runs: each group is represented by its run with the median RE", len(all))
	if len(shown) > maxRuns {
		note += fmt.Sprintf("; only the first %d of the %d groups are shown (-max-runs)", maxRuns, len(shown))
		shown = shown[:maxRuns]
	}
	return shown, note + "."
}

// load reads a shown run's result file in full and the run file it was
// made from (the -run file, else its input attribute: as written, or
// relative to the result's folder).
func (b *builder) load(rec *record) (*runData, error) {
	f, err := resultfile.Read(rec.file)
	if err != nil {
		return nil, cli.BadInputf("-html: %w", err)
	}
	u, err := reconstruction(f, rec.file)
	if err != nil {
		return nil, cli.BadInputf("-html: %w", err)
	}
	_, T := u.Dims()
	r := &runData{rec: rec, res: f, u: u, time: f.Vectors["reconstruction/time"], label: b.label(rec)}
	if len(r.time) != T {
		return nil, cli.BadInputf("-html: %s: reconstruction/u has %d frames, reconstruction/time %d", rec.file, T, len(r.time))
	}
	path := b.c.Run
	if path == "" {
		path = inputRun(rec.file, f.Attrs["input"])
	}
	if path == "" {
		r.noRun = "the result names no run file (give -run)"
		return r, nil
	}
	p, seen := b.runs[path]
	if !seen && b.runErr[path] == nil {
		if p, err = runfile.Load(path); err != nil {
			b.runErr[path] = err
			b.log.Warn("run file not loaded: no heart maps or electrograms for its results", "run", path, "err", err)
		} else {
			b.runs[path] = p
		}
	}
	switch {
	case b.runErr[path] != nil:
		r.noRun = "run file not loaded: " + b.runErr[path].Error()
	case len(p.Heart.Nodes) != u.RawMatrix().Rows || len(p.Time) != T:
		r.noRun = fmt.Sprintf("run file %s has %d heart nodes and %d frames, the reconstruction %dx%d: not the run it was made from",
			path, len(p.Heart.Nodes), len(p.Time), u.RawMatrix().Rows, T)
	default:
		if b.scenes[path] == nil {
			b.scenes[path] = heartmap.NewScene(p.Heart)
		}
		r.prob, r.scene = p, b.scenes[path]
	}
	return r, nil
}

// inputRun resolves a result's input attribute, the run file as the job
// was given it: as written (relative to the folder the job ran in, which
// this one often is), else relative to the result's folder (a result
// written beside its run file and read from elsewhere).
func inputRun(result, input string) string {
	if _, err := os.Stat(input); err != nil && input != "" && !filepath.IsAbs(input) {
		if alt := filepath.Join(filepath.Dir(result), input); fileExists(alt) {
			return alt
		}
	}
	return input
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// values returns a run's values of the table's grouping keys.
func (b *builder) values(rec *record) []string {
	v := make([]string, len(b.t.keys))
	for i, k := range b.t.keys {
		v[i] = rec.keys[k]
	}
	return v
}

// label names a run: its series (the method and its own settings) and,
// when there are several, its category.
func (b *builder) label(rec *record) string {
	cat := b.t.categoryKeys()
	l := seriesOf(b.t.keys, b.values(rec), cat)
	if len(cat) > 0 {
		l += " " + b.category(rec)
	}
	return l
}

// category is the category of a run's group, with the key names.
func (b *builder) category(rec *record) string {
	cat := b.t.categoryKeys()
	if len(cat) == 0 {
		return ""
	}
	var parts []string
	for _, k := range cat {
		parts = append(parts, k+"="+cell(rec.keys[k]))
	}
	return strings.Join(parts, " ")
}

// frames returns the frames of the heart maps of r: -times (nearest
// frames), else autoFrames of the reference.
func (b *builder) frames(r *runData) ([]int, error) {
	if b.c.Times == nil {
		return autoFrames(r.activation(r.reference()), r.time), nil
	}
	var out []int
	for _, t := range b.c.Times {
		if t < r.time[0] || t > r.time[len(r.time)-1] {
			return nil, cli.BadInputf("-times %g: outside the recording of %s (%g … %g)", t, r.rec.file, r.time[0], r.time[len(r.time)-1])
		}
		if k := frameNear(r.time, t); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// nodes returns the electrogram nodes of r: -nodes, else autoNodes of the
// reference.
func (b *builder) nodes(r *runData) ([]int, []string, error) {
	n, _ := r.u.Dims()
	if b.c.Nodes == nil {
		nodes, names := autoNodes(r.activation(r.reference()))
		return nodes, names, nil
	}
	for _, i := range b.c.Nodes {
		if i >= n {
			return nil, nil, cli.BadInputf("-nodes %d: out of range: %s has %d heart nodes (0..%d)", i, r.rec.file, n, n-1)
		}
	}
	return b.c.Nodes, make([]string, len(b.c.Nodes)), nil
}

// electrogramSection compares the shown runs' electrograms: one figure per
// group category and run file (all methods of a noise level, say, on the
// same plot).
func (b *builder) electrogramSection(data []*runData) (*htmlreport.Section, error) {
	sec := &htmlreport.Section{ID: "electrograms", Title: "Electrograms"}
	type part struct {
		cat  string
		prob *inverse.Problem
	}
	var order []part
	parts := map[part][]*runData{}
	for _, r := range data {
		if r.prob == nil {
			continue
		}
		p := part{cat: b.category(r.rec), prob: r.prob}
		if parts[p] == nil {
			order = append(order, p)
		}
		parts[p] = append(parts[p], r)
	}
	for i, p := range order {
		runs := parts[p]
		labels := make([]string, len(runs)) // the category is common to the figure: name the series
		for j, r := range runs {
			labels[j] = seriesOf(b.t.keys, b.values(r.rec), b.t.categoryKeys())
		}
		nodes, names, err := b.nodes(runs[0])
		if err != nil {
			return nil, err
		}
		title := "electrograms"
		if p.cat != "" {
			title += ": " + p.cat
		}
		f, err := electrograms(fmt.Sprintf("electrograms_%d.png", i+1), title, runs, labels, nodes, names)
		if err != nil {
			return nil, err
		}
		sec.Blocks = append(sec.Blocks, b.add(f))
	}
	if len(order) == 0 {
		return nil, nil
	}
	return sec, nil
}

// runSection is one run: its facts, heart maps, activation map, curves and
// configuration.
func (b *builder) runSection(r *runData) (htmlreport.Section, error) {
	sec := htmlreport.Section{ID: "run-" + r.prefix(), Title: r.label + " (" + filepath.Base(r.rec.file) + ")"}
	sec.Blocks = append(sec.Blocks, &htmlreport.Facts{Items: runFacts(r)})
	if scene := r.scene; scene != nil {
		frames, err := b.frames(r)
		if err != nil {
			return sec, err
		}
		maps, err := heartMaps(r, scene, frames)
		if err != nil {
			return sec, err
		}
		for _, f := range maps {
			sec.Blocks = append(sec.Blocks, b.add(f))
		}
		f, err := activationMap(r, scene)
		if err != nil {
			return sec, err
		}
		sec.Blocks = append(sec.Blocks, b.add(f))
	} else {
		sec.Blocks = append(sec.Blocks, &htmlreport.Paragraph{Text: "No heart maps or electrograms: " + r.noRun + "."})
	}
	f, err := curves(r)
	if err != nil {
		return sec, err
	}
	if f != nil {
		sec.Blocks = append(sec.Blocks, b.add(*f))
	}
	sec.Blocks = append(sec.Blocks, &htmlreport.Details{Summary: "configuration (config attribute)", Text: pretty(r.res.Attrs["config"])})
	if ia := r.res.Attrs["input_attrs"]; ia != "" {
		sec.Blocks = append(sec.Blocks, &htmlreport.Details{Summary: "run file provenance (input_attrs attribute)", Text: pretty(ia)})
	}
	return sec, nil
}

// runFacts are a run's file, provenance, metrics, chosen values and times.
func runFacts(r *runData) []htmlreport.Fact {
	a, s := r.res.Attrs, r.res.Scalars
	f := []htmlreport.Fact{{Key: "result file", Value: r.rec.file}}
	for _, k := range []string{"method", "noise", "seed", "input", "units", "version", "created"} {
		if v := a[k]; v != "" {
			f = append(f, htmlreport.Fact{Key: k, Value: v})
		}
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', 5, 64) }
	for _, k := range []string{"re", "cc", "mse"} {
		if x, ok := s["metrics/"+k]; ok {
			f = append(f, htmlreport.Fact{Key: strings.ToUpper(k), Value: num(x)})
		}
	}
	if cc, ok := s["metrics/at_cc"]; ok {
		f = append(f, htmlreport.Fact{Key: "activation vs truth", Value: fmt.Sprintf("CC %s, mean |Δt| %s ms, earliest node %s vs %s (%s mm apart)",
			num(cc), num(ms(s["metrics/at_mae"])), num(s["metrics/earliest_node"]), num(s["metrics/truth_earliest_node"]), num(s["metrics/localization_mm"]))})
	}
	var regions []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if name, ok := strings.CutPrefix(k, "metrics/region/"); ok && strings.HasSuffix(name, "/re") {
			base := "metrics/region/" + strings.TrimSuffix(name, "/re") + "/"
			regions = append(regions, fmt.Sprintf("%s: RE %s, CC %s (%s nodes)", strings.TrimSuffix(name, "/re"), num(s[base+"re"]), num(s[base+"cc"]), num(s[base+"nodes"])))
		}
	}
	if len(regions) > 0 {
		f = append(f, htmlreport.Fact{Key: "by region", Value: strings.Join(regions, "; ")})
	}
	var vals []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if name, ok := strings.CutPrefix(k, "values/"); ok {
			vals = append(vals, name+" = "+num(s[k]))
		}
	}
	if len(vals) > 0 {
		f = append(f, htmlreport.Fact{Key: "values", Value: strings.Join(vals, ", ")})
	}
	if x, ok := s["timing/solve_s"]; ok && !math.IsNaN(x) {
		f = append(f, htmlreport.Fact{Key: "solve time", Value: num(x) + " s"})
	}
	return f
}

// pretty indents JSON text; other text is returned as it is.
func pretty(text string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(text), "", "  ") != nil {
		return text
	}
	return b.String()
}
