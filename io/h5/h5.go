// Package h5 is a thin layer over gonum.org/v1/hdf5 for the files eandarn
// reads and writes: nested groups, float64 datasets of rank 0, 1 and 2,
// integer datasets of rank 1 and 2, and string and float attributes.
//
// Layout conventions, so that h5py, MATLAB and h5dump see what Go wrote:
//   - a Go n x T matrix (gonum mat, row-major) is stored as a C-order dataset
//     of shape (n, T): h5py's f["x"].shape == (n, T), MATLAB's h5read
//     returns its transpose (T x n), as for any HDF5 file from C or Python;
//   - floats are stored as IEEE little-endian float64 (H5T_IEEE_F64LE);
//   - integers (triangle and lead indices) are stored as little-endian int64
//     (H5T_STD_I64LE), NumPy's default integer on 64-bit Linux;
//   - string attributes are variable-length C strings, which h5py returns
//     as str.
//
// Reading converts through HDF5's own type conversion, so int32, unsigned
// or big-endian datasets written by other tools read correctly; integer
// reads also accept float datasets whose values are all whole numbers (a
// MATLAB habit).
//
// Paths are slash-separated and relative to the file root ("forward/R");
// a leading "/" is ignored and "" or "/" is the root group.
//
// Files are read as untrusted input: only a regular file is opened (never
// a named pipe or device, which would block or never end); only hard links
// are followed (a soft or external link could lead anywhere, including a
// named pipe); datasets whose raw data lives outside the file (external
// storage, virtual datasets) and datasets whose data was never fully
// written (which HDF5 reads as fill values) are refused; a declared shape
// is multiplied with overflow checks and checked against the memory budget
// of io/inputs before anything is allocated, so a small compressed file
// declaring a huge dataset is refused at once; the group walk of List is
// bounded against link cycles.
//
// HDF5's own file locking is turned off (HDF5_USE_FILE_LOCKING=FALSE, set
// when the package loads): eandarn writes every file under a temporary name
// that io/atomicfile locks itself and renames when complete, so no reader
// ever meets a file being written, and HDF5's locks would only fail on file
// systems without lock support (a known problem on cluster file systems).
package h5

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/hdf5"

	"github.com/eandarn/eandarn/io/inputs"
)

func init() {
	// Read by HDF5 at every H5Fcreate/H5Fopen (1.10.7 and later); os.Setenv
	// updates the C environment in a cgo binary.
	os.Setenv("HDF5_USE_FILE_LOCKING", "FALSE")
}

// ErrNotFound is wrapped by errors about a dataset, group or attribute that
// does not exist.
var ErrNotFound = errors.New("not found")

// Class is the element class of a dataset or attribute.
type Class int

const (
	Other  Class = iota // a class eandarn does not read (compound, opaque, ...)
	Float               // IEEE floating point
	Int                 // signed or unsigned integer
	String              // fixed or variable-length string
)

func (c Class) String() string {
	switch c {
	case Float:
		return "float"
	case Int:
		return "int"
	case String:
		return "string"
	}
	return "other"
}

func classOf(tc hdf5.TypeClass) Class {
	switch tc {
	case hdf5.T_FLOAT:
		return Float
	case hdf5.T_INTEGER:
		return Int
	case hdf5.T_STRING:
		return String
	}
	return Other
}

// File is an open HDF5 file.
type File struct {
	f    *hdf5.File
	name string
}

// Create creates (or truncates) the HDF5 file at path for writing.
func Create(path string) (*File, error) {
	defer quiet()()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("create %s: %v", path, lastError())
	}
	return &File{f: f, name: path}, nil
}

// Open opens an existing HDF5 file read-only. A path that is not a regular
// file (a named pipe, a device, a folder), a file that is not HDF5, or one
// that is truncated (HDF5 compares the end of file stored in the superblock
// with the real size) fails here.
func Open(path string) (*File, error) {
	if _, err := inputs.Regular(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer quiet()()
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("open %s: not a readable HDF5 file (truncated or corrupt?): %v", path, err)
	}
	return &File{f: f, name: path}, nil
}

// Name returns the path the file was opened or created with.
func (f *File) Name() string { return f.name }

// Close flushes and closes the file.
func (f *File) Close() error {
	defer quiet()()
	if err := f.f.Close(); err != nil {
		// Data are flushed here: a full disk shows as the system's message.
		return fmt.Errorf("close %s: %v", f.name, lastError())
	}
	return nil
}

