package runfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// AttrsFile is the name of the attribute file in an NPY run folder.
const AttrsFile = "attrs.json"

// errMissing is what a source returns for an absent dataset.
var errMissing = errors.New("missing")

// source is a run file being read: HDF5 or an NPY folder.
type source interface {
	file(ds string) string // the file holding dataset ds ("" = attributes)
	// stat returns the declared shape of dataset ds, whether its elements
	// are numbers and their rounding unit (roundingUnit), without reading
	// its data.
	stat(ds string) (shape []int, numeric bool, unit float64, err error)
	floats(ds string) ([]float64, []int, error)
	ints(ds string) ([]int, []int, error)
	attrs() (map[string]string, error)
}

// Load reads and validates the run file at path: an HDF5 file, or a folder
// of .npy files (see the package documentation). Any problem with the input
// (missing, unreadable, truncated, breaking the schema) is a *SchemaError.
//
// Nothing large is read before the declared shapes are known to be
// consistent: first the shape of every dataset is read from its header and
// checked against the schema and against each other (R must be m x n when
// the leads say m and the heart n), and their total size against the memory
// budget of io/inputs; only then is the data read and validated.
func Load(path string) (*inverse.Problem, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &SchemaError{File: path, Want: "a run file (HDF5) or run folder (.npy)", Got: "nothing readable there: " + err.Error(), Err: err}
	}
	if st.IsDir() {
		return load(npySource(path))
	}
	if !st.Mode().IsRegular() {
		return nil, &SchemaError{File: path, Want: "a run file (HDF5) or run folder (.npy)", Got: "a " + inputs.Kind(st.Mode()), Err: inputs.ErrNotRegular}
	}
	f, err := h5.Open(path)
	if err != nil {
		return nil, &SchemaError{File: path, Want: "a readable HDF5 file", Got: "unreadable, truncated or not HDF5", Err: err}
	}
	defer f.Close()
	return load(h5Source{f})
}

// load checks the declared shapes of every schema dataset of src (see
// Load), reads them, builds the Problem and validates it.
func load(src source) (*inverse.Problem, error) {
	attrs, err := src.attrs()
	if err != nil {
		return nil, err
	}
	p := &inverse.Problem{Attrs: attrs}
	shapes, timeUnit, err := declared(src)
	if err != nil {
		return nil, err
	}
	got := make(map[string][]float64)
	gotInt := make(map[string][]int)
	for _, s := range schema {
		if shapes[s.path] == nil {
			continue
		}
		var vals []float64
		var ints []int
		var shape []int
		var err error
		if s.integer {
			ints, shape, err = src.ints(s.path)
		} else {
			vals, shape, err = src.floats(s.path)
		}
		if err == nil && !slices.Equal(shape, shapes[s.path]) {
			err = fmt.Errorf("shape changed from %v to %v while reading", shapes[s.path], shape)
		}
		if err != nil {
			return nil, &SchemaError{File: src.file(s.path), Dataset: s.path, Want: s.want(), Got: "unreadable: " + err.Error(), Err: err}
		}
		got[s.path], gotInt[s.path] = vals, ints
	}
	dense := func(ds string) *mat.Dense {
		if got[ds] == nil {
			return nil
		}
		return mat.NewDense(shapes[ds][0], shapes[ds][1], got[ds])
	}
	p.Heart = toMesh(got[HeartNodes], gotInt[HeartTris])
	if shapes[TorsoNodes] != nil {
		p.Torso = toMesh(got[TorsoNodes], gotInt[TorsoTris])
		p.Leads = gotInt[Leads]
	}
	p.Region = gotInt[Region]
	if err := regionNames(src.file(""), p); err != nil {
		return nil, err
	}
	p.R = dense(Forward)
	p.BSPM = dense(BSPM)
	p.Time = got[Time]
	p.TruthU = dense(TruthU)
	p.TruthV = dense(TruthV)
	if err := validate(src.file, p, timeUnit); err != nil {
		return nil, err
	}
	return p, nil
}

