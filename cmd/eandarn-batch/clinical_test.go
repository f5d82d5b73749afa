package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/metrics"
)

// TestClinicalMetrics: a job on a run file with truth and region labels
// writes the reconstruction's activation map, the truth's, their
// correlation, mean absolute error and localization error, and RE/CC per
// region, each equal to solver/metrics recomputed from the written
// reconstruction; the JSON line carries the same numbers. A named region
// that labels no node gets null RE and CC and a warning. Without truth
// only the activation map is written.
func TestClinicalMetrics(t *testing.T) {
	dir := t.TempDir()
	p := tinyProblem()
	p.RegionNames = []string{"south", "north"}
	p.Region = make([]int, len(p.Heart.Nodes))
	for i, x := range p.Heart.Nodes {
		if x[2] >= 0 {
			p.Region[i] = 1
		}
	}
	in, out := filepath.Join(dir, "run.h5"), filepath.Join(dir, "result.h5")
	if err := runfile.Save(in, p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := call("-in", in, "-out", out, "-method", "tikhonov2", "-noise", "0.01", "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	r, err := resultfile.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	u := r.Matrices["reconstruction/u"]
	at := metrics.ActivationTimes(u, p.Time, metrics.Upstroke, metrics.ActivationSmoothing)
	truthAT := metrics.ActivationTimes(p.TruthU, p.Time, metrics.Upstroke, metrics.ActivationSmoothing)
	want := metrics.CompareActivation(at, truthAT, p.Heart.Nodes)
	eq := func(name string, got []float64, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want[i])
			}
		}
	}
	eq("reconstruction/activation_time", r.Vectors["reconstruction/activation_time"], at)
	eq("metrics/truth_activation_time", r.Vectors["metrics/truth_activation_time"], truthAT)
	eq("at_cc, at_mae, localization_mm, earliest", []float64{r.Scalars["metrics/at_cc"], r.Scalars["metrics/at_mae"], r.Scalars["metrics/localization_mm"], r.Scalars["metrics/earliest_node"]},
		[]float64{want.CC, want.MAE, want.Localization, float64(want.Earliest)})
	if s.ATCC == nil || *s.ATCC != want.CC || s.ATMAE == nil || *s.ATMAE != want.MAE || s.Localization == nil || *s.Localization != want.Localization {
		t.Errorf("JSON line: at_cc %v at_mae %v localization %v, want %+v", s.ATCC, s.ATMAE, s.Localization, want)
	}
	regions := metrics.ByRegion(u, p.TruthU, p.Region, 2)
	for k, name := range p.RegionNames {
		base := "metrics/region/" + name + "/"
		eq(base+"re, cc, nodes", []float64{r.Scalars[base+"re"], r.Scalars[base+"cc"], r.Scalars[base+"nodes"]},
			[]float64{regions[k].RE, regions[k].CC, float64(regions[k].Nodes)})
		if js := s.Regions[name]; js.RE == nil || *js.RE != regions[k].RE || js.Nodes != regions[k].Nodes {
			t.Errorf("JSON region %s: %+v, want %+v", name, js, regions[k])
		}
	}
	if !strings.Contains(r.Attrs["activation"], "steepest upstroke") || r.Attrs["region_names"] != `["south","north"]` {
		t.Errorf("attributes activation %q, region_names %q", r.Attrs["activation"], r.Attrs["region_names"])
	}
	t.Logf("%s", stdout)
	if strings.Contains(stderr, "labels no node") {
		t.Errorf("both regions have nodes, yet: %s", stderr)
	}

	// A named region without nodes: null RE and CC, and a warning.
	p.RegionNames = append(p.RegionNames, "septum")
	if err := runfile.Save(in, p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = call("-in", in, "-out", out, "-method", "tikhonov2", "-log-level", "warn")
	if err := json.Unmarshal([]byte(stdout), &s); code != 0 || err != nil {
		t.Fatalf("empty region: exit %d (%v): %s", code, err, stderr)
	}
	if js := s.Regions["septum"]; js.RE != nil || js.Nodes != 0 || !strings.Contains(stderr, "a region labels no node") || !strings.Contains(stderr, "region=septum") {
		t.Errorf("empty region: JSON %+v, stderr %q", js, stderr)
	}

	// Without truth: the activation map only.
	p.TruthU, p.TruthV = nil, nil
	if err := runfile.Save(in, p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = call("-in", in, "-out", out, "-method", "tikhonov2", "-log-level", "warn")
	if code != 0 {
		t.Fatalf("without truth: exit %d: %s", code, stderr)
	}
	if r, err = resultfile.Read(out); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Vectors["reconstruction/activation_time"]; !ok || strings.Contains(stdout, "at_cc") || strings.Contains(stdout, "regions") {
		t.Errorf("without truth: activation map present %v, JSON %s", ok, stdout)
	}
	for k := range r.Scalars {
		if strings.HasPrefix(k, "metrics/") {
			t.Errorf("without truth the result has %s", k)
		}
	}
}
