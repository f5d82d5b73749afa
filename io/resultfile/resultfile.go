// Package resultfile writes and reads result files: HDF5 files holding
// named float64 datasets and text attributes, written atomically.
//
// A File is a flat set of entries keyed by slash-separated paths; groups are
// implied by the paths. The layout is the caller's (cmd/eandarn-batch
// decides it); for example
//
//	reconstruction/u      Matrices  n x T
//	metrics/re_frame      Vectors   T
//	metrics/re            Scalars   rank-0 dataset (h5py: f["metrics/re"][()])
//	version               Attrs     root attribute "version"
//	tikhonov0/config      Attrs     attribute "config" of group "tikhonov0"
//
// An Attrs key without a slash is a root attribute; otherwise the last
// segment is the attribute name and the rest the group or dataset that
// carries it (a group is created when no dataset or group is there).
//
// Save writes to a temporary name in the target folder and renames it onto
// the target when complete: readers never see a partial file, and on any
// failure an existing file at the target is left untouched. The target
// folder must exist.
package resultfile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/inputs"
)

// File is the content of a result file. The zero value is not usable; call
// New (or fill all four maps).
type File struct {
	Matrices map[string]mat.Matrix // 2-D float64 datasets; Read returns *mat.Dense
	Vectors  map[string][]float64  // 1-D float64 datasets
	Scalars  map[string]float64    // rank-0 float64 datasets
	Attrs    map[string]string     // text attributes, see the package doc
}

// New returns an empty File.
func New() *File {
	return &File{
		Matrices: map[string]mat.Matrix{},
		Vectors:  map[string][]float64{},
		Scalars:  map[string]float64{},
		Attrs:    map[string]string{},
	}
}

// check rejects empty paths and a dataset path used twice or used as a
// group of another dataset, before anything is written.
func (r *File) check() error {
	kind := map[string]string{}
	add := func(p, what string) error {
		p = strings.Trim(p, "/")
		if p == "" {
			return fmt.Errorf("%s with an empty path", what)
		}
		if prev, dup := kind[p]; dup {
			return fmt.Errorf("path %s used twice (%s and %s)", p, prev, what)
		}
		kind[p] = what
		return nil
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(r.Matrices)) {
		errs = append(errs, add(k, "matrix"))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Vectors)) {
		errs = append(errs, add(k, "vector"))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Scalars)) {
		errs = append(errs, add(k, "scalar"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Attrs)) {
		if _, name := splitAttr(k); name == "" {
			return fmt.Errorf("attribute key %q has no name", k)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(kind)) {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if other, ok := kind[dir]; ok {
				return fmt.Errorf("%s %s lies under %s %s", kind[p], p, other, dir)
			}
		}
	}
	return nil
}

// Save writes r to the file name atomically (see the package doc).
func Save(name string, r *File) error {
	if err := r.check(); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return atomicfile.WriteFile(name, func(tmp string) error {
		f, err := h5.Create(tmp)
		if err != nil {
			return err
		}
		err = r.write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("save %s: %w", name, err)
		}
		return nil
	})
}

func (r *File) write(f *h5.File) error {
	for _, k := range slices.Sorted(maps.Keys(r.Matrices)) {
		if err := f.WriteDense(k, r.Matrices[k]); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Vectors)) {
		if err := f.WriteVector(k, r.Vectors[k]); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Scalars)) {
		if err := f.WriteScalar(k, r.Scalars[k]); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Attrs)) {
		obj, name := splitAttr(k)
		if !f.Exists(obj) {
			if err := f.CreateGroup(obj); err != nil {
				return err
			}
		}
		if err := f.SetString(obj, name, r.Attrs[k]); err != nil {
			return err
		}
	}
	return nil
}

