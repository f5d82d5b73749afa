package runfile

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// declSource is a run file reduced to its headers: stat answers from the
// declared shapes; reading data is a test failure (the declared shapes are
// checked before any data is read).
type declSource struct {
	t       *testing.T
	shapes  map[string][]int
	numeric map[string]bool
}

func (d declSource) file(string) string { return "fuzz.h5" }
func (d declSource) stat(ds string) ([]int, bool, float64, error) {
	s, ok := d.shapes[ds]
	if !ok {
		return nil, false, 0, errMissing
	}
	return s, d.numeric[ds], roundingUnit(false, 8), nil
}
func (d declSource) floats(ds string) ([]float64, []int, error) {
	d.t.Fatalf("data of %s read while checking declared shapes", ds)
	return nil, nil, nil
}
func (d declSource) ints(ds string) ([]int, []int, error) {
	d.t.Fatalf("data of %s read while checking declared shapes", ds)
	return nil, nil, nil
}
func (d declSource) attrs() (map[string]string, error) { return nil, nil }

// encodeDecl encodes declared shapes as FuzzDeclared decodes them: per
// schema dataset a flag byte (1 missing, 2 not numeric), the rank, and each
// dimension as 8 little-endian bytes.
func encodeDecl(shapes map[string][]int) []byte {
	var b []byte
	for _, s := range schema {
		sh, ok := shapes[s.path]
		if !ok {
			b = append(b, 1, 0)
			continue
		}
		b = append(b, 0, byte(len(sh)))
		for _, d := range sh {
			b = binary.LittleEndian.AppendUint64(b, uint64(d))
		}
	}
	return b
}

func decodeDecl(t *testing.T, b []byte) declSource {
	d := declSource{t: t, shapes: map[string][]int{}, numeric: map[string]bool{}}
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	for _, s := range schema {
		flag, rank := next(), int(next()%4)
		if flag&1 != 0 {
			continue
		}
		shape := make([]int, rank)
		for k := range shape {
			var w [8]byte
			for i := range w {
				w[i] = next()
			}
			shape[k] = int(binary.LittleEndian.Uint64(w[:]) & math.MaxInt64) // as HDF5 declares: io/h5 refuses more
		}
		d.shapes[s.path] = shape
		d.numeric[s.path] = flag&2 == 0
	}
	return d
}

// FuzzDeclared fuzzes the HDF5/NPY shape and dtype checks a load makes from
// the headers alone (declared): any declared shapes and classes give an
// error or shapes that agree (R m x n, BSPM m x T with T ≥ 5, T times,
// truth n x T) and whose total size is within the memory budget; the data
// is never read, and nothing panics.
func FuzzDeclared(f *testing.F) {
	p := tinyProblem()
	good := shapesOf(p)
	f.Add(encodeDecl(good))
	for _, edit := range []func(s map[string][]int){
		func(s map[string][]int) { s[BSPM] = []int{33, 1 << 58} },
		func(s map[string][]int) { s[BSPM] = []int{64, 1 << 58} },
		func(s map[string][]int) { s[Forward] = []int{1e9, 1e9} },
		func(s map[string][]int) { s[Time] = []int{1 << 40} },
		func(s map[string][]int) { delete(s, TruthU) },
		func(s map[string][]int) { s[HeartTris] = []int{80, 3, 1} },
	} {
		s := shapesOf(p)
		edit(s)
		f.Add(encodeDecl(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src := decodeDecl(t, b)
		shapes, _, err := declared(src)
		if err != nil {
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("not a *SchemaError: %v", err)
			}
			return
		}
		n, m, T := shapes[HeartNodes][0], shapes[Leads][0], shapes[BSPM][1]
		want := map[string][]int{Forward: {m, n}, BSPM: {m, T}, Time: {T}, TruthU: {n, T}, TruthV: {n, T}}
		total := new(big.Int)
		for ds, sh := range shapes {
			if w, ok := want[ds]; ok && (len(sh) != len(w) || sh[0] != w[0] || len(w) > 1 && sh[1] != w[1]) {
				t.Fatalf("accepted %s %v, want %v", ds, sh, w)
			}
			e := big.NewInt(8)
			for _, d := range sh {
				e.Mul(e, big.NewInt(int64(d)))
			}
			total.Add(total, e)
		}
		if T < MinFrames || total.Cmp(big.NewInt(inputs.Budget())) > 0 {
			t.Fatalf("accepted %d frames, %v bytes", T, total)
		}
	})
}

