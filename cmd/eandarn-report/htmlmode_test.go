package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// chromium is Debian's Chromium, which make deps installs.
const chromium = "/usr/bin/chromium"

// probeScript is added to a copy of the report before Chromium opens it
// (the report itself has no script): after the page's load event it writes,
// into a <pre id="probe">, every image's title, whether it finished
// loading and its decoded size, and the text of every table cell, so that
// --dump-dom shows what the browser loaded and displays.
const probeScript = `<script>
window.addEventListener("load", () => {
  const imgs = [...document.images].map(i => ({name: i.title, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}));
  const tables = [...document.querySelectorAll("table")].map(t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim())));
  const p = document.createElement("pre");
  p.id = "probe";
  p.textContent = JSON.stringify({imgs, tables});
  document.body.appendChild(p);
});
</script>`

// probe is what probeScript reports.
type probe struct {
	Imgs []struct {
		Name     string `json:"name"`
		Complete bool   `json:"complete"`
		W        int    `json:"w"`
		H        int    `json:"h"`
	} `json:"imgs"`
	Tables [][][]string `json:"tables"`
}

// openInChromium loads the HTML file in headless Chromium (the flags this
// machine needs, a fresh profile, no network) and returns the probe.
func openInChromium(t *testing.T, html string) *probe {
	t.Helper()
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "probed.html")
	probed := strings.Replace(string(b), "</body>", probeScript+"</body>", 1)
	if err := os.WriteFile(page, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	// --disable-dev-shm-usage: Debian's launcher means to add it when
	// /dev/shm is small, but its test breaks where findmnt prints two
	// lines, and CI machines differ. A browser process that dies from a
	// signal (CI saw one segfault at start-up) is the environment, not the
	// report: it is retried with a fresh profile, and the test fails only
	// when every attempt crashed or one exits with an error of its own.
	const attempts = 3
	var out, errb bytes.Buffer
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--disable-extensions", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
			"--virtual-time-budget=20000", "--dump-dom", "file://"+page)
		out.Reset()
		errb.Reset()
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		if err == nil {
			break
		}
		var exit *exec.ExitError
		crashed := errors.As(err, &exit) && !exit.Exited() && ctx.Err() == nil
		if !crashed || try == attempts {
			t.Fatalf("chromium (attempt %d of %d): %v\n%s", try, attempts, err, errb.String())
		}
		t.Logf("chromium crashed (attempt %d of %d, retrying): %v", try, attempts, err)
	}
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatalf("chromium's DOM has no probe (the load event never fired?):\n%.2000s\nstderr:\n%s", out.String(), errb.String())
	}
	var p probe
	text := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'").Replace(string(m[1]))
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		t.Fatalf("probe %q: %v", text, err)
	}
	return &p
}

