package runfile

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Validate checks p against the schema (see the package documentation) and
// returns the first violation as a *SchemaError whose File is name. Load
// runs it on every file; Save runs it before writing anything.
func Validate(name string, p *inverse.Problem) error {
	return validate(func(string) string { return name }, p, roundingUnit(false, 8))
}

// UniformTol is the largest relative deviation of a time step from the
// first one that still counts as uniform sampling (rounding of times
// computed as k·τ, or of sample times in ms converted to AP units), on top
// of the rounding of the stored times themselves (checkTime).
const UniformTol = 1e-6

// validate checks p; fileOf names the file holding a dataset ("" is the
// attributes' file) for error messages, and timeUnit is the rounding unit
// of the stored times (roundingUnit). The shapes are checked first, with
// the same function that checks the declared shapes before a load reads
// any data, then the values.
func validate(fileOf func(ds string) string, p *inverse.Problem, timeUnit float64) error {
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
	if k, ok := p.Attrs["potential"]; ok && !slices.Contains(KnownPotentials, k) {
		return &SchemaError{File: fileOf(""), Attr: "potential", Want: "one of " + strings.Join(KnownPotentials, ", "), Got: fmt.Sprintf("%q", k)}
	}
	if err := checkShapes(fileOf, shapesOf(p)); err != nil {
		return err
	}

	if p.Torso != nil {
		if err := checkNodes(bad, p.Torso, TorsoNodes, TorsoTris, "torso"); err != nil {
			return err
		}
	}
	if err := checkNodes(bad, p.Heart, HeartNodes, HeartTris, "heart"); err != nil {
		return err
	}
	if err := CheckHeart(p.Heart); err != nil {
		return bad(HeartTris, "one closed, connected, consistently oriented, non-degenerate heart surface using every node", err.Error())
	}
	if err := checkRegions(fileOf, bad, p); err != nil {
		return err
	}
	if p.Torso != nil {
		nTorso := len(p.Torso.Nodes)
		if e := inputs.BadIndex(p.Leads, nTorso); e != nil {
			return bad(Leads, fmt.Sprintf("indices in [0, %d) (torso nodes)", nTorso), fmt.Sprintf("%d at [%d]%s", e.Got, e.At, e.Hint()))
		}
		seen := make(map[int]int, len(p.Leads))
		for i, l := range p.Leads {
			if j, dup := seen[l]; dup {
				return bad(Leads, "distinct torso nodes", fmt.Sprintf("node %d at [%d] and [%d]", l, j, i))
			}
			seen[l] = i
		}
	}

	for _, d := range []struct {
		ds string
		m  *mat.Dense
	}{{Forward, p.R}, {BSPM, p.BSPM}} {
		if err := checkFinite(bad, d.ds, d.m); err != nil {
			return err
		}
		if err := checkNotNegligible(bad, d.ds, d.m); err != nil {
			return err
		}
	}
	if err := checkTime(bad, p.Time, timeUnit); err != nil {
		return err
	}
	for _, tr := range []struct {
		ds string
		m  *mat.Dense
	}{{TruthU, p.TruthU}, {TruthV, p.TruthV}} {
		if tr.m != nil {
			if err := checkFinite(bad, tr.ds, tr.m); err != nil {
				return err
			}
		}
	}
	return nil
}

// shapesOf returns the shape of every dataset p holds (absent ones left
// out), as a load declares them.
func shapesOf(p *inverse.Problem) map[string][]int {
	s := make(map[string][]int)
	for _, m := range []struct {
		msh         *mesh.Mesh
		nodes, tris string
	}{{p.Heart, HeartNodes, HeartTris}, {p.Torso, TorsoNodes, TorsoTris}} {
		if m.msh != nil {
			s[m.nodes] = []int{len(m.msh.Nodes), 3}
			s[m.tris] = []int{len(m.msh.Tris), 3}
		}
	}
	if p.Leads != nil {
		s[Leads] = []int{len(p.Leads)}
	}
	if p.Region != nil {
		s[Region] = []int{len(p.Region)}
	}
	if p.Time != nil {
		s[Time] = []int{len(p.Time)}
	}
	for ds, m := range map[string]*mat.Dense{Forward: p.R, BSPM: p.BSPM, TruthU: p.TruthU, TruthV: p.TruthV} {
		if m != nil {
			r, c := m.Dims()
			s[ds] = []int{r, c}
		}
	}
	return s
}