// splitAttr splits an Attrs key into the object path and attribute name.
func splitAttr(key string) (obj, name string) {
	key = strings.TrimPrefix(key, "/")
	i := strings.LastIndex(key, "/")
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// Read loads every numeric dataset and every attribute of a result file:
// rank-2 datasets into Matrices as *mat.Dense, rank 1 into Vectors, rank 0
// into Scalars; other datasets (strings, rank > 2, empty matrices) are
// skipped. Attributes of the root and of every group and dataset are read as
// text into Attrs under the keys Save uses. The file is untrusted input: the
// total size its datasets declare must fit the memory budget of io/inputs
// before any of them is read (see io/h5 for the other checks).
func Read(name string) (*File, error) {
	f, err := h5.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.List()
	if err != nil {
		return nil, err
	}
	// The declared sizes of what will be read, against the memory budget,
	// before any of it is read.
	var tally inputs.Tally
	for _, e := range entries {
		if !e.Group && (e.Info.Class == h5.Float || e.Info.Class == h5.Int) && len(e.Info.Shape) <= 2 {
			if _, err := tally.Add("dataset "+e.Path, e.Info.Shape); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	r := New()
	objects := []string{""}
	for _, e := range entries {
		objects = append(objects, e.Path)
		if e.Group {
			continue
		}
		if e.Info.Class != h5.Float && e.Info.Class != h5.Int {
			continue // not a number: left out rather than failing the whole read
		}
		switch len(e.Info.Shape) {
		case 0:
			x, err := f.ReadScalar(e.Path)
			if err != nil {
				return nil, err
			}
			r.Scalars[e.Path] = x
		case 1:
			v, err := f.ReadVector(e.Path)
			if err != nil {
				return nil, err
			}
			r.Vectors[e.Path] = v
		case 2:
			if e.Info.Shape[0] == 0 || e.Info.Shape[1] == 0 {
				continue // gonum has no empty matrix
			}
			m, err := f.ReadDense(e.Path)
			if err != nil {
				return nil, err
			}
			r.Matrices[e.Path] = m
		}
	}
	for _, obj := range objects {
		names, err := f.AttrNames(obj)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			v, err := f.Text(obj, n)
			if err != nil {
				return nil, err
			}
			key := n
			if obj != "" {
				key = obj + "/" + n
			}
			r.Attrs[key] = v
		}
	}
	return r, nil
}

// Finite checks that the datasets paths of r (a File Read returned) hold
// only finite values, skipping a path r does not have, and names the first
// value that is not: a reader that draws or exports a reconstruction needs
// numbers, and eandarn-batch never writes a NaN there, so one comes from a
// file made or edited elsewhere.
func (r *File) Finite(paths ...string) error {
	bad := func(p string, x float64, at string) error {
		return fmt.Errorf("dataset %s: want finite values, got %v at [%s]", p, x, at)
	}
	for _, p := range paths {
		if m, ok := r.Matrices[p]; ok {
			rows, cols := m.Dims()
			for i := range rows {
				for j := range cols {
					if x := m.At(i, j); math.IsNaN(x) || math.IsInf(x, 0) {
						return bad(p, x, fmt.Sprintf("%d,%d", i, j))
					}
				}
			}
		}
		for i, x := range r.Vectors[p] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return bad(p, x, fmt.Sprint(i))
			}
		}
		if x, ok := r.Scalars[p]; ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("dataset %s: want a finite value, got %v", p, x)
		}
	}
	return nil
}

// Differ returns the dataset paths among paths whose contents differ bit for
// bit between a and b. A dataset present in one file and absent from the
// other differs, and so does a path absent from both, so that a misspelt
// path cannot pass as equal. Resume tests use it to show that an
// interrupted-then-resumed run equals an uninterrupted one.
func Differ(a, b *File, paths ...string) []string {
	var diff []string
	for _, p := range paths {
		ma, okA := a.Matrices[p]
		mb, okB := b.Matrices[p]
		va, okVA := a.Vectors[p]
		vb, okVB := b.Vectors[p]
		sa, okSA := a.Scalars[p]
		sb, okSB := b.Scalars[p]
		same := okA == okB && okVA == okVB && okSA == okSB &&
			(!okA || mat.Equal(ma, mb)) &&
			(!okVA || slices.Equal(va, vb)) &&
			(!okSA || math.Float64bits(sa) == math.Float64bits(sb))
		if !same || !(okA || okVA || okSA) {
			diff = append(diff, p)
		}
	}
	return diff
}
