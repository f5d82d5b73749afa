package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/resultfile"
)

// record is what the table needs from one result file.
type record struct {
	file string
	// keys is the run's configuration as text by key: the eandarn-batch
	// flags by flag name (from the config attribute's "batch" object, the
	// PINN flags given included), the method's configuration as
	// method.NAME, and the root attributes method, noise and seed.
	keys map[string]string
	// scalars holds the rank-0 datasets by path (metrics/re, values/bad_init,
	// timing/solve_s, ...).
	scalars map[string]float64
	attrs   map[string]string // the root attributes (version, input, created, ...)
}

// perTask are the keys that differ between the tasks of one sweep without
// describing the experiment (paths, logging, resumption), so they never
// form groups by default.
var perTask = map[string]bool{
	"seed": true, "out": true, "log-level": true, "resume": true,
	"checkpoint": true, "checkpoint-every": true,
}

// listResults returns the result files of dir in name order: its *.h5
// files (symbolic links followed; a dangling one is listed and fails to
// read), except hidden ones (an atomic write's temporary is ".NAME.tmp-*")
// and temporaries.
func listResults(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, cli.BadInputf("-in %s: %v", dir, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.Contains(name, ".tmp") || filepath.Ext(name) != ".h5" {
			continue
		}
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
			continue // a folder named *.h5 (a symlink to a file counts as the file)
		}
		files = append(files, path)
	}
	return files, nil
}

// reconstruction returns reconstruction/u of the result file f read from
// path, refusing a file without one (not an eandarn-batch result), one
// whose reconstruction (u, an ensemble's u_std, the time axis) holds a
// value that is not finite (drawn or exported, it would look like a map),
// and one whose time axis does not increase (activation times and a
// ParaView series need it to).
func reconstruction(f *resultfile.File, path string) (*mat.Dense, error) {
	u, ok := f.Matrices["reconstruction/u"].(*mat.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: no reconstruction/u (not an eandarn result file?)", path)
	}
	if err := f.Finite("reconstruction/u", "reconstruction/u_std", "reconstruction/time"); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := f.Vectors["reconstruction/time"]
	for k := 1; k < len(t); k++ {
		if !(t[k] > t[k-1]) {
			return nil, fmt.Errorf("%s: dataset reconstruction/time: want strictly increasing times, got t[%d] = %v after t[%d] = %v", path, k, t[k], k-1, t[k-1])
		}
	}
	return u, nil
}

// readRecord reads the scalars and attributes of one result file. A file
// that does not open, or has no method attribute (not an eandarn-batch
// result), is an error; a config attribute that is not JSON (eandarn-batch
// falls back to Go syntax when a method's configuration holds a NaN) leaves
// only the root attributes as keys and is logged.
func readRecord(path string, log *slog.Logger) (*record, error) {
	f, err := resultfile.Read(path)
	if err != nil {
		return nil, err
	}
	method, ok := f.Attrs["method"]
	if !ok {
		return nil, fmt.Errorf("%s: not an eandarn result file (no method attribute)", path)
	}
	r := &record{file: path, keys: map[string]string{}, scalars: f.Scalars, attrs: f.Attrs}
	if cfg, ok := f.Attrs["config"]; ok {
		if err := addConfig(r.keys, cfg); err != nil {
			log.Warn("config attribute not read: grouping by method, noise and seed only", "file", path, "err", err)
		}
	}
	r.keys["method"] = method
	for _, k := range []string{"noise", "seed"} {
		if v, ok := f.Attrs[k]; ok {
			r.keys[k] = v
		}
	}
	return r, nil
}