// checkShapes checks that the shapes agree with each other: n heart nodes
// (at least 4, with at least 4 triangles), a torso likewise, m ≥ 1 leads,
// R m x n, BSPM m x T with T ≥ MinFrames, T times, truth n x T. Ranks and
// column counts are the schema's (checkDeclared); a missing required
// dataset is reported here.
func checkShapes(fileOf func(ds string) string, s map[string][]int) error {
	bad := func(ds, want, got string) error {
		return &SchemaError{File: fileOf(ds), Dataset: ds, Want: want, Got: got}
	}
	dim := func(ds string, k int) int {
		if len(s[ds]) > k {
			return s[ds][k]
		}
		return -1
	}
	// The torso group is all or nothing (Load reports a member missing
	// beside another); without it R is given and its rows are the leads.
	torso := s[TorsoNodes] != nil || s[TorsoTris] != nil || s[Leads] != nil
	for _, m := range []struct{ nodes, tris, what string }{{HeartNodes, HeartTris, "heart"}, {TorsoNodes, TorsoTris, "torso"}} {
		if m.what == "torso" && !torso {
			continue
		}
		switch {
		case s[m.nodes] == nil:
			return bad(m.nodes, m.what+" mesh", "missing")
		case dim(m.nodes, 0) < 4:
			return bad(m.nodes, fmt.Sprintf("at least 4 nodes (%s nodes x 3)", m.what), shapeString(s[m.nodes]))
		case s[m.tris] == nil:
			return bad(m.tris, m.what+" triangles", "missing")
		case dim(m.tris, 0) < 4:
			return bad(m.tris, fmt.Sprintf("at least 4 triangles (%s triangles x 3)", m.what), shapeString(s[m.tris]))
		}
	}
	n, m := dim(HeartNodes, 0), dim(Leads, 0)
	if !torso {
		m = dim(Forward, 0)
	}
	switch {
	case !torso && s[Forward] == nil:
		return bad(Forward, "a transfer matrix (leads x heart nodes)", "missing")
	case m < 1:
		return bad(Leads, "at least 1 lead", "none")
	case s[Region] != nil && dim(Region, 0) != n:
		return bad(Region, fmt.Sprintf("%d labels (heart nodes)", n), fmt.Sprint(dim(Region, 0)))
	case s[Forward] == nil:
		return bad(Forward, fmt.Sprintf("%dx%d (leads x heart nodes)", m, n), "missing")
	case dim(Forward, 0) != m || dim(Forward, 1) != n:
		return bad(Forward, fmt.Sprintf("%dx%d (leads x heart nodes)", m, n), shapeString(s[Forward]))
	case s[BSPM] == nil:
		return bad(BSPM, fmt.Sprintf("%dxT (leads x frames)", m), "missing")
	case dim(BSPM, 0) != m:
		return bad(BSPM, fmt.Sprintf("%dxT (leads x frames)", m), shapeString(s[BSPM]))
	case dim(BSPM, 1) < MinFrames:
		return bad(BSPM, fmt.Sprintf("at least %d frames (columns)", MinFrames), fmt.Sprint(dim(BSPM, 1)))
	}
	T := dim(BSPM, 1)
	if dim(Time, 0) != T {
		if s[Time] == nil {
			return bad(Time, fmt.Sprintf("%d values (frames of %s)", T, BSPM), "missing")
		}
		return bad(Time, fmt.Sprintf("%d values (frames of %s)", T, BSPM), fmt.Sprint(dim(Time, 0)))
	}
	for _, ds := range []string{TruthU, TruthV} {
		if s[ds] != nil && (dim(ds, 0) != n || dim(ds, 1) != T) {
			return bad(ds, fmt.Sprintf("%dx%d (heart nodes x frames)", n, T), shapeString(s[ds]))
		}
	}
	return nil
}