// encodeProblem and decodeProblem map a small problem to bytes and back so
// that FuzzValidate mutates real run files: counts n, F, N, G, m, T (one
// byte each), then the node coordinates, triangles, leads, R, BSPM and
// times (float64 bits or int16 indices, little-endian); values missing at
// the end read as zero.
func encodeProblem(p *inverse.Problem) []byte {
	_, T := p.BSPM.Dims()
	b := []byte{byte(len(p.Heart.Nodes)), byte(len(p.Heart.Tris)), byte(len(p.Torso.Nodes)), byte(len(p.Torso.Tris)), byte(len(p.Leads)), byte(T)}
	f := func(x float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x)) }
	i := func(k int) { b = binary.LittleEndian.AppendUint16(b, uint16(int16(k))) }
	for _, m := range []*mesh.Mesh{p.Heart, p.Torso} {
		for _, x := range m.Nodes {
			f(x[0])
			f(x[1])
			f(x[2])
		}
		for _, t := range m.Tris {
			i(t[0])
			i(t[1])
			i(t[2])
		}
	}
	for _, l := range p.Leads {
		i(l)
	}
	for _, d := range []*mat.Dense{p.R, p.BSPM} {
		for _, x := range d.RawMatrix().Data {
			f(x)
		}
	}
	for _, x := range p.Time {
		f(x)
	}
	return b
}

func decodeProblem(b []byte) *inverse.Problem {
	next := func(k int) []byte {
		out := make([]byte, k)
		n := copy(out, b)
		b = b[n:]
		return out
	}
	c := next(6)
	n, F, N, G, m, T := int(c[0]), int(c[1]), int(c[2]), int(c[3]), int(c[4]), int(c[5])
	f := func() float64 { return math.Float64frombits(binary.LittleEndian.Uint64(next(8))) }
	i := func() int { return int(int16(binary.LittleEndian.Uint16(next(2)))) }
	msh := func(nn, nt int) *mesh.Mesh {
		m := &mesh.Mesh{Nodes: make([][3]float64, nn), Tris: make([][3]int, nt)}
		for k := range m.Nodes {
			m.Nodes[k] = [3]float64{f(), f(), f()}
		}
		for k := range m.Tris {
			m.Tris[k] = [3]int{i(), i(), i()}
		}
		return m
	}
	p := &inverse.Problem{Heart: msh(n, F), Torso: msh(N, G), Attrs: map[string]string{"units": "mV"}}
	p.Leads = make([]int, m)
	for k := range p.Leads {
		p.Leads[k] = i()
	}
	dense := func(r, c int) *mat.Dense {
		if r == 0 || c == 0 {
			return nil
		}
		d := mat.NewDense(r, c, nil)
		for k := range d.RawMatrix().Data {
			d.RawMatrix().Data[k] = f()
		}
		return d
	}
	p.R, p.BSPM = dense(m, n), dense(m, T)
	p.Time = make([]float64, T)
	for k := range p.Time {
		p.Time[k] = f()
	}
	return p
}

// smallProblem is a valid problem small enough to mutate quickly: 12-node
// icosahedra as heart (r = 40 mm) and torso (r = 150 mm), every torso node
// a lead, R = I + small entries, 5 frames.
func smallProblem() *inverse.Problem {
	heart, torso := geometry.Icosphere(0, 40), geometry.Icosphere(0, 150)
	n, T := len(heart.Nodes), 5
	R, Y := mat.NewDense(n, n, nil), mat.NewDense(n, T, nil)
	leads := make([]int, n)
	for i := range leads {
		leads[i] = i
		R.Set(i, i, 1)
		R.Set(i, (i+1)%n, 0.1)
		for k := 0; k < T; k++ {
			Y.Set(i, k, math.Sin(float64(i+k)))
		}
	}
	return &inverse.Problem{Heart: heart, Torso: torso, Leads: leads, R: R, BSPM: Y,
		Time: []float64{0, 0.5, 1, 1.5, 2}, Attrs: map[string]string{"units": "mV"}}
}

// FuzzValidate fuzzes run-file validation on small problems: it never
// panics, and what it accepts keeps the schema's promises: indices in
// range, distinct leads, finite values, a nonzero R, uniform increasing
// times, and a closed, valid heart.
func FuzzValidate(f *testing.F) {
	p := smallProblem()
	f.Add(encodeProblem(p))
	p.Heart.Tris = p.Heart.Tris[1:]
	f.Add(encodeProblem(p))
	p = smallProblem()
	p.Time[3] += 0.01
	f.Add(encodeProblem(p))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := decodeProblem(b)
		if err := Validate("fuzz.h5", p); err != nil {
			return
		}
		if err := CheckHeart(p.Heart); err != nil {
			t.Fatalf("accepted heart: %v", err)
		}
		seen := map[int]bool{}
		for _, l := range p.Leads {
			if l < 0 || l >= len(p.Torso.Nodes) || seen[l] {
				t.Fatalf("accepted lead %d", l)
			}
			seen[l] = true
		}
		for _, tr := range p.Torso.Tris {
			for _, v := range tr {
				if v < 0 || v >= len(p.Torso.Nodes) {
					t.Fatalf("accepted torso index %d", v)
				}
			}
		}
		if mat.Norm(p.R, 1) == 0 || math.IsNaN(mat.Sum(p.R)) || math.IsNaN(mat.Sum(p.BSPM)) {
			t.Fatal("accepted a zero or non-finite R or BSPM")
		}
		tau := p.Time[1] - p.Time[0]
		for k := 1; k < len(p.Time); k++ {
			if d := p.Time[k] - p.Time[k-1]; !(d > 0) || math.Abs(d-tau) > UniformTol*tau {
				t.Fatalf("accepted time step %g after %g", d, tau)
			}
		}
	})
}