// clean returns path relative to the root without leading or trailing
// slashes; "" is the root.
func clean(path string) string { return strings.Trim(path, "/") }

// Exists reports whether a group or dataset exists at path through hard
// links only (see resolve).
func (f *File) Exists(path string) bool {
	defer quiet()()
	return f.resolve(path) == nil
}

// errLink is wrapped by errors about a path through a soft or external link.
var errLink = errors.New("soft or external link, not followed")

// resolve checks that every level of path exists and is a hard link,
// testing one level at a time: H5Lexists fails when an intermediate link is
// missing, and it follows (opens) an intermediate soft or external link.
// It returns nil, an error wrapping ErrNotFound or errLink, or an HDF5
// error.
func (f *File) resolve(path string) error {
	p := clean(path)
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i := range parts {
		sub := "/" + strings.Join(parts[:i+1], "/")
		switch t, err := linkType(f.f.ID(), sub); {
		case err != nil && i > 0:
			if group, ok := objectIsGroup(f.f.ID(), "/"+strings.Join(parts[:i], "/")); ok && !group {
				return fmt.Errorf("%s: /%s is a dataset, not a group holding %s", f.name, strings.Join(parts[:i], "/"), parts[i])
			}
			return fmt.Errorf("%s: %s: %v", f.name, sub, err)
		case err != nil:
			return fmt.Errorf("%s: %s: %v", f.name, sub, err)
		case t == linkMissing:
			return fmt.Errorf("%s: %s: %w", f.name, p, ErrNotFound)
		case t != linkHard:
			return fmt.Errorf("%s: %s: %w", f.name, sub, errLink)
		}
	}
	return nil
}

// CreateGroup creates the group at path and any missing parents (like
// mkdir -p). Existing groups are kept.
func (f *File) CreateGroup(path string) error {
	defer quiet()()
	p := clean(path)
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i := range parts {
		sub := "/" + strings.Join(parts[:i+1], "/")
		if f.f.LinkExists(sub) {
			continue
		}
		g, err := f.f.CreateGroup(sub)
		if err != nil {
			return fmt.Errorf("%s: create group %s: %v", f.name, sub, err)
		}
		if err := g.Close(); err != nil {
			return fmt.Errorf("%s: close group %s: %v", f.name, sub, err)
		}
	}
	return nil
}

// createDataset makes the parent groups and a new dataset of the given dims
// (nil dims: a scalar dataset).
func (f *File) createDataset(path string, dtype *hdf5.Datatype, dims []int) (*hdf5.Dataset, error) {
	p := clean(path)
	if p == "" {
		return nil, fmt.Errorf("%s: empty dataset path", f.name)
	}
	if i := strings.LastIndex(p, "/"); i >= 0 {
		if err := f.CreateGroup(p[:i]); err != nil {
			return nil, err
		}
	}
	var space *hdf5.Dataspace
	var err error
	if dims == nil {
		space, err = hdf5.CreateDataspace(hdf5.S_SCALAR)
	} else {
		ud := make([]uint, len(dims))
		for i, d := range dims {
			ud[i] = uint(d)
		}
		space, err = hdf5.CreateSimpleDataspace(ud, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: dataset %s: dataspace %v: %v", f.name, p, dims, err)
	}
	defer space.Close()
	ds, err := f.f.CreateDataset("/"+p, dtype, space)
	if err != nil {
		return nil, fmt.Errorf("%s: create dataset %s (already exists?): %v", f.name, p, err)
	}
	return ds, nil
}

func (f *File) writeFloats(path string, dims []int, data []float64) error {
	return f.writeDataset(path, hdf5.T_IEEE_F64LE, dims, func(id int64) error { return writeF64(id, data) })
}

func (f *File) writeInts(path string, dims []int, data []int) error {
	buf := make([]int64, len(data))
	for i, v := range data {
		buf[i] = int64(v)
	}
	return f.writeDataset(path, hdf5.T_STD_I64LE, dims, func(id int64) error { return writeI64(id, buf) })
}

// writeDataset creates a dataset of file type dtype and the given dims at
// path and fills it with write(dataset id).
func (f *File) writeDataset(path string, dtype *hdf5.Datatype, dims []int, write func(id int64) error) error {
	defer quiet()()
	ds, err := f.createDataset(path, dtype, dims)
	if err != nil {
		return err
	}
	werr := write(ds.ID())
	cerr := ds.Close()
	if werr != nil || cerr != nil {
		return fmt.Errorf("%s: write dataset %s: %v", f.name, clean(path), errors.Join(werr, cerr))
	}
	return nil
}

// WriteDense writes m as a new r x c float64 dataset at path, creating
// parent groups.
func (f *File) WriteDense(path string, m mat.Matrix) error {
	r, c := m.Dims()
	data := make([]float64, 0, r*c)
	if d, ok := m.(mat.RawMatrixer); ok && d.RawMatrix().Stride == c {
		data = append(data, d.RawMatrix().Data[:r*c]...)
	} else {
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				data = append(data, m.At(i, j))
			}
		}
	}
	return f.writeFloats(path, []int{r, c}, data)
}

