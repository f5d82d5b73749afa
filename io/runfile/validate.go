package runfile

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Validate checks p against the schema (see the package documentation) and
// returns the first violation as a *SchemaError whose File is name. Load
// runs it on every file; Save runs it before writing anything.
func Validate(name string, p *inverse.Problem) error {
	return validate(func(string) string { return name }, p)
}

// validate checks p; fileOf names the file holding a dataset ("" is the
// attributes' file) for error messages.
func validate(fileOf func(ds string) string, p *inverse.Problem) error {
	bad := func(ds, want, got string) error {
		return &SchemaError{File: fileOf(ds), Dataset: ds, Want: want, Got: got}
	}
	unitsWant := "one of " + strings.Join(KnownUnits, ", ")
	switch u, ok := p.Attrs["units"]; {
	case !ok:
		return &SchemaError{File: fileOf(""), Attr: "units", Want: unitsWant, Got: "missing"}
	case !knownUnits(u):
		return &SchemaError{File: fileOf(""), Attr: "units", Want: unitsWant, Got: fmt.Sprintf("%q", u)}
	}

	if err := checkMesh(bad, p.Heart, HeartNodes, HeartTris, "heart"); err != nil {
		return err
	}
	if err := checkMesh(bad, p.Torso, TorsoNodes, TorsoTris, "torso"); err != nil {
		return err
	}
	n, nTorso, m := len(p.Heart.Nodes), len(p.Torso.Nodes), len(p.Leads)
	if m == 0 {
		return bad(Leads, "at least 1 lead", "none")
	}
	seen := make(map[int]int, m)
	for i, l := range p.Leads {
		if l < 0 || l >= nTorso {
			return bad(Leads, fmt.Sprintf("indices in [0, %d) (torso nodes)", nTorso), fmt.Sprintf("%d at [%d]", l, i))
		}
		if j, dup := seen[l]; dup {
			return bad(Leads, "distinct torso nodes", fmt.Sprintf("node %d at [%d] and [%d]", l, j, i))
		}
		seen[l] = i
	}

	if p.R == nil {
		return bad(Forward, fmt.Sprintf("%dx%d (leads x heart nodes)", m, n), "missing")
	}
	if r, c := p.R.Dims(); r != m || c != n {
		return bad(Forward, fmt.Sprintf("%dx%d (leads x heart nodes)", m, n), fmt.Sprintf("%dx%d", r, c))
	}
	if err := checkFinite(bad, Forward, p.R); err != nil {
		return err
	}

	if p.BSPM == nil {
		return bad(BSPM, fmt.Sprintf("%dxT (leads x frames)", m), "missing")
	}
	r, T := p.BSPM.Dims()
	if r != m {
		return bad(BSPM, fmt.Sprintf("%dxT (leads x frames)", m), fmt.Sprintf("%dx%d", r, T))
	}
	if T < MinFrames {
		return bad(BSPM, fmt.Sprintf("at least %d frames (columns)", MinFrames), fmt.Sprintf("%d", T))
	}
	if err := checkFinite(bad, BSPM, p.BSPM); err != nil {
		return err
	}

	if len(p.Time) != T {
		return bad(Time, fmt.Sprintf("%d values (frames of %s)", T, BSPM), fmt.Sprintf("%d", len(p.Time)))
	}
	for i, t := range p.Time {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return bad(Time, "finite values", fmt.Sprintf("%v at [%d]", t, i))
		}
		if i > 0 && t <= p.Time[i-1] {
			return bad(Time, "strictly increasing times", fmt.Sprintf("t[%d] = %v after t[%d] = %v", i, t, i-1, p.Time[i-1]))
		}
	}

	for _, tr := range []struct {
		ds string
		m  *mat.Dense
	}{{TruthU, p.TruthU}, {TruthV, p.TruthV}} {
		if tr.m == nil {
			continue
		}
		if r, c := tr.m.Dims(); r != n || c != T {
			return bad(tr.ds, fmt.Sprintf("%dx%d (heart nodes x frames)", n, T), fmt.Sprintf("%dx%d", r, c))
		}
		if err := checkFinite(bad, tr.ds, tr.m); err != nil {
			return err
		}
	}
	return nil
}

// checkMesh checks that a mesh is present, has at least a tetrahedron's
// worth of nodes and triangles, finite coordinates and in-range indices.
func checkMesh(bad func(ds, want, got string) error, msh *mesh.Mesh, nodesDS, trisDS, what string) error {
	if msh == nil {
		return bad(nodesDS, what+" mesh", "missing")
	}
	n := len(msh.Nodes)
	if n < 4 {
		return bad(nodesDS, fmt.Sprintf("at least 4 nodes (%s nodes x 3)", what), fmt.Sprintf("%dx3", n))
	}
	for i, p := range msh.Nodes {
		for k, x := range p {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return bad(nodesDS, "finite values", fmt.Sprintf("%v at [%d,%d]", x, i, k))
			}
		}
	}
	if len(msh.Tris) < 4 {
		return bad(trisDS, fmt.Sprintf("at least 4 triangles (%s triangles x 3)", what), fmt.Sprintf("%dx3", len(msh.Tris)))
	}
	for i, t := range msh.Tris {
		for k, v := range t {
			if v < 0 || v >= n {
				return bad(trisDS, fmt.Sprintf("indices in [0, %d) (%s nodes)", n, what), fmt.Sprintf("%d at [%d,%d]", v, i, k))
			}
		}
	}
	return nil
}

func checkFinite(bad func(ds, want, got string) error, ds string, m *mat.Dense) error {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j, x := range m.RawRowView(i)[:c] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return bad(ds, "finite values", fmt.Sprintf("%v at [%d,%d]", x, i, j))
			}
		}
	}
	return nil
}