// addConfig adds the keys of the config attribute, JSON of the form
// {"batch": {flag: value, ..., "pinn": {flag: value}}, "method": {...}}.
// Batch keys use JSON names with '_' for the flag's '-' (lambda_s is flag
// -lambda-s); they are mapped back to flag names.
func addConfig(keys map[string]string, text string) error {
	var cfg struct {
		Batch  map[string]json.RawMessage `json:"batch"`
		Method map[string]json.RawMessage `json:"method"`
	}
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		return err
	}
	for k, raw := range cfg.Batch {
		if k == "pinn" {
			var pinn map[string]string
			if err := json.Unmarshal(raw, &pinn); err != nil {
				return fmt.Errorf("batch.pinn: %w", err)
			}
			for name, v := range pinn {
				keys[name] = v
			}
			continue
		}
		keys[strings.ReplaceAll(k, "_", "-")] = jsonValue(raw)
	}
	for k, raw := range cfg.Method {
		keys["method."+k] = jsonValue(raw)
	}
	return nil
}

// jsonValue renders a JSON value as a table cell: a string without quotes,
// a number or boolean as written, anything else as compact JSON.
func jsonValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// readAll reads every result file of dir. An unreadable file is logged
// and skipped; with strict it is an error. It is an error too when dir
// holds no result file, or none that reads.
func readAll(dir string, strict bool, log *slog.Logger) (recs []*record, skipped int, err error) {
	files, err := listResults(dir)
	if err != nil {
		return nil, 0, err
	}
	if len(files) == 0 {
		return nil, 0, cli.BadInputf("-in %s: no result files (*.h5)", dir)
	}
	return readFiles("-in "+dir, files, strict, log)
}

// readFiles reads the result files of src (a folder, or a list of files
// for the HTML report) as readAll does.
func readFiles(src string, files []string, strict bool, log *slog.Logger) (recs []*record, skipped int, err error) {
	for _, path := range files {
		r, err := readRecord(path, log)
		if err != nil {
			if strict {
				return nil, 0, cli.BadInputf("-strict: %v", err)
			}
			log.Warn("skipped unreadable result file", "file", path, "err", err)
			skipped++
			continue
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		return nil, skipped, cli.BadInputf("%s: none of the %d result files could be read", src, len(files))
	}
	if skipped > 0 {
		log.Warn("result files skipped", "skipped", skipped, "of", len(files), "in", src)
	}
	return recs, skipped, nil
}

// keyOrder is the column order of the default grouping keys that the
// paper's experiments vary: method and noise (Figs. 6 and 9), the network
// as Table I reads (layers, width, blocks: NN1–NN6 come out in order), then
// λ (Table III). Other keys follow by name.
var keyOrder = []string{"method", "noise", "layers", "width", "blocks", "ep-lambda", "lambda"}

// groupKeys returns the keys that take more than one value (a missing key
// counts as a value) across recs, except the per-task keys and the method's
// configuration (method.NAME keys follow from the flags), in keyOrder.
func groupKeys(recs []*record) []string {
	seen := map[string]map[string]bool{}
	for _, r := range recs {
		for k := range r.keys {
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
		}
	}
	for _, r := range recs {
		for k := range seen {
			v, ok := r.keys[k]
			if !ok {
				v = "\x00missing"
			}
			seen[k][v] = true
		}
	}
	var keys []string
	for k, vals := range seen {
		if len(vals) > 1 && !perTask[k] && !strings.HasPrefix(k, "method.") {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(keyOrder, k); i >= 0 {
			return i
		}
		return len(keyOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// checkKeys refuses -by keys and -values names that no record has: a
// mistyped name would otherwise group nothing or add a column of dashes.
func checkKeys(recs []*record, by, values []string) error {
	have, scalars := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		for k := range r.keys {
			have[k] = true
		}
		for p := range r.scalars {
			if name, ok := strings.CutPrefix(p, "values/"); ok {
				scalars[name] = true
			}
		}
	}
	for _, k := range by {
		if !have[k] {
			all := slices.Sorted(maps.Keys(have))
			return cli.BadInputf("-by %s: no result file has this key; keys: %s", k, strings.Join(all, ", "))
		}
	}
	for _, v := range values {
		if !scalars[v] {
			all := slices.Sorted(maps.Keys(scalars))
			return cli.BadInputf("-values %s: no result file has values/%s; values: %s", v, v, strings.Join(all, ", "))
		}
	}
	return nil
}