// WriteVector writes v as a new 1-D float64 dataset at path.
func (f *File) WriteVector(path string, v []float64) error {
	return f.writeFloats(path, []int{len(v)}, v)
}

// WriteScalar writes x as a new scalar (rank 0) float64 dataset at path;
// h5py reads it with f[path][()].
func (f *File) WriteScalar(path string, x float64) error {
	return f.writeFloats(path, nil, []float64{x})
}

// WriteInts writes the row-major rows x cols integers as a new 2-D int64
// dataset at path.
func (f *File) WriteInts(path string, rows, cols int, data []int) error {
	if len(data) != rows*cols {
		return fmt.Errorf("%s: dataset %s: %d values for %dx%d", f.name, clean(path), len(data), rows, cols)
	}
	return f.writeInts(path, []int{rows, cols}, data)
}

// WriteIntVector writes v as a new 1-D int64 dataset at path.
func (f *File) WriteIntVector(path string, v []int) error {
	return f.writeInts(path, []int{len(v)}, v)
}

// Info describes a dataset: its shape (nil for a scalar), element class and
// element size in the file (bytes: 4 for a float32, 8 for a float64).
type Info struct {
	Shape []int
	Class Class
	Size  int
}

// openDataset opens the dataset at path, wrapping ErrNotFound when absent.
// A path through soft or external links, or a dataset whose raw data lives
// in other files, is refused.
func (f *File) openDataset(path string) (*hdf5.Dataset, error) {
	p := clean(path)
	if p == "" {
		return nil, fmt.Errorf("%s: dataset %s: %w", f.name, p, ErrNotFound)
	}
	if err := f.resolve(p); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%s: dataset %s: %w", f.name, p, ErrNotFound)
		}
		return nil, fmt.Errorf("dataset %s: %w", p, err)
	}
	ds, err := f.f.OpenDataset("/" + p)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a dataset: %v", f.name, p, err)
	}
	if where, err := foreignStorage(ds.ID()); err != nil || where != "" {
		ds.Close()
		if err == nil {
			err = fmt.Errorf("%s, not read", where)
		}
		return nil, fmt.Errorf("%s: dataset %s: %v", f.name, p, err)
	}
	return ds, nil
}

// datasetInfo returns the shape and class of a dataset. A dimension or an
// element count that does not fit an int is an error.
func datasetInfo(ds *hdf5.Dataset) (Info, error) {
	space := ds.Space()
	if space == nil {
		return Info{}, errHDF5
	}
	defer space.Close()
	var shape []int
	if space.SimpleExtentNDims() > 0 { // the binding indexes dims[0] even for scalars
		dims, _, err := space.SimpleExtentDims()
		if err != nil {
			return Info{}, err
		}
		for _, d := range dims {
			if uint64(d) > math.MaxInt {
				return Info{}, fmt.Errorf("declared dimensions %v: %w", dims, inputs.ErrSize)
			}
			shape = append(shape, int(d))
		}
		if _, err := inputs.Elements(shape); err != nil {
			return Info{}, err
		}
	}
	dt, err := ds.Datatype()
	if err != nil {
		return Info{}, err
	}
	defer dt.Close()
	return Info{Shape: shape, Class: classOf(dt.Class()), Size: int(dt.Size())}, nil
}

// Stat returns the shape and class of the dataset at path.
func (f *File) Stat(path string) (Info, error) {
	defer quiet()()
	ds, err := f.openDataset(path)
	if err != nil {
		return Info{}, err
	}
	defer ds.Close()
	info, err := datasetInfo(ds)
	if err != nil {
		return Info{}, fmt.Errorf("%s: dataset %s: %v", f.name, clean(path), err)
	}
	return info, nil
}