// checkRegions checks the optional region labels against their names:
// K distinct names usable as paths, labels in [0, K), names only with
// labels. Their count against the heart nodes is checkShapes'.
func checkRegions(fileOf func(string) string, bad func(ds, want, got string) error, p *inverse.Problem) error {
	badAttr := func(want, got string) error {
		return &SchemaError{File: fileOf(""), Attr: RegionNamesAttr, Want: want, Got: got}
	}
	switch {
	case p.Region == nil && p.RegionNames != nil:
		return bad(Region, fmt.Sprintf("a label per heart node, as attribute %s names regions", RegionNamesAttr), "missing")
	case p.Region == nil:
		return nil
	case len(p.RegionNames) == 0:
		return badAttr("a JSON array naming the regions of "+Region, "missing")
	}
	if want, got := regionNamesDefect(p.RegionNames); want != "" {
		return badAttr(want, got)
	}
	for i, r := range p.Region {
		if r < 0 || r >= len(p.RegionNames) {
			return bad(Region, fmt.Sprintf("labels in [0, %d) (%s)", len(p.RegionNames), RegionNamesAttr), fmt.Sprintf("%d at [%d]", r, i))
		}
	}
	return nil
}

// CheckRegionNames checks names of regions as a run file's attribute
// region_names must be: distinct, and each usable as a path
// (validRegionName). eandarn-synth checks -region-names with it before any
// work.
func CheckRegionNames(names []string) error {
	if want, got := regionNamesDefect(names); want != "" {
		return fmt.Errorf("want %s, got %s", want, got)
	}
	return nil
}

// regionNamesDefect returns what CheckRegionNames wants and what it got
// instead; "" when the names are sound.
func regionNamesDefect(names []string) (want, got string) {
	seen := map[string]bool{}
	for k, name := range names {
		switch {
		case !validRegionName(name):
			return "names of letters, digits, '_', '-' and '.'", fmt.Sprintf("%q at [%d]", name, k)
		case seen[name]:
			return "distinct names", fmt.Sprintf("%q twice", name)
		}
		seen[name] = true
	}
	return "", ""
}

// validRegionName reports whether name is a non-empty run of letters,
// digits, '_', '-' and '.' other than "." and "..".
func validRegionName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkNodes checks a mesh's node coordinates (finite, with finite
// volumes: checkCoordinates) and triangle indices.
func checkNodes(bad func(ds, want, got string) error, msh *mesh.Mesh, nodesDS, trisDS, what string) error {
	if err := checkCoordinates(msh); err != nil {
		return bad(nodesDS, err.want, err.got)
	}
	n := len(msh.Nodes)
	flat := make([]int, 0, 3*len(msh.Tris))
	for _, t := range msh.Tris {
		flat = append(flat, t[:]...)
	}
	// A 1-based dataset (MATLAB's) is named so.
	if e := inputs.BadIndex(flat, n); e != nil {
		return bad(trisDS, fmt.Sprintf("indices in [0, %d) (%s nodes)", n, what), fmt.Sprintf("%d at [%d,%d]%s", e.Got, e.At/3, e.At%3, e.Hint()))
	}
	return nil
}