// regionNames moves the region_names attribute of p.Attrs, a JSON array of
// strings, into p.RegionNames; validate then checks it against p.Region.
func regionNames(file string, p *inverse.Problem) error {
	text, ok := p.Attrs[RegionNamesAttr]
	if !ok {
		return nil
	}
	delete(p.Attrs, RegionNamesAttr)
	if err := json.Unmarshal([]byte(text), &p.RegionNames); err != nil || p.RegionNames == nil {
		return &SchemaError{File: file, Attr: RegionNamesAttr, Want: `a JSON array of region names, e.g. ["lv_endo","rv_endo","epi"]`, Got: fmt.Sprintf("%q", text), Err: err}
	}
	return nil
}

// toMesh builds a mesh from row-major n x 3 coordinates and F x 3 indices.
func toMesh(nodes []float64, tris []int) *mesh.Mesh {
	m := &mesh.Mesh{Nodes: make([][3]float64, len(nodes)/3), Tris: make([][3]int, len(tris)/3)}
	for i := range m.Nodes {
		m.Nodes[i] = [3]float64(nodes[3*i : 3*i+3])
	}
	for i := range m.Tris {
		m.Tris[i] = [3]int(tris[3*i : 3*i+3])
	}
	return m
}

// declared returns the declared shape of every schema dataset of src
// (absent optional ones left out), and the rounding unit of the stored
// times, after checking, from the headers alone, each against its schema
// entry (checkDeclared), their total size against the memory budget, and
// their agreement with each other (checkShapes).
func declared(src source) (shapes map[string][]int, timeUnit float64, err error) {
	shapes = make(map[string][]int)
	var tally inputs.Tally
	// The torso group is optional as a whole: a member missing while another
	// is present is reported like a missing required dataset.
	var torsoMissing error
	for _, s := range schema {
		shape, numeric, unit, err := src.stat(s.path)
		if err := checkDeclared(src, s, shape, numeric, err); err != nil {
			if errors.Is(err, errMissing) {
				if s.torso && torsoMissing == nil {
					torsoMissing = &SchemaError{File: src.file(s.path), Dataset: s.path, Want: s.want(), Got: "missing"}
				}
				continue // optional
			}
			return nil, 0, err
		}
		if _, err := tally.Add("dataset "+s.path, shape); err != nil {
			return nil, 0, &SchemaError{File: src.file(s.path), Dataset: s.path, Want: "data within the memory budget", Got: err.Error(), Err: err}
		}
		shapes[s.path] = shape
		if s.path == Time {
			timeUnit = unit
		}
	}
	if torsoMissing != nil && (shapes[TorsoNodes] != nil || shapes[TorsoTris] != nil || shapes[Leads] != nil) {
		return nil, 0, torsoMissing
	}
	if err := checkShapes(src.file, shapes); err != nil {
		return nil, 0, err
	}
	return shapes, timeUnit, nil
}

// roundingUnit is the relative spacing of the numbers a dataset stores:
// 2^-52 for float64, 2^-23 for float32, 2^-10 for float16, and 0 for
// integers, which are exact. Times stored as float32 (and offset from zero,
// as sample times of a recording are) are uniform only to that precision.
func roundingUnit(integer bool, size int) float64 {
	switch {
	case integer:
		return 0
	case size <= 2:
		return 0x1p-10
	case size <= 4:
		return 0x1p-23
	}
	return 0x1p-52
}

// checkDeclared checks one dataset's declared shape against its schema
// entry s: present (or optional, then errMissing), numbers, rank, column
// count, non-empty. err is the stat error.
func checkDeclared(src source, s spec, shape []int, numeric bool, err error) error {
	bad := func(want, got string, err error) error {
		return &SchemaError{File: src.file(s.path), Dataset: s.path, Want: want, Got: got, Err: err}
	}
	want := s.want()
	switch {
	case errors.Is(err, errMissing) && s.optional:
		return errMissing
	case errors.Is(err, errMissing):
		return bad(want, "missing", nil)
	case err != nil:
		return bad(want, "unreadable: "+err.Error(), err)
	case !numeric:
		return bad(want, "elements that are not numbers", nil)
	case len(shape) == 0:
		return bad(want, "a scalar", nil)
	case len(shape) != s.rank:
		return bad(want, "shape "+shapeString(shape), nil)
	case s.cols > 0 && shape[1] != s.cols:
		return bad(fmt.Sprintf("Kx%d (%s)", s.cols, s.what), shapeString(shape), nil)
	case s.rank == 2 && (shape[0] == 0 || shape[1] == 0):
		return bad("a non-empty "+strings.TrimPrefix(want, "a "), shapeString(shape), nil)
	}
	return nil
}