// prepare checks an open dataset before its data is read and returns its
// shape, class and element count: the declared size must fit the memory
// budget, and every element must have been written.
func (f *File) prepare(ds *hdf5.Dataset, p string) (Info, int, error) {
	info, err := datasetInfo(ds)
	if err != nil {
		return Info{}, 0, fmt.Errorf("%s: dataset %s: %w", f.name, p, err)
	}
	var t inputs.Tally
	n, err := t.Add("dataset "+p, info.Shape)
	if err != nil {
		return Info{}, 0, fmt.Errorf("%s: %w", f.name, err)
	}
	if n > 0 {
		ok, err := spaceAllocated(ds.ID())
		if err != nil {
			return Info{}, 0, fmt.Errorf("%s: dataset %s: storage status: %v", f.name, p, err)
		}
		if !ok {
			return Info{}, 0, fmt.Errorf("%s: dataset %s: declared with shape %v but its data was never fully written (it would read as fill values)", f.name, p, info.Shape)
		}
	}
	return info, n, nil
}

// ReadFloats reads a numeric dataset of any rank as row-major float64
// values with its shape (nil for a scalar).
func (f *File) ReadFloats(path string) ([]float64, []int, error) {
	defer quiet()()
	ds, err := f.openDataset(path)
	if err != nil {
		return nil, nil, err
	}
	defer ds.Close()
	info, n, err := f.prepare(ds, clean(path))
	if err != nil {
		return nil, nil, err
	}
	if info.Class != Float && info.Class != Int {
		return nil, nil, fmt.Errorf("%s: dataset %s: want numbers, got %s elements", f.name, clean(path), info.Class)
	}
	data := make([]float64, n)
	if err := readF64(ds.ID(), data); err != nil {
		return nil, nil, fmt.Errorf("%s: read dataset %s: %v", f.name, clean(path), err)
	}
	return data, info.Shape, nil
}

// ReadDense reads a 2-D numeric dataset as an r x c matrix.
func (f *File) ReadDense(path string) (*mat.Dense, error) {
	data, shape, err := f.ReadFloats(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		return nil, fmt.Errorf("%s: dataset %s: want 2-D, got shape %v", f.name, clean(path), shape)
	}
	if shape[0] == 0 || shape[1] == 0 {
		return nil, fmt.Errorf("%s: dataset %s: empty shape %v", f.name, clean(path), shape)
	}
	return mat.NewDense(shape[0], shape[1], data), nil
}

// ReadVector reads a 1-D numeric dataset.
func (f *File) ReadVector(path string) ([]float64, error) {
	data, shape, err := f.ReadFloats(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("%s: dataset %s: want 1-D, got shape %v", f.name, clean(path), shape)
	}
	return data, nil
}

// ReadScalar reads a scalar dataset (or one holding a single element).
func (f *File) ReadScalar(path string) (float64, error) {
	data, shape, err := f.ReadFloats(path)
	if err != nil {
		return 0, err
	}
	if len(data) != 1 {
		return 0, fmt.Errorf("%s: dataset %s: want one value, got shape %v", f.name, clean(path), shape)
	}
	return data[0], nil
}

// ReadInts reads an integer dataset of any rank as row-major ints with its
// shape. A float dataset is accepted when every value is a whole number that
// fits an int (MATLAB stores indices as double).
func (f *File) ReadInts(path string) ([]int, []int, error) {
	defer quiet()()
	ds, err := f.openDataset(path)
	if err != nil {
		return nil, nil, err
	}
	defer ds.Close()
	p := clean(path)
	info, n, err := f.prepare(ds, p)
	if err != nil {
		return nil, nil, err
	}
	if info.Class != Int && info.Class != Float {
		return nil, nil, fmt.Errorf("%s: dataset %s: want integers, got %s elements", f.name, p, info.Class)
	}
	out := make([]int, n)
	switch info.Class {
	case Int:
		buf := make([]int64, n)
		if err := readI64(ds.ID(), buf); err != nil {
			return nil, nil, fmt.Errorf("%s: read dataset %s: %v", f.name, p, err)
		}
		for i, v := range buf {
			out[i] = int(v)
		}
	case Float:
		buf := make([]float64, n)
		if err := readF64(ds.ID(), buf); err != nil {
			return nil, nil, fmt.Errorf("%s: read dataset %s: %v", f.name, p, err)
		}
		for i, v := range buf {
			if out[i], err = inputs.Int(v); err != nil {
				return nil, nil, fmt.Errorf("%s: dataset %s: at flat index %d: %w", f.name, p, i, err)
			}
		}
	}
	return out, info.Shape, nil
}