// TestHTMLReportInChromium runs the real eandarn-batch on io's tiny run
// file (tikhonov2 and stre at σ 0.01 and 0.05 over two seeds, and a short
// eandarn training at σ 0.01), writes the HTML report of the folder, opens
// it in headless Chromium and checks that every figure loaded (decoded,
// non-empty) and that the table Chromium shows holds, for every group,
// the number of runs and the mean RE of the batch's JSON lines. It skips
// with a message when Chromium is not installed (make deps installs it).
func TestHTMLReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs eandarn-batch and Chromium")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found (make deps installs Debian's chromium): %v", chromium, err)
	}
	bin := batchBinary(t)
	runPath, err := filepath.Abs(tinyRun)
	if err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	var jsonLines bytes.Buffer
	batch := func(name string, args ...string) {
		t.Helper()
		var errb bytes.Buffer
		cmd := exec.Command(bin, append([]string{"-in", runPath, "-out", filepath.Join(res, name), "-log-level", "warn"}, args...)...)
		cmd.Stdout, cmd.Stderr = &jsonLines, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("eandarn-batch %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}
	for _, m := range []string{"tikhonov2", "stre"} {
		for _, noise := range []string{"0.01", "0.05"} {
			for _, seed := range []string{"1", "2"} {
				batch(fmt.Sprintf("%s-%s-%s.h5", m, noise, seed), "-method", m, "-noise", noise, "-seed", seed)
			}
		}
	}
	batch("eandarn.h5", "-method", "eandarn", "-noise", "0.01", "-epochs", "30", "-monitor-every", "5")

	want := jsonREs(t, &jsonLines)

	html := filepath.Join(t.TempDir(), "report.html")
	figs := filepath.Join(t.TempDir(), "figs")
	code, out, errs := call("-html", res, "-out", html, "-png", figs, "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum htmlSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Results != 9 || sum.Out != html {
		t.Fatalf("JSON line %q (%v): want 9 results and out %s", out, err, html)
	}
	pngs, _ := filepath.Glob(filepath.Join(figs, "*.png"))
	if len(pngs) != sum.Figures {
		t.Errorf("%d PNG files, %d figures", len(pngs), sum.Figures)
	}

	p := openInChromium(t, html)
	if len(p.Imgs) != sum.Figures || sum.Figures < 9*5 {
		t.Errorf("Chromium shows %d images; the report made %d figures (want ≥ 45: bars, electrograms, and per run maps, activation, curves)", len(p.Imgs), sum.Figures)
	}
	var names []string
	for _, img := range p.Imgs {
		names = append(names, img.Name)
		if !img.Complete || img.W < 100 || img.H < 100 {
			t.Errorf("image %s did not load: %+v", img.Name, img)
		}
	}
	for _, name := range []string{"bars.png", "electrograms_1.png", "electrograms_2.png", "eandarn_curves.png", "eandarn_activation.png", "stre-0.05-2_curves.png", "tikhonov2-0.01-1_curves.png"} {
		if !slices.Contains(names, name) {
			t.Errorf("no figure %s among %v", name, names)
		}
	}

	if len(p.Tables) != 1 {
		t.Fatalf("%d tables, want 1", len(p.Tables))
	}
	rows := p.Tables[0]
	if h := strings.Join(rows[0], ","); h != "method,noise,epochs,monitor-every,n,RE,CC,MSE,seconds,bad init" {
		t.Fatalf("header %q", h)
	}
	if len(rows) != 1+len(want) {
		t.Fatalf("%d rows, want %d groups: %v", len(rows)-1, len(want), rows)
	}
	for _, r := range rows[1:] {
		checkGroup(t, r[0], r[1], r[4], r[5], want[groupKey{r[0], r[1]}])
	}
}

// TestHTMLWithoutRunFile: results whose run file is gone still get a
// report (table, bar charts, curves, configuration) that says why the heart
// maps are missing; beyond -max-runs each group shows its median-RE run.
func TestHTMLWithoutRunFile(t *testing.T) {
	dir := sweepDir(t)
	figs := filepath.Join(t.TempDir(), "figs")
	code, out, errs := call("-html", dir, "-max-runs", "2", "-png", figs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum htmlSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	// 8 runs in 3 groups: more than 2, so one per group, the first 2.
	if sum.Out != filepath.Join(dir, "report.html") || sum.Results != 8 || sum.Shown != 2 {
		t.Errorf("summary %+v: want report.html in the folder, 8 results, 2 shown", sum)
	}
	b, err := os.ReadFile(sum.Out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		"No heart maps or electrograms: run file not loaded",
		"each group is represented by its run with the median RE",
		"only the first 2 of the 3 groups are shown",
		`title="bars.png"`,
		"<td class=\"num\">0.0500 ± 0.0082</td>", // eandarn σ 0.01: RE 0.04, 0.05, 0.06, 0.05
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The shown eandarn run is the lower median of RE 0.04, 0.05, 0.05, 0.06.
	if !regexp.MustCompile(`<dt>RE</dt><dd>0.05</dd>`).MatchString(html) {
		t.Error("the eandarn group is not represented by a median-RE run")
	}
	if pngs, _ := filepath.Glob(filepath.Join(figs, "*.png")); len(pngs) != sum.Figures || sum.Figures < 1 {
		t.Errorf("%d PNG files for %d figures", len(pngs), sum.Figures)
	}
}

// TestHTMLBadInput: HTML-mode usage errors are one line, exit 2, nothing
// written.
func TestHTMLBadInput(t *testing.T) {
	dir := sweepDir(t)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "r.html")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"empty folder", []string{"-html", t.TempDir(), "-out", out}, "no result files"},
		{"missing file", []string{"-html", filepath.Join(dir, "nope.h5"), "-out", out}, "is not a folder or a result file"},
		{"max runs", []string{"-html", dir, "-out", out, "-max-runs", "0"}, "-max-runs 0"},
		{"times", []string{"-html", dir, "-out", out, "-times", "1,x"}, `-times "1,x": item "x"`},
		{"nodes", []string{"-html", dir, "-out", out, "-nodes", "-3"}, `-nodes "-3"`},
		{"png parent", []string{"-html", dir, "-out", out, "-png", filepath.Join(outDir, "a", "b")}, "does not exist"},
		{"table flag", []string{"-html", dir, "-out", out, "-format", "csv"}, "-format: not a html-mode flag"},
		{"vtk and html", []string{"-html", dir, "-vtk", filepath.Join(outDir, "v")}, "exclude each other"},
		{"html flag in table mode", []string{"-in", dir, "-times", "1"}, "-times: not a table-mode flag"},
		{"out folder", []string{"-html", dir, "-out", filepath.Join(outDir, "no", "r.html")}, "does not exist"},
		{"out is a result", []string{"-html", dir, "-out", filepath.Join(dir, "task-00000.h5")}, "refusing to overwrite an input"},
		{"png holds the results", []string{"-html", dir, "-out", out, "-png", dir}, "would replace the folder holding the input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := call(tc.args...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, one line with %q", code, stdout, stderr, tc.want)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("written: %v", entries)
			}
		})
	}
}

