package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/shareddata"
)

// utahSites are the pacing nodes of the Utah heart's accuracy runs, those
// of solver/reg's TestAccuracyRealisticSTRE: the first sock electrode,
// the node farthest from both it and the node farthest from it, and an
// end of the principal axis.
var utahSites = []int{0, 187, 245}

// TestAccuracyRealisticUtah runs the binaries on another anatomy than the
// suite's: the Utah torso-tank heart (a closed 337-node surface, sock and
// cap, 7.7 mm mean edge, fine enough for the wave unrefined) in its
// 284-node tank with the 191 jacket electrodes as leads, eandarn-synth
// paced at each of utahSites, then tikhonov2, stre and eandarn (one network,
// its defaults) at σ 0.05 for the seeds of EANDARN_SUITE_SEEDS (default
// 1,2,3). Per site it checks, on the means over seeds, that EAND-ARN's RE is
// at most half Tikhonov-2's and below STRE's, that its activation map
// correlates ≥ 0.95 with the truth's and that it localizes the pacing site
// within 10 mm. Skipped with a message without ../shared/data.
func TestAccuracyRealisticUtah(t *testing.T) {
	d, out, bin := accuracyCase(t, "utah_torso_tank_heart337", "about 10 minutes a seed")
	type sums struct{ re, at, loc float64 }
	for _, site := range utahSites {
		in := filepath.Join(out, "utah-"+strconv.Itoa(site)+".h5")
		runBin(t, filepath.Join(bin, "eandarn-synth"), "-heart", filepath.Join(d, "heart_closed"), "-torso", filepath.Join(d, "tank_closed"),
			"-leads", filepath.Join(d, "jacket_electrode_node_index.csv"), "-pace", strconv.Itoa(site), "-out", in, "-log-level", "warn")
		mean := map[string]*sums{}
		seeds := suiteList("EANDARN_SUITE_SEEDS")
		for _, seed := range seeds {
			for _, method := range []string{"tikhonov2", "stre", "eandarn"} {
				line := runBin(t, filepath.Join(bin, "eandarn-batch"), "-in", in, "-method", method, "-noise", "0.05", "-seed", seed,
					"-device", "cpu", "-log-level", "warn", "-progress", "0", "-out", filepath.Join(out, method+"-"+strconv.Itoa(site)+"-"+seed+".h5"))
				var s summary
				if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &s); err != nil || s.RE == nil || s.ATCC == nil || s.Localization == nil {
					t.Fatalf("node %d %s seed %s: JSON line %q (%v)", site, method, seed, line, err)
				}
				t.Logf("node %d σ 0.05 seed %s %-9s RE %.3f CC %.3f AT corr %.3f localization %.1f mm (%.0f s)", site, seed, method, *s.RE, *s.CC, *s.ATCC, *s.Localization, s.TotalSeconds)
				if mean[method] == nil {
					mean[method] = &sums{}
				}
				n := float64(len(seeds))
				mean[method].re += *s.RE / n
				mean[method].at += *s.ATCC / n
				mean[method].loc += *s.Localization / n
			}
		}
		e, tk, st := mean["eandarn"], mean["tikhonov2"], mean["stre"]
		t.Logf("node %d, means over %d seeds: RE tikhonov2 %.3f, stre %.3f, eandarn %.3f (%.2f× Tikhonov-2); AT corr %.3f / %.3f / %.3f; localization %.1f / %.1f / %.1f mm",
			site, len(seeds), tk.re, st.re, e.re, e.re/tk.re, tk.at, st.at, e.at, tk.loc, st.loc, e.loc)
		if !(e.re <= 0.5*tk.re && e.re < st.re) {
			t.Errorf("node %d: EAND-ARN RE %.3f, Tikhonov-2 %.3f, STRE %.3f: want at most half Tikhonov-2's and below STRE's", site, e.re, tk.re, st.re)
		}
		if !(e.at >= 0.95 && e.loc <= 10) {
			t.Errorf("node %d: EAND-ARN AT corr %.3f (want ≥ 0.95), localization %.1f mm (want ≤ 10)", site, e.at, e.loc)
		}
	}
}

// accuracyCase starts an accuracy test on a dataset of ../shared/data: it
// skips (saying it takes about duration) without EANDARN_ACCURACY=1 and
// without the data, and returns the data folder, a temporary output folder
// and the built binaries' folder.
func accuracyCase(t *testing.T, dataset, duration string) (data, out, bin string) {
	if os.Getenv("EANDARN_ACCURACY") != "1" {
		t.Skip(duration + " on 2 cores: set EANDARN_ACCURACY=1 (make accuracy)")
	}
	return shareddata.Dir(t, dataset), t.TempDir(), buildBinaries(t)
}