// Entry is one object found by List.
type Entry struct {
	Path  string // relative to the root, e.g. "forward/R"
	Group bool   // a group rather than a dataset
	Info  Info   // dataset shape and class; zero for groups
}

// Limits of List: a result file has a few dozen entries two levels deep;
// hard links can make a group its own descendant, so the walk is bounded.
const (
	maxDepth   = 32
	maxEntries = 100000
)

// List returns every group and dataset below the root reached through hard
// links, depth first in name order; soft and external links are left out.
// Groups nested deeper than 32 levels, or more than 100000 entries (a link
// cycle), are an error.
func (f *File) List() ([]Entry, error) {
	defer quiet()()
	var out []Entry
	var walk func(prefix string, depth int) error
	walk = func(prefix string, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("%s: groups nested deeper than %d levels at /%s (a link cycle?)", f.name, maxDepth, prefix)
		}
		g, err := f.f.OpenGroup("/" + prefix)
		if err != nil {
			return fmt.Errorf("%s: open group /%s: %v", f.name, prefix, err)
		}
		defer g.Close()
		n, err := g.NumObjects()
		if err != nil {
			return fmt.Errorf("%s: list group /%s: %v", f.name, prefix, err)
		}
		for i := uint(0); i < n; i++ {
			name, err := g.ObjectNameByIndex(i)
			if err != nil {
				return fmt.Errorf("%s: list group /%s: %v", f.name, prefix, err)
			}
			typ, err := g.ObjectTypeByIndex(i)
			if err != nil {
				return fmt.Errorf("%s: list group /%s: %s: %v", f.name, prefix, name, err)
			}
			p := strings.TrimPrefix(prefix+"/"+name, "/")
			if len(out) >= maxEntries {
				return fmt.Errorf("%s: more than %d groups and datasets (a link cycle?)", f.name, maxEntries)
			}
			switch typ {
			case hdf5.H5G_GROUP:
				out = append(out, Entry{Path: p, Group: true})
				if err := walk(p, depth+1); err != nil {
					return err
				}
			case hdf5.H5G_DATASET:
				info, err := f.Stat(p)
				if err != nil {
					return err
				}
				out = append(out, Entry{Path: p, Info: info})
			}
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return nil, err
	}
	return out, nil
}

// attrHost is what both *hdf5.Group and *hdf5.Dataset offer for attributes.
type attrHost interface {
	OpenAttribute(name string) (*hdf5.Attribute, error)
	CreateAttribute(name string, dtype *hdf5.Datatype, dspace *hdf5.Dataspace) (*hdf5.Attribute, error)
	Close() error
}

// object opens the group or dataset at obj ("" is the root group).
func (f *File) object(obj string) (attrHost, error) {
	p := clean(obj)
	if !f.Exists(p) {
		return nil, fmt.Errorf("%s: object /%s: %w", f.name, p, ErrNotFound)
	}
	if group, _ := objectIsGroup(f.f.ID(), "/"+p); group {
		g, err := f.f.OpenGroup("/" + p)
		if err != nil {
			return nil, fmt.Errorf("%s: open group /%s: %v", f.name, p, err)
		}
		return g, nil
	}
	ds, err := f.f.OpenDataset("/" + p)
	if err != nil {
		return nil, fmt.Errorf("%s: object /%s is neither group nor dataset: %v", f.name, p, err)
	}
	return ds, nil
}

// setAttr replaces the scalar attribute name on obj with value of dtype.
func (f *File) setAttr(obj, name string, dtype *hdf5.Datatype, value any) error {
	defer quiet()()
	h, err := f.object(obj)
	if err != nil {
		return err
	}
	defer h.Close()
	p := "/" + clean(obj)
	if ok, err := attrExists(f.f.ID(), p, name); err != nil {
		return fmt.Errorf("%s: %s: attribute %s: %v", f.name, p, name, err)
	} else if ok {
		if err := attrDelete(f.f.ID(), p, name); err != nil {
			return fmt.Errorf("%s: %s: replace attribute %s: %v", f.name, p, name, err)
		}
	}
	space, err := hdf5.CreateDataspace(hdf5.S_SCALAR)
	if err != nil {
		return fmt.Errorf("%s: %s: attribute %s: %v", f.name, p, name, err)
	}
	defer space.Close()
	a, err := h.CreateAttribute(name, dtype, space)
	if err != nil {
		return fmt.Errorf("%s: %s: create attribute %s: %v", f.name, p, name, err)
	}
	werr := a.Write(value, dtype)
	cerr := a.Close()
	if werr != nil || cerr != nil {
		return fmt.Errorf("%s: %s: write attribute %s: %v", f.name, p, name, errors.Join(werr, cerr))
	}
	return nil
}