func TestAutoFramesAndNodes(t *testing.T) {
	time := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	act := []float64{math.NaN(), 0.2, 1, 2, 3, 4, 5, 6, 7, 8, 9.7}
	// Sorted defined times: 0.2 … 9.7 (10 values): 20% → index 2 (t = 2),
	// 50% → index 4.5 → 5 (t = 5), 80% → index 7.2 → 7 (t = 7).
	if got := autoFrames(act, time); !slices.Equal(got, []int{2, 5, 7}) {
		t.Errorf("autoFrames %v, want [2 5 7]", got)
	}
	if got := autoFrames([]float64{math.NaN()}, time); !slices.Equal(got, []int{2, 5, 8}) {
		t.Errorf("autoFrames without activation %v, want quarter, half and three quarters [2 5 8]", got)
	}
	nodes, names := autoNodes(act)
	if !slices.Equal(nodes, []int{1, 6, 10}) || names[0] != "earliest activation" {
		t.Errorf("autoNodes %v %v, want earliest 1, median 6, latest 10", nodes, names)
	}
	if n, _ := autoNodes([]float64{math.NaN(), math.NaN(), math.NaN()}); !slices.Equal(n, []int{0, 1, 2}) {
		t.Errorf("autoNodes without activation %v", n)
	}
}

func TestNiceStepAndMarks(t *testing.T) {
	for _, tc := range []struct{ span, want float64 }{{24.6, 5}, {310, 50}, {1, 0.1}, {0.07, 0.01}, {0, 0}} {
		if got := niceStep(tc.span, 10); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%g) = %g, want %g", tc.span, got, tc.want)
		}
	}
	m := lambdaMarks(map[string]float64{"values/lambda": 2, "values/lambda_gcv": 2, "values/lambda_lcurve": 10})
	if len(m) != 2 || m[0].label != "chosen λ = 2 (gcv)" || m[1].x != 10 {
		t.Errorf("lambdaMarks %+v", m)
	}
	xs, ys := []float64{1, 10, 100}, []float64{100, 10, 1}
	if got := logInterp(xs, ys, math.Sqrt(10)); math.Abs(got-math.Sqrt(1000)) > 1e-9 {
		t.Errorf("logInterp %g, want %g", got, math.Sqrt(1000))
	}
	if got := logInterp(xs, ys, 1000); !math.IsNaN(got) {
		t.Errorf("logInterp outside %g, want NaN", got)
	}
}

// TestHTMLForeignRunFile: a -run file of another heart is not drawn on;
// the report says why.
func TestHTMLForeignRunFile(t *testing.T) {
	dir := t.TempDir()
	res := writeFake(t, dir, "r.h5", fakeRun{method: "tikhonov2", noise: 0.01, seed: 1, re: 0.2, cc: 0.9, mse: 0.01, solve: 1})
	code, out, errs := call("-html", res, "-run", tinyRun)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum htmlSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sum.Out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "has 42 heart nodes and 12 frames, the reconstruction 3x4: not the run it was made from"; !strings.Contains(string(b), want) {
		t.Errorf("report lacks %q", want)
	}
}

// TestBarGroups: bar categories are the keys every group has (noise), the
// series the method with its own settings (epochs, given only to eandarn).
func TestBarGroups(t *testing.T) {
	rec := func(method, noise, epochs string) *record {
		k := map[string]string{"method": method, "noise": noise}
		if epochs != "" {
			k["epochs"] = epochs
		}
		return &record{keys: k, scalars: map[string]float64{"metrics/re": 0.1}}
	}
	recs := []*record{rec("tikhonov2", "0.01", ""), rec("tikhonov2", "0.1", ""), rec("eandarn", "0.01", "80"), rec("eandarn", "0.01", "120"), rec("eandarn", "0.1", "80")}
	tb := build(recs, groupKeys(recs), nil, 0)
	if got := tb.categoryKeys(); !slices.Equal(got, []string{"noise"}) {
		t.Fatalf("category keys %v, want [noise] (epochs: eandarn only)", got)
	}
	var cats, series []string
	for _, g := range tb.groups {
		cats = append(cats, categoryOf(tb.keys, g.values, tb.categoryKeys()))
		series = append(series, seriesOf(tb.keys, g.values, tb.categoryKeys()))
	}
	if want := []string{"0.01", "0.01", "0.1", "0.01", "0.1"}; !slices.Equal(cats, want) {
		t.Errorf("categories %v, want %v", cats, want)
	}
	if want := []string{"eandarn epochs=80", "eandarn epochs=120", "eandarn epochs=80", "tikhonov2", "tikhonov2"}; !slices.Equal(series, want) {
		t.Errorf("series %v, want %v", series, want)
	}
	if _, err := bars(tb); err != nil {
		t.Fatal(err)
	}
}