type h5Source struct{ f *h5.File }

func (s h5Source) file(string) string { return s.f.Name() }

func (s h5Source) stat(ds string) ([]int, bool, float64, error) {
	info, err := s.f.Stat(ds)
	if errors.Is(err, h5.ErrNotFound) {
		return nil, false, 0, errMissing
	}
	return info.Shape, info.Class == h5.Float || info.Class == h5.Int, roundingUnit(info.Class == h5.Int, info.Size), err
}

func (s h5Source) floats(ds string) ([]float64, []int, error) {
	v, shape, err := s.f.ReadFloats(ds)
	if errors.Is(err, h5.ErrNotFound) {
		return nil, nil, errMissing
	}
	return v, shape, err
}

func (s h5Source) ints(ds string) ([]int, []int, error) {
	v, shape, err := s.f.ReadInts(ds)
	if errors.Is(err, h5.ErrNotFound) {
		return nil, nil, errMissing
	}
	return v, shape, err
}

func (s h5Source) attrs() (map[string]string, error) {
	names, err := s.f.AttrNames("")
	if err != nil {
		return nil, &SchemaError{File: s.f.Name(), Want: "readable root attributes", Got: err.Error(), Err: err}
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		v, err := s.f.Text("", n)
		switch {
		case err == nil:
			out[n] = v
		case n == "units":
			return nil, &SchemaError{File: s.f.Name(), Attr: n, Want: "a string", Got: err.Error(), Err: err}
		}
		// Other attributes that are not text or one number (arrays that
		// h5py users attach, say) are provenance this program does not use:
		// they are left out rather than failing the load.
	}
	return out, nil
}

type npySource string

func (d npySource) file(ds string) string {
	if ds == "" {
		return filepath.Join(string(d), AttrsFile)
	}
	return filepath.Join(string(d), filepath.FromSlash(ds)+".npy")
}

func (d npySource) stat(ds string) ([]int, bool, float64, error) {
	h, err := npy.Stat(d.file(ds))
	if err != nil {
		return nil, false, 0, d.absent(ds, err)
	}
	return h.Shape, true, roundingUnit(h.IsInteger(), h.ElemSize()), nil
}

func (d npySource) floats(ds string) ([]float64, []int, error) {
	v, shape, err := npy.ReadFloats(d.file(ds))
	return v, shape, d.absent(ds, err)
}

func (d npySource) ints(ds string) ([]int, []int, error) {
	v, shape, err := npy.ReadInts(d.file(ds))
	return v, shape, d.absent(ds, err)
}

// absent turns the error of reading dataset ds into errMissing when its
// file does not exist. A symbolic link to nothing is an error instead: an
// optional dataset (the truth) would silently be left out.
func (d npySource) absent(ds string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if to, lerr := os.Readlink(d.file(ds)); lerr == nil {
		return fmt.Errorf("%s is a symbolic link to %s, which does not exist", d.file(ds), to)
	}
	return errMissing
}

// maxAttrs is the largest attrs.json read: attributes are provenance text.
const maxAttrs = 16 << 20

// attrs reads attrs.json. Non-string values (numbers, objects) are kept as
// their JSON text so that a hand-written {"seed": 1} works.
func (d npySource) attrs() (map[string]string, error) {
	name := d.file("")
	b, err := inputs.ReadFile(name, maxAttrs)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil // validate reports the missing units
	}
	if err != nil {
		return nil, &SchemaError{File: name, Want: "a readable JSON object", Got: err.Error(), Err: err}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, &SchemaError{File: name, Want: "a JSON object of attributes", Got: err.Error(), Err: err}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	return out, nil
}

// sink is a run file being written.
type sink interface {
	dense(ds string, m mat.Matrix) error
	vector(ds string, v []float64) error
	ints(ds string, rows, cols int, v []int) error
	intVector(ds string, v []int) error
	attrs(a map[string]string) error
}

// IsHDF5Path reports whether Save writes path as HDF5 (extension .h5,
// .hdf5 or .he5) rather than as an NPY folder.
func IsHDF5Path(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".h5", ".hdf5", ".he5":
		return true
	}
	return false
}