// SetString sets the string attribute name on the group or dataset obj
// ("" is the file's root group), replacing any attribute of that name.
func (f *File) SetString(obj, name, value string) error {
	return f.setAttr(obj, name, hdf5.T_GO_STRING, &value)
}

// SetFloat sets the float64 attribute name on obj, replacing any attribute
// of that name.
func (f *File) SetFloat(obj, name string, value float64) error {
	return f.setAttr(obj, name, hdf5.T_NATIVE_DOUBLE, &value)
}

// AttrNames lists the attribute names of obj in name order.
func (f *File) AttrNames(obj string) ([]string, error) {
	defer quiet()()
	if !f.Exists(obj) {
		return nil, fmt.Errorf("%s: object /%s: %w", f.name, clean(obj), ErrNotFound)
	}
	names, err := attrNames(f.f.ID(), "/"+clean(obj))
	if err != nil {
		return nil, fmt.Errorf("%s: list attributes of /%s: %v", f.name, clean(obj), err)
	}
	return names, nil
}

// readAttr opens attribute name on obj and calls fn with it and its class.
func (f *File) readAttr(obj, name string, fn func(a *hdf5.Attribute, c Class) error) error {
	defer quiet()()
	p := "/" + clean(obj)
	h, err := f.object(obj)
	if err != nil {
		return err
	}
	defer h.Close()
	if ok, err := attrExists(f.f.ID(), p, name); err != nil || !ok {
		return fmt.Errorf("%s: %s: attribute %s: %w", f.name, p, name, ErrNotFound)
	}
	a, err := h.OpenAttribute(name)
	if err != nil {
		return fmt.Errorf("%s: %s: open attribute %s: %v", f.name, p, name, err)
	}
	defer a.Close()
	if n, err := attrPoints(a.ID()); err != nil || n != 1 {
		if err == nil {
			err = fmt.Errorf("want one value, got %d", n)
		}
		return fmt.Errorf("%s: %s: attribute %s: %v", f.name, p, name, err)
	}
	c := Other
	switch attrClass(a.ID()) {
	case int(hdf5.T_FLOAT):
		c = Float
	case int(hdf5.T_INTEGER):
		c = Int
	case int(hdf5.T_STRING):
		c = String
	}
	if err := fn(a, c); err != nil {
		return fmt.Errorf("%s: %s: attribute %s: %v", f.name, p, name, err)
	}
	return nil
}

// String reads the string attribute name of obj.
func (f *File) String(obj, name string) (string, error) {
	var s string
	err := f.readAttr(obj, name, func(a *hdf5.Attribute, c Class) error {
		if c != String {
			return fmt.Errorf("want string, got %s", c)
		}
		fixed, ok, err := readFixedString(a.ID())
		if ok {
			s = fixed
			return err
		}
		return a.Read(&s, hdf5.T_GO_STRING)
	})
	return s, err
}

// Float reads the numeric scalar attribute name of obj as float64.
func (f *File) Float(obj, name string) (float64, error) {
	var x float64
	err := f.readAttr(obj, name, func(a *hdf5.Attribute, c Class) error {
		if c != Float && c != Int {
			return fmt.Errorf("want a number, got %s", c)
		}
		return a.Read(&x, hdf5.T_NATIVE_DOUBLE)
	})
	return x, err
}

// Text reads attribute name of obj as text: strings as they are, numbers in
// Go's shortest round-trip format ('g', -1).
func (f *File) Text(obj, name string) (string, error) {
	s, err := f.String(obj, name)
	if err == nil || errors.Is(err, ErrNotFound) {
		return s, err
	}
	x, ferr := f.Float(obj, name)
	if ferr != nil {
		return "", err
	}
	return strconv.FormatFloat(x, 'g', -1, 64), nil
}