// surfaces returns the number of connected surfaces of m (nodes joined by
// triangle edges) and the first node outside the surface of node 0. The
// methods take a heart to be one surface: the Laplacian of two has a
// constant null space on each, which Tikhonov's standard form (one
// constant) does not expect, and the result would be silently wrong.
func surfaces(m *mesh.Mesh) (count, first int) {
	nb := m.Neighbors()
	seen := make([]bool, len(nb))
	var queue []int
	for start := range nb {
		if seen[start] {
			continue
		}
		if count++; count == 2 {
			first = start
		}
		seen[start] = true
		queue = append(queue[:0], start)
		for len(queue) > 0 {
			i := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			for _, j := range nb[i] {
				if !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}
	return count, first
}

// flatTol is the least |V| / A^(3/2) (enclosed volume over total area to
// the 3/2) of a heart surface: 0.094 for a sphere, about 0.27·c/a for a
// flat ellipsoid of semi-axes a, a, c; zero (to rounding) for a closed
// surface whose nodes all lie in one plane.
const flatTol = 1e-9

// CheckHeart is the one validation of a heart surface that every method
// and the generator rely on: valid triangles (indices in range, finite
// coordinates, no degenerate or duplicate triangles: mesh.Validate), a
// 2-manifold with consistent orientation, closed (the paper's heart is a
// closed surface; the no-flux condition and the BEM need it), every node
// used by a triangle (an unused node has a zero Laplacian row and is never
// reconstructed), and not flat (a closed surface with zero volume has no
// outside). The error names the first defect.
func CheckHeart(m *mesh.Mesh) error {
	if err := CheckCoordinates(m); err != nil {
		return err
	}
	rep, err := m.Validate()
	if err != nil {
		return err
	}
	switch {
	case !rep.Closed:
		e := rep.BoundaryEdges[0]
		return fmt.Errorf("not closed: %d boundary edges, the first (%d, %d)%s", len(rep.BoundaryEdges), e[0], e[1], m.UnmergedHint())
	case len(rep.Isolated) > 0:
		return fmt.Errorf("node %d is in no triangle (%d such nodes)", rep.Isolated[0], len(rep.Isolated))
	}
	if k, a := surfaces(m); k > 1 {
		return fmt.Errorf("%d separate surfaces (node %d is not connected to node 0)", k, a)
	}
	area := 0.0
	for _, a := range m.TriangleAreas() {
		area += a
	}
	if v := math.Abs(m.SignedVolume()); !(v > flatTol*math.Pow(area, 1.5)) {
		return fmt.Errorf("flat surface: encloses volume %.3g for area %.3g", v, area)
	}
	return nil
}

// maxMagnitude bounds every value of a run file: sums of squares of values
// up to 1e150 (norms, least squares, distances) stay far from overflow for
// any realistic size, while 1e155² is already +Inf. minMagnitude is its
// counterpart from below: R and the BSPM must each have an entry at least
// that large, and the time step must be, or their squares (and the
// reciprocal squares of the step, in the time derivative of the residuals)
// leave the range of float64 and the methods compute with zeros and
// infinities.
const (
	maxMagnitude = 1e150
	minMagnitude = 1e-150
)

// maxCoordinate bounds node coordinates: areas are norms of cross
// products, computed through their squares (fourth powers of coordinates:
// the degenerate-triangle and flatness checks, the Laplacians, the BEM),
// and volumes sums of cubes; edges of 1e75 keep both far from overflow
// (at 1e100 the areas of a sphere overflowed and it was called flat).
const maxCoordinate = 1e75

// coordError is a bad coordinate, as want and got of a SchemaError.
type coordError struct{ want, got string }

// CheckCoordinates checks the node coordinates of a mesh as a run file's
// must be (checkCoordinates). eandarn-synth checks its meshes with it
// before anything else computes with them: their areas and volumes would
// overflow first, into a misleading message.
func CheckCoordinates(m *mesh.Mesh) error {
	if err := checkCoordinates(m); err != nil {
		return fmt.Errorf("want %s, got %s", err.want, err.got)
	}
	return nil
}

// checkCoordinates checks that every node coordinate of m is finite and of
// magnitude at most maxCoordinate.
func checkCoordinates(m *mesh.Mesh) *coordError {
	for i, p := range m.Nodes {
		for k, x := range p {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return &coordError{"finite values", fmt.Sprintf("%v at [%d,%d]", x, i, k)}
			}
			if math.Abs(x) > maxCoordinate {
				return &coordError{fmt.Sprintf("coordinates of magnitude at most %g (areas and volumes must stay finite)", maxCoordinate), fmt.Sprintf("%v at [%d,%d]", x, i, k)}
			}
		}
	}
	return nil
}

// checkNotNegligible checks that m has an entry of magnitude at least
// minMagnitude: an all-zero R has no information to invert, an all-zero
// BSPM nothing to reconstruct (a method would return zeros), and entries
// whose squares underflow behave as zeros in every method.
func checkNotNegligible(bad func(ds, want, got string) error, ds string, m *mat.Dense) error {
	largest := 0.0
	r, c := m.Dims()
	for i := 0; i < r && largest < minMagnitude; i++ {
		for _, x := range m.RawRowView(i)[:c] {
			largest = max(largest, math.Abs(x))
		}
	}
	switch want := fmt.Sprintf("an entry of magnitude at least %g (squares must not underflow)", minMagnitude); {
	case largest == 0:
		return bad(ds, want, "all zeros")
	case largest < minMagnitude:
		return bad(ds, want, fmt.Sprintf("none above %g", largest))
	}
	return nil
}

// checkFinite checks that every value is finite and of magnitude at most
// maxMagnitude.
func checkFinite(bad func(ds, want, got string) error, ds string, m *mat.Dense) error {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j, x := range m.RawRowView(i)[:c] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return bad(ds, "finite values", fmt.Sprintf("%v at [%d,%d]", x, i, j))
			}
			if math.Abs(x) > maxMagnitude {
				return bad(ds, fmt.Sprintf("values of magnitude at most %g (squares must stay finite)", maxMagnitude), fmt.Sprintf("%v at [%d,%d]", x, i, j))
			}
		}
	}
	return nil
}