// Save validates p and writes it to path: an HDF5 file when the extension
// is .h5, .hdf5 or .he5, otherwise an NPY folder. The output is written
// under a temporary name in the same folder and renamed when complete, so
// an existing file stays untouched on failure. The parent folder must
// exist. An existing NPY folder is replaced only if it holds attrs.json.
func Save(path string, p *inverse.Problem) error {
	if err := Validate(path, p); err != nil {
		return err
	}
	if IsHDF5Path(path) {
		return atomicfile.WriteFile(path, func(tmp string) error {
			f, err := h5.Create(tmp)
			if err != nil {
				return err
			}
			err = put(h5Sink{f}, p)
			return errors.Join(err, f.Close())
		})
	}
	return atomicfile.WriteDir(path, IsRunDir, func(tmp string) error {
		return put(npySink(tmp), p)
	})
}

// IsRunDir reports whether dir is a run folder (it holds AttrsFile): the
// only existing folder Save replaces with a folder of .npy files.
func IsRunDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, AttrsFile))
	return err == nil
}

// put writes every dataset and attribute of p to s.
func put(s sink, p *inverse.Problem) error {
	meshOut := func(m *mesh.Mesh, nodesDS, trisDS string) error {
		nodes := mat.NewDense(len(m.Nodes), 3, nil)
		for i, x := range m.Nodes {
			nodes.SetRow(i, x[:])
		}
		tris := make([]int, 0, 3*len(m.Tris))
		for _, t := range m.Tris {
			tris = append(tris, t[:]...)
		}
		return errors.Join(s.dense(nodesDS, nodes), s.ints(trisDS, len(m.Tris), 3, tris))
	}
	attrs := p.Attrs
	if p.Region != nil {
		names, err := json.Marshal(p.RegionNames)
		if err != nil {
			return err
		}
		attrs = maps.Clone(p.Attrs)
		attrs[RegionNamesAttr] = string(names)
	}
	err := errors.Join(
		meshOut(p.Heart, HeartNodes, HeartTris),
		s.dense(Forward, p.R),
		s.dense(BSPM, p.BSPM),
		s.vector(Time, p.Time),
		s.attrs(attrs),
	)
	if err != nil {
		return err
	}
	if p.Torso != nil {
		if err := errors.Join(meshOut(p.Torso, TorsoNodes, TorsoTris), s.intVector(Leads, p.Leads)); err != nil {
			return err
		}
	}
	if p.Region != nil {
		if err := s.intVector(Region, p.Region); err != nil {
			return err
		}
	}
	if p.TruthU != nil {
		if err := s.dense(TruthU, p.TruthU); err != nil {
			return err
		}
	}
	if p.TruthV != nil {
		return s.dense(TruthV, p.TruthV)
	}
	return nil
}

type h5Sink struct{ f *h5.File }

func (s h5Sink) dense(ds string, m mat.Matrix) error     { return s.f.WriteDense(ds, m) }
func (s h5Sink) vector(ds string, v []float64) error     { return s.f.WriteVector(ds, v) }
func (s h5Sink) intVector(ds string, v []int) error      { return s.f.WriteIntVector(ds, v) }
func (s h5Sink) ints(ds string, r, c int, v []int) error { return s.f.WriteInts(ds, r, c, v) }
func (s h5Sink) attrs(a map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if err := s.f.SetString("", k, a[k]); err != nil {
			return err
		}
	}
	return nil
}

// npySink writes into a folder; each dataset's parent folders are made on
// demand.
type npySink string

func (d npySink) path(ds string) (string, error) {
	p := filepath.Join(string(d), filepath.FromSlash(ds)+".npy")
	return p, os.MkdirAll(filepath.Dir(p), 0o755)
}

func (d npySink) dense(ds string, m mat.Matrix) error {
	p, err := d.path(ds)
	if err != nil {
		return err
	}
	return npy.WriteDense(p, m)
}

func (d npySink) vector(ds string, v []float64) error {
	p, err := d.path(ds)
	if err != nil {
		return err
	}
	return npy.WriteVector(p, v)
}

func (d npySink) ints(ds string, r, c int, v []int) error {
	p, err := d.path(ds)
	if err != nil {
		return err
	}
	return npy.WriteInts(p, r, c, v)
}

func (d npySink) intVector(ds string, v []int) error {
	p, err := d.path(ds)
	if err != nil {
		return err
	}
	return npy.WriteIntVector(p, v)
}

func (d npySink) attrs(a map[string]string) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(string(d), AttrsFile))
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	return errors.Join(err, f.Sync(), f.Close())
}
