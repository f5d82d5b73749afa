package main

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/eandarn/eandarn/io/atomicfile"
)

// stat is the sample statistics of one column over a group's runs.
type stat struct {
	n         int
	mean, std float64 // std: sample standard deviation (n − 1); NaN when n < 2
}

// summarize returns the mean and the sample standard deviation
//
//	s = sqrt( Σ (x_i − x̄)² / (n − 1) )
//
// of xs (two passes: the mean first, so the sum of squares does not cancel).
func summarize(xs []float64) stat {
	s := stat{n: len(xs), mean: math.NaN(), std: math.NaN()}
	if s.n == 0 {
		return s
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	s.mean = sum / float64(s.n)
	if s.n < 2 {
		return s
	}
	var ss float64
	for _, x := range xs {
		d := x - s.mean
		ss += float64(d * d) // the conversion forbids a fused multiply-add: same bits on every architecture
	}
	s.std = math.Sqrt(ss / float64(s.n-1))
	return s
}

// column is one mean ± std column of the table: the scalar dataset it
// averages, its Markdown header and its CSV name.
type column struct {
	path, header, name string
}

var metricColumns = []column{
	{"metrics/re", "RE", "re"},
	{"metrics/cc", "CC", "cc"},
	{"metrics/mse", "MSE", "mse"},
}

// group is one row: the runs that share the values of the grouping keys.
type group struct {
	values  []string // one per key; "" when a run lacks the key
	runs    []*record
	stats   []stat // one per column
	seconds stat   // timing/solve_s
	bad     stat   // bad initialization: 1 or 0 per run that records it; mean = rate
}

// table is the aggregated result.
type table struct {
	keys     []string
	columns  []column
	groups   []*group
	badInit  bool   // some run records a bad initialization
	badLabel string // how bad initialization was decided
	files    int
	skipped  int
	dir      string
}

// badInit returns whether run r started badly and whether it records it:
// values/bad_init as eandarn-batch wrote it, or, with ratio > 0,
// values/ratio0 > ratio (a NaN ratio counts as bad, as the trainer does).
func badInit(r *record, ratio float64) (bad, ok bool) {
	if ratio > 0 {
		r0, ok := r.scalars["values/ratio0"]
		return ok && (r0 > ratio || math.IsNaN(r0)), ok
	}
	b, ok := r.scalars["values/bad_init"]
	return b != 0, ok
}

// build groups recs by keys (in order) and computes each group's columns.
func build(recs []*record, keys []string, values []string, ratio float64) *table {
	t := &table{keys: keys, columns: append([]column(nil), metricColumns...)}
	for _, v := range values {
		t.columns = append(t.columns, column{"values/" + v, v, v})
	}
	t.badLabel = "bad init"
	if ratio > 0 {
		t.badLabel = "bad init (ratio0 > " + strconv.FormatFloat(ratio, 'g', -1, 64) + ")"
	}
	byID := map[string]*group{}
	for _, r := range recs {
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = r.keys[k]
		}
		id := strings.Join(vals, "\x00")
		g := byID[id]
		if g == nil {
			g = &group{values: vals}
			byID[id] = g
			t.groups = append(t.groups, g)
		}
		g.runs = append(g.runs, r)
	}
	for _, g := range t.groups {
		for _, c := range t.columns {
			g.stats = append(g.stats, summarize(collect(g.runs, c.path)))
		}
		g.seconds = summarize(collect(g.runs, "timing/solve_s"))
		var flags []float64
		for _, r := range g.runs {
			if bad, ok := badInit(r, ratio); ok {
				x := 0.0
				if bad {
					x = 1
				}
				flags = append(flags, x)
			}
		}
		g.bad = summarize(flags)
		t.badInit = t.badInit || g.bad.n > 0
	}
	sort.SliceStable(t.groups, func(i, j int) bool {
		a, b := t.groups[i].values, t.groups[j].values
		for k := range a {
			if c := compareValues(a[k], b[k]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	return t
}

// collect returns the scalar at path of every run that has it as a finite
// number. A metric that is not finite is undefined for that run (the RE of
// an all-zero truth is +Inf) and is left out like a missing one, so the
// column says over how many runs it averages instead of turning the
// group's mean into Inf or NaN.
func collect(runs []*record, path string) []float64 {
	var xs []float64
	for _, r := range runs {
		if x, ok := r.scalars[path]; ok && !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
	}
	return xs
}

// compareValues orders key values: missing first, numbers by value (so
// noise 0.05 comes before 0.1), then text.
func compareValues(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	x, xerr := strconv.ParseFloat(a, 64)
	y, yerr := strconv.ParseFloat(b, 64)
	switch {
	case xerr == nil && yerr == nil:
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	case xerr == nil: // numbers before text
		return -1
	case yerr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// decimals returns how many decimals show a std with two significant digits.
func decimals(std float64) int {
	return max(0, 1-int(math.Floor(math.Log10(std))))
}

// meanStd renders a stat as "mean ± std": the std to two significant digits
// and the mean to the same decimal place (scientific notation below 1e-5);
// "–" for a std that does not exist (n = 1) and "–" alone for no values.
// A partial column (k of the group's n runs) says so.
func meanStd(s stat, n int) string {
	var out string
	switch {
	case s.n == 0:
		return "–"
	case math.IsNaN(s.std):
		out = strconv.FormatFloat(s.mean, 'g', 4, 64) + " ± –"
	case s.std == 0 || math.IsNaN(s.mean) || math.IsInf(s.mean, 0):
		out = strconv.FormatFloat(s.mean, 'g', 4, 64) + " ± " + strconv.FormatFloat(s.std, 'g', 2, 64)
	case s.std < 1e-5:
		d := 1 // decimals of the mean's mantissa: down to the std's second digit
		if s.mean != 0 {
			d = min(max(1, int(math.Floor(math.Log10(math.Abs(s.mean)))-math.Floor(math.Log10(s.std)))+1), 15)
		}
		out = fmt.Sprintf("%.*e ± %.1e", d, s.mean, s.std)
	default:
		d := decimals(s.std)
		out = fmt.Sprintf("%.*f ± %.*f", d, s.mean, d, s.std)
	}
	if s.n < n {
		out += fmt.Sprintf(" (%d of %d)", s.n, n)
	}
	return out
}

// seconds renders a mean time: whole seconds from 100 s, else 3 digits.
func seconds(s stat) string {
	switch {
	case s.n == 0:
		return "–"
	case s.mean >= 100:
		return strconv.FormatFloat(s.mean, 'f', 0, 64)
	}
	return strconv.FormatFloat(s.mean, 'g', 3, 64)
}

// cell renders a key value; a missing key shows as "–".
func cell(v string) string {
	if v == "" {
		return "–"
	}
	return v
}

// caption is the line that says what the table holds.
func (t *table) caption() string {
	var b strings.Builder
	keys := "all runs in one group"
	if len(t.keys) > 0 {
		keys = "grouped by " + strings.Join(t.keys, ", ")
	}
	fmt.Fprintf(&b, "%d result files in %s", t.files, t.dir)
	if t.skipped > 0 {
		fmt.Fprintf(&b, " (%d unreadable, skipped)", t.skipped)
	}
	fmt.Fprintf(&b, "; %s; mean ± sample std over runs; seconds: mean solve time.", keys)
	return b.String()
}

// grid returns the table as text: the header, which columns are numeric,
// and one row of cells per group. The Markdown and HTML renderings share it.
func (t *table) grid() (head []string, numeric []bool, rows [][]string) {
	head = append([]string(nil), t.keys...)
	numeric = make([]bool, len(t.keys))
	head, numeric = append(head, "n"), append(numeric, true)
	for _, c := range t.columns {
		head, numeric = append(head, c.header), append(numeric, true)
	}
	head, numeric = append(head, "seconds"), append(numeric, true)
	if t.badInit {
		head, numeric = append(head, t.badLabel), append(numeric, true)
	}
	for _, g := range t.groups {
		var cells []string
		for _, v := range g.values {
			cells = append(cells, cell(v))
		}
		n := len(g.runs)
		cells = append(cells, strconv.Itoa(n))
		for _, s := range g.stats {
			cells = append(cells, meanStd(s, n))
		}
		cells = append(cells, seconds(g.seconds))
		if t.badInit {
			cells = append(cells, badCell(g.bad, n))
		}
		rows = append(rows, cells)
	}
	return head, numeric, rows
}

// writeMarkdown writes the caption line and the table as a Markdown pipe
// table.
func (t *table) writeMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n", t.caption())
	head, numeric, rows := t.grid()
	align := make([]string, len(head))
	for j, num := range numeric {
		align[j] = "---"
		if num {
			align[j] = "--:"
		}
	}
	row := func(cells []string) {
		esc := make([]string, len(cells))
		for j, c := range cells {
			// Control characters (a newline would end the row: any
			// attribute text may hold one) escaped as in a Go string.
			if strings.ContainsFunc(c, unicode.IsControl) {
				q := strconv.Quote(c)
				c = q[1 : len(q)-1]
			}
			esc[j] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(esc, " | "))
	}
	row(head)
	row(align)
	for _, r := range rows {
		row(r)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// badCell renders a bad-initialization count as "k/n (rate%)".
func badCell(s stat, n int) string {
	if s.n == 0 {
		return "–"
	}
	out := fmt.Sprintf("%d/%d (%.1f%%)", badCount(s), s.n, 100*s.mean)
	if s.n < n {
		out += fmt.Sprintf(" (%d of %d)", s.n, n)
	}
	return out
}

// badCount is the number of bad initializations behind a rate: the mean of
// 0/1 flags times their count.
func badCount(s stat) int { return int(math.Round(s.mean * float64(s.n))) }

// writeCSV writes one header line and one line per group. Numbers are in
// Go's shortest round-trip format; a std that does not exist (n < 2) and a
// mean of no values are empty fields. Each mean ± std column has its count
// (NAME_n) beside it.
func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	num := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	head := append(append([]string(nil), t.keys...), "n")
	for _, c := range t.columns {
		head = append(head, c.name+"_mean", c.name+"_std", c.name+"_n")
	}
	head = append(head, "seconds_mean")
	if t.badInit {
		head = append(head, "bad_init_count", "bad_init_n", "bad_init_rate")
	}
	cw.Write(head)
	for _, g := range t.groups {
		rec := append(append([]string(nil), g.values...), strconv.Itoa(len(g.runs)))
		for _, s := range g.stats {
			rec = append(rec, num(s.mean), num(s.std), strconv.Itoa(s.n))
		}
		rec = append(rec, num(g.seconds.mean))
		if t.badInit {
			count := ""
			if g.bad.n > 0 {
				count = strconv.Itoa(badCount(g.bad))
			}
			rec = append(rec, count, strconv.Itoa(g.bad.n), num(g.bad.mean))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// tabulate groups recs by -by (else the keys that vary) into the table of
// the files of src, skipped of them unreadable.
func tabulate(c *config, recs []*record, skipped int, src string) (*table, error) {
	if err := checkKeys(recs, c.By, c.Values); err != nil {
		return nil, err
	}
	keys := c.By
	if keys == nil {
		keys = groupKeys(recs)
	}
	t := build(recs, keys, c.Values, c.BadInitRatio)
	t.files, t.skipped, t.dir = len(recs)+skipped, skipped, src
	return t, nil
}

// report is table mode: read, group, render, write.
func report(c *config, stdout io.Writer, log *slog.Logger) error {
	recs, skipped, err := readAll(c.In, c.Strict, log)
	if err != nil {
		return err
	}
	t, err := tabulate(c, recs, skipped, c.In)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if c.Format == "csv" {
		err = t.writeCSV(&b)
	} else {
		err = t.writeMarkdown(&b)
	}
	if err != nil {
		return err
	}
	if c.Out == "" {
		_, err = stdout.Write(b.Bytes())
		return err
	}
	return atomicfile.WriteFile(c.Out, func(tmp string) error {
		return os.WriteFile(tmp, b.Bytes(), 0o644)
	})
}