// CheckData checks a matrix of potentials as validate does (finite, of
// magnitude at most 1e150): eandarn-batch checks the noisy BSPM with it.
func CheckData(name, ds string, m *mat.Dense) error {
	return checkFinite(func(ds, want, got string) error {
		return &SchemaError{File: name, Dataset: ds, Want: want, Got: got}
	}, ds, m)
}

// checkTime checks that the times are finite, strictly increasing and
// uniformly spaced: every step within UniformTol of the first, relative,
// plus what rounding the times to their storage precision can move a step
// (two rounding units of the largest time: a float32 time near 1000 is
// within 6e-5 of the value meant).
func checkTime(bad func(ds, want, got string) error, time []float64, unit float64) error {
	for i, t := range time {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return bad(Time, "finite values", fmt.Sprintf("%v at [%d]", t, i))
		}
		if i > 0 && t <= time[i-1] {
			return bad(Time, "strictly increasing times", fmt.Sprintf("t[%d] = %v after t[%d] = %v", i, t, i-1, time[i-1]))
		}
	}
	tau := time[1] - time[0]
	if tau < minMagnitude {
		return bad(Time, fmt.Sprintf("a time step of at least %g (time derivatives divide by it)", minMagnitude), fmt.Sprint(tau))
	}
	largest := max(math.Abs(time[0]), math.Abs(time[len(time)-1]))
	tol := UniformTol*tau + 2*unit*largest
	for i := 2; i < len(time); i++ {
		if d := time[i] - time[i-1]; math.Abs(d-tau) > tol {
			return bad(Time, fmt.Sprintf("uniform sampling (every step within %.3g of the first, %g)", tol, tau),
				fmt.Sprintf("step %g from t[%d] to t[%d]", d, i-1, i))
		}
	}
	return nil
}
