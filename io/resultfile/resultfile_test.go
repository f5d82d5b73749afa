package resultfile

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func sample() *File {
	r := New()
	r.Matrices["reconstruction/u"] = mat.NewDense(3, 4, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1.0 / 3})
	r.Matrices["reconstruction/v"] = mat.NewDense(3, 4, nil)
	r.Vectors["metrics/re_frame"] = []float64{0.1, 0.2, math.Inf(1), 0.4}
	r.Vectors["history/loss_data"] = []float64{}
	r.Vectors["selection/gcv"] = []float64{3, 2, 1}
	r.Scalars["metrics/re"] = 0.123456789
	r.Scalars["selection/lambda"] = 1e-4
	r.Scalars["metrics/cc"] = math.NaN() // NaN is allowed in results (e.g. a metric without truth)
	r.Attrs["version"] = "v0.1.0"
	r.Attrs["seed"] = "42"
	r.Attrs["config"] = `{"method":"tikhonov0","lambda":"gcv"}`
	r.Attrs["reconstruction/u/units"] = "normalized"
	r.Attrs["tikhonov0/note"] = "group made for the attribute"
	return r
}

func TestSaveRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.h5")
	want := sample()
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Matrices) != 2 || !mat.Equal(got.Matrices["reconstruction/u"], want.Matrices["reconstruction/u"]) {
		t.Errorf("matrices: %v", got.Matrices)
	}
	if !reflect.DeepEqual(got.Vectors, want.Vectors) {
		t.Errorf("vectors %v, want %v", got.Vectors, want.Vectors)
	}
	if len(got.Scalars) != 3 || got.Scalars["metrics/re"] != 0.123456789 || !math.IsNaN(got.Scalars["metrics/cc"]) {
		t.Errorf("scalars %v", got.Scalars)
	}
	if !reflect.DeepEqual(got.Attrs, want.Attrs) {
		t.Errorf("attrs %v, want %v", got.Attrs, want.Attrs)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("result file mode: %v %v", st, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestSaveFailures: a bad layout or a missing folder writes nothing and
// leaves an existing result as it was.
func TestSaveFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.h5")
	if err := Save(path, sample()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(r *File)
		want string
	}{
		{"same path twice", func(r *File) { r.Vectors["metrics/re"] = []float64{1} }, "path metrics/re used twice"},
		{"dataset under a dataset", func(r *File) { r.Scalars["reconstruction/u/max"] = 1 }, "scalar reconstruction/u/max lies under matrix reconstruction/u"},
		{"empty path", func(r *File) { r.Scalars[""] = 1 }, "empty path"},
		{"attribute without a name", func(r *File) { r.Attrs["metrics/"] = "x" }, "has no name"},
	}
	for _, c := range cases {
		r := sample()
		c.edit(r)
		err := Save(path, r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		after, _ := os.ReadFile(path)
		if string(after) != string(before) {
			t.Errorf("%s: existing result changed", c.name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	missing := filepath.Join(dir, "no-such-dir", "result.h5")
	if err := Save(missing, sample()); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("Save created the missing folder")
	}
}

func TestH5dumpListsLayout(t *testing.T) {
	h5ls, err := exec.LookPath("h5ls")
	if err != nil {
		t.Skip("h5ls not installed (apt-get install hdf5-tools)")
	}
	path := filepath.Join(t.TempDir(), "r.h5")
	if err := Save(path, sample()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(h5ls, "-r", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5ls: %v\n%s", err, out)
	}
	for _, want := range []string{"/reconstruction/u        Dataset {3, 4}", "/metrics/re_frame        Dataset {4}", "/metrics/re              Dataset {SCALAR}", "/tikhonov0               Group"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("h5ls -r lacks %q:\n%s", want, out)
		}
	}
}

func TestDiffer(t *testing.T) {
	a, b := New(), New()
	a.Matrices["reconstruction/u"] = mat.NewDense(1, 2, []float64{1, 2})
	b.Matrices["reconstruction/u"] = mat.NewDense(1, 2, []float64{1, 2})
	a.Vectors["series/loss"] = []float64{3, 4}
	b.Vectors["series/loss"] = []float64{3, math.Nextafter(4, 5)}
	a.Scalars["metrics/re"] = 0.5
	for _, tc := range []struct {
		paths []string
		want  []string
	}{
		{[]string{"reconstruction/u"}, nil},
		{[]string{"reconstruction/u", "series/loss"}, []string{"series/loss"}},
		{[]string{"metrics/re"}, []string{"metrics/re"}},
		{[]string{"no/such"}, []string{"no/such"}},
	} {
		if got := Differ(a, b, tc.paths...); !slices.Equal(got, tc.want) {
			t.Errorf("Differ(%v) = %v, want %v", tc.paths, got, tc.want)
		}
	}
}

func TestFinite(t *testing.T) {
	r := sample()
	for _, tc := range []struct {
		paths []string
		want  string // "" for no error
	}{
		{[]string{"reconstruction/u", "selection/gcv", "metrics/re", "no/such"}, ""},
		{[]string{"reconstruction/u", "metrics/re_frame"}, "dataset metrics/re_frame: want finite values, got +Inf at [2]"},
		{[]string{"metrics/cc"}, "dataset metrics/cc: want a finite value, got NaN"},
	} {
		err := r.Finite(tc.paths...)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("Finite(%v) = %v, want %q", tc.paths, err, tc.want)
		}
	}
	r.Matrices["reconstruction/u"].(*mat.Dense).Set(1, 2, math.Inf(-1))
	if err := r.Finite("reconstruction/u"); fmt.Sprint(err) != "dataset reconstruction/u: want finite values, got -Inf at [1,2]" {
		t.Errorf("Finite(reconstruction/u) = %v", err)
	}
}
