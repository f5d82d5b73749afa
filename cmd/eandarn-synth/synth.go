package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/progress"
	"github.com/eandarn/eandarn/solver/synth"
)

// summary is the one JSON line on stdout.
type summary struct {
	Out    string  `json:"out"`
	Reused bool    `json:"reused"` // -cache found the file and did not regenerate it
	Key    string  `json:"key"`
	Nodes  int     `json:"nodes"`
	Leads  int     `json:"leads"`
	Frames int     `json:"frames"`
	Pace   int     `json:"pace_node"`
	Step   float64 `json:"dt"` // the Euler step used (0 when reused)
	// SimNodes and Levels describe the simulation mesh (-refine).
	SimNodes int `json:"sim_nodes,omitempty"`
	Levels   int `json:"refine_levels"`
	// Activated is the fraction of heart nodes the wave activated (u
	// crossing 0.5 upward) and ActFirst, ActLast the span of their
	// activation times (AP units); absent when reused.
	Activated *float64 `json:"activated,omitempty"`
	ActFirst  *float64 `json:"activation_first,omitempty"`
	ActLast   *float64 `json:"activation_last,omitempty"`
	Seconds   float64  `json:"seconds"`
	Version   string   `json:"version"`
}

// geom is the resolved geometry of a generation.
type geom struct {
	heart, torso *mesh.Mesh
	leads        []int
	pace         int
	files        []cli.File // the files read (-heart, -torso, -leads)
	// flipped counts, per mesh ("heart", "torso"), the triangles Orient
	// rewound: an inward or inconsistently wound input, logged.
	flipped map[string][2]int // name -> (flipped, triangles)
	// repeats lists, per mesh, the triangles dropped as repeats of an
	// earlier one (mesh.DropRepeats: removed, kept), logged.
	repeats map[string][][2]int
	// region labels the heart nodes 0…K−1 with regionNames (nil: none).
	region      []int
	regionNames []string
	// apexGuessed: -pace apex on a heart of the user's, whose apex is
	// only guessed (geometry.Apex), logged.
	apexGuessed bool
	// paceUnitsHint says why a -pace x,y,z looks written in -mesh-units
	// rather than mm ("" otherwise), logged.
	paceUnitsHint string
	// unitsHint says why the heart's size suggests other units ("" when
	// it is heart-sized), logged and added to the simulation's refusals.
	unitsHint string
}

// synthesize makes (or, with -cache, reuses) the run file of c.
func synthesize(ctx context.Context, c *config, log *slog.Logger) (any, error) {
	start := time.Now()
	g, err := resolveGeometry(c.Params)
	if err != nil {
		return nil, err
	}
	logRepairs(log, g)
	if g.unitsHint != "" {
		log.Warn("heart size: " + g.unitsHint)
	}
	if g.paceUnitsHint != "" {
		log.Warn("-pace x,y,z: " + g.paceUnitsHint)
	}
	if g.apexGuessed {
		x := g.heart.Nodes[g.pace]
		log.Warn("-pace apex on a heart of your own: paced at the node farthest from the centroid of its nodes, which on real ventricles can lie on the base (ECGSim's: node 25, at the base of the right cavity; its apex is node 18); give -pace NODE or x,y,z for a known site",
			"pace", g.pace, "x_mm", x[0], "y_mm", x[1], "z_mm", x[2])
	}
	if c.Params.BSPM != "" {
		return importRecording(ctx, c, g, log, start)
	}
	// A given transfer matrix (-forward) replaces the BEM; it is part of
	// what the key hashes.
	R, m, err := readForward(c.Params, g)
	if err != nil {
		return nil, err
	}
	key := generationKey(c.Params, g, R)
	sum := &summary{Key: key, Nodes: len(g.heart.Nodes), Leads: m, Frames: c.Params.Frames,
		Pace: g.pace, Version: cli.BuildVersion()}
	sum.Out = c.Out
	if err := checkMemory(c.Params, g, m, R == nil); err != nil {
		return nil, err
	}
	if c.Cache != "" {
		if err := os.MkdirAll(c.Cache, 0o755); err != nil {
			return nil, cli.BadInputf("cache folder %s: %w", c.Cache, err)
		}
		sum.Out = filepath.Join(c.Cache, cacheName(c.Params)+"-"+key+".h5")
		if _, err := os.Stat(sum.Out); err == nil {
			if _, err := runfile.Load(sum.Out); err != nil {
				log.Warn("cached dataset unreadable: regenerating", "out", sum.Out, "err", err)
			} else {
				log.Info("reusing cached dataset", "out", sum.Out)
				sum.Reused = true
				sum.Seconds = time.Since(start).Seconds()
				return sum, nil
			}
		}
	}
	// Before the BEM and the simulation: the output must not replace a
	// mesh it is made from, and its folder must be writable now.
	flag := "-out"
	if c.Cache != "" {
		flag = "-cache"
	}
	if err := cli.CheckFiles(g.files, []cli.File{{Flag: flag, Path: sum.Out, Dir: !runfile.IsHDF5Path(sum.Out)}}); err != nil {
		return nil, err
	}

	// The simulation runs first: an unstable step or a wave that does not
	// reach the heart is refused (exit 2) before the BEM's minutes.
	t0 := time.Now()
	sim, err := simulate(c, g)
	if err != nil {
		return nil, err
	}
	sol, act := sim.Solution, sim.Activation
	sum.Step, sum.SimNodes, sum.Levels = sol.Step, len(sim.Mesh.Nodes), sim.Levels
	frac := act.Fraction()
	sum.Activated, sum.ActFirst, sum.ActLast = &frac, finite(act.First), finite(act.Last)
	log.Info("simulation", "frames", len(sol.Time), "dt", sol.Step, "pace", g.pace, "stimulated", len(sol.Stimulated),
		"sim_nodes", len(sim.Mesh.Nodes), "refine_levels", sim.Levels, "mean_edge_mm", sim.Mesh.MeanEdgeLength(),
		"activated", act.Activated, "of", len(act.Times), "activation_first", act.First, "activation_last", act.Last,
		"seconds", time.Since(t0).Seconds())
	// A run file whose heart never activates is garbage for every inverse
	// method, even with -min-activated 0: refuse it rather than write it.
	if peak := mat.Max(sol.U); !(peak > ap.DefaultParams().A) {
		return nil, cli.BadInputf("the simulated heart never activates (largest u %.3g, threshold a = %g by t = %g): -tend too short, or the pacing site or stimulus too weak", peak, ap.DefaultParams().A, c.Params.TEnd)
	}
	if err := checkActivation(c, g, sim); err != nil {
		return nil, err
	}
	if act.Activated < len(act.Times) {
		log.Warn("the wave did not reach every heart node (accepted by -min-activated)", "activated", act.Activated, "of", len(act.Times))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}

	if R == nil {
		t0 = time.Now()
		// TransferMatrix checks the geometry before assembling: both surfaces
		// closed, the heart inside the torso, the leads in range. Its errors are
		// about the geometry the user gave, hence bad input.
		if R, err = forward.TransferMatrix(g.heart, g.torso, g.leads, forward.WithProgress(progress.FromContext(ctx))); err != nil {
			return nil, cli.BadInput(err)
		}
		log.Info("transfer matrix", "leads", m, "nodes", len(g.heart.Nodes), "seconds", time.Since(t0).Seconds())
	} else {
		log.Info("transfer matrix given", "forward", c.Params.Forward, "leads", m, "nodes", len(g.heart.Nodes), "torso", g.torso != nil)
	}

	var Y mat.Dense
	Y.Mul(R, sol.U)
	p := &inverse.Problem{
		Heart: g.heart, Torso: g.torso, Leads: g.leads,
		R: R, BSPM: &Y, Time: sol.Time,
		TruthU: sol.U, TruthV: sol.V,
		Region: g.region, RegionNames: g.regionNames,
		Attrs: provenance(c.Params, key, sim),
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	// Save writes under a temporary name and renames: a failed or
	// interrupted run leaves nothing, and an existing file stays untouched.
	if err := runfile.Save(sum.Out, p); err != nil {
		return nil, fmt.Errorf("write %s: %w", sum.Out, err)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("wrote", "out", sum.Out, "seconds", sum.Seconds)
	return sum, nil
}

// simulate runs the Aliev–Panfilov simulation of c on the heart (refined
// by -refine). An unstable -dt is bad input.
func simulate(c *config, g *geom) (*synth.Simulation, error) {
	apc := ap.DefaultConfig()
	apc.Frames, apc.Tend, apc.Dt = c.Params.Frames, c.Params.TEnd, c.Params.Dt
	apc.Stim.Pacing = ap.Pacing{Kind: ap.PaceNode, Node: g.pace}
	sim, err := synth.Simulate(g.heart, apc, synth.Options{Laplacian: c.Params.Laplacian, Refine: c.Params.Refine})
	switch {
	case errors.Is(err, ap.ErrUnstableStep):
		where := "this heart"
		if c.Params.Refine > 0 {
			where = fmt.Sprintf("this heart refined to -refine %g mm", c.Params.Refine)
		}
		fix := "give a smaller -dt"
		if g.unitsHint != "" {
			fix = g.unitsHint
		}
		return nil, cli.BadInputf("-dt %g is unstable on %s; %s: %w", c.Params.Dt, where, fix, err)
	case err != nil:
		return nil, cli.BadInputf("-refine %g: %w", c.Params.Refine, err)
	}
	return sim, nil
}

// checkActivation refuses (bad input) a simulation in which the wave
// activated fewer than -min-activated of the heart nodes, with one line
// naming the cause and the fixes.
func checkActivation(c *config, g *geom, sim *synth.Simulation) error {
	act := sim.Activation
	if act.Fraction() >= c.MinActivated {
		return nil
	}
	n := len(act.Times)
	// A node not yet activated but already depolarizing at the last frame
	// (u > 0.05; a blocked wave leaves the rest at u ≈ 0) means the front
	// was still on its way when the window ended.
	_, T := sim.U.Dims()
	moving := false
	for i, t := range act.Times {
		moving = moving || (math.IsNaN(t) && sim.U.At(i, T-1) > 0.05)
	}
	cause := fmt.Sprintf("the wave died out (conduction block on a mesh with mean edge %.3g mm)", sim.Mesh.MeanEdgeLength())
	if moving {
		cause = fmt.Sprintf("the wave was still travelling at the last frame (a short window, or slow conduction on a mesh with mean edge %.3g mm)", sim.Mesh.MeanEdgeLength())
	}
	fix := fmt.Sprintf("fix: simulate on a finer copy with -refine MM (e.g. -refine %g: one subdivision, half the mean edge), a longer -tend, or accept it on purpose with -min-activated 0",
		math.Ceil(5*sim.Mesh.MeanEdgeLength())/10)
	if g.unitsHint != "" {
		fix = g.unitsHint
	}
	return cli.BadInputf("the wave from pacing node %d activated %d of %d heart nodes (%.1f%%, activation %.3g–%.3g AP units by -tend %g), below -min-activated %g: %s; %s",
		g.pace, act.Activated, n, 100*act.Fraction(), act.First, act.Last, c.Params.TEnd, c.MinActivated, cause, fix)
}

// resolveGeometry reads or builds the heart and the torso, checks them, and
// resolves the leads, the pacing node and the region labels. With a given
// transfer matrix (-forward) and no -torso there is no torso (nil); an
// import (-bspm) has no pacing node. Every failure is bad input.
func resolveGeometry(p params) (*geom, error) {
	g := &geom{flipped: map[string][2]int{}, repeats: map[string][][2]int{}}
	var err error
	var files []string
	if p.Heart == "default" {
		g.heart = geometry.Heart()
	} else if g.heart, files, err = readMesh(p.Heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	} else {
		scale(g.heart, meshScale[p.MeshUnits])
		g.repeats["heart"] = g.heart.DropRepeats()
	}
	g.addFiles("-heart", files)
	if err := runfile.CheckCoordinates(g.heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	if err := orient(g, "heart", g.heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	// The heart check every method applies to a run file, now rather than
	// when the file is saved after the BEM and the simulation.
	if err := runfile.CheckHeart(g.heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	if d := g.heart.Diagonal(); p.Heart != "default" && (d < heartSizeMM[0] || d > heartSizeMM[1]) {
		g.unitsHint = fmt.Sprintf("the heart is %.3g mm across (bounding-box diagonal) read in -mesh-units %s, not the %g–%g mm of a heart: are its coordinates in other units? (ECGSim's are in metres: -mesh-units m)",
			d, p.MeshUnits, heartSizeMM[0], heartSizeMM[1])
	}
	imported := p.BSPM != ""
	switch {
	case p.Torso == "default" && (imported || p.Forward != ""):
		// A given transfer matrix needs none (validateImport: an import
		// without -forward needs -torso): no torso geometry.
	case p.Torso == "default":
		g.torso, g.leads = geometry.Torso(g.heart)
	default:
		if g.torso, files, err = readMesh(p.Torso); err != nil {
			return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
		}
		g.addFiles("-torso", files)
		scale(g.torso, meshScale[p.MeshUnits])
		g.repeats["torso"] = g.torso.DropRepeats()
		if p.Leads == "" {
			g.leads = make([]int, len(g.torso.Nodes))
			for i := range g.leads {
				g.leads[i] = i
			}
		} else if g.leads, files, err = readLeads(p.Leads, len(g.torso.Nodes)); err != nil {
			return nil, cli.BadInputf("-leads %s: %w", p.Leads, err)
		}
		g.addFiles("-leads", files)
	}
	if g.torso != nil {
		if err := runfile.CheckCoordinates(g.torso); err != nil {
			return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
		}
		if err := orient(g, "torso", g.torso); err != nil {
			return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
		}
	}
	if g.torso != nil && p.Torso != "default" && p.Forward == "" {
		// What the BEM refuses, now rather than after the simulation:
		// an open torso, a heart partly outside it, the two swapped. (With
		// -forward there is no BEM, and the torso is only recorded.)
		if err := forward.CheckSurface(g.torso, "torso"); err != nil {
			return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
		}
		if err := forward.CheckNesting(g.heart, g.torso); err != nil {
			return nil, cli.BadInputf("-heart %s -torso %s: %w", p.Heart, p.Torso, err)
		}
	}
	if g.region, g.regionNames, err = readRegions(p, g.heart, g.repeats["heart"]); err != nil {
		return nil, cli.BadInputf("-regions %s: %w", p.Regions, err)
	}
	if p.Regions != "" {
		g.addFiles("-regions", []string{arrayFile(p.Regions)})
	}
	if p.Forward != "" {
		g.addFiles("-forward", []string{arrayFile(p.Forward)})
	}
	if imported {
		return g, nil
	}
	pc, err := ap.ParsePacing(p.Pace)
	if err != nil {
		return nil, cli.BadInputf("-pace: %w", err)
	}
	if g.pace, err = pc.Site(g.heart, len(g.heart.Nodes)); err != nil {
		return nil, cli.BadInputf("-pace %s: %w", p.Pace, err)
	}
	g.apexGuessed = pc.Kind == ap.PaceApex && p.Heart != "default"
	if f := meshScale[p.MeshUnits]; pc.Kind == ap.PacePoint && f != 1 {
		// The point is in mm; one written in the mesh's units lands on
		// the heart only once scaled.
		scaled := ap.Pacing{Kind: ap.PacePoint, Point: pc.Point}
		for d := range scaled.Point {
			scaled.Point[d] *= f
		}
		dist := func(i int, x [3]float64) float64 {
			y := g.heart.Nodes[i]
			return math.Hypot(math.Hypot(y[0]-x[0], y[1]-x[1]), y[2]-x[2])
		}
		if j, err := scaled.Site(g.heart, 0); err == nil && j != g.pace && dist(j, scaled.Point) < dist(g.pace, pc.Point) {
			g.paceUnitsHint = fmt.Sprintf("the point is in mm: it paces node %d, %.3g mm away; read in -mesh-units %s it would be %.3g mm from node %d (give it in mm if that is the site meant)",
				g.pace, dist(g.pace, pc.Point), p.MeshUnits, dist(j, scaled.Point), j)
		}
	}
	return g, nil
}

// heartSizeMM is the range of bounding-box diagonals, in mm, taken as the
// size of a heart (the default heart: 125 mm; ECGSim's ventricles 192,
// the Utah heart 128, the FwdInv heart 187); outside it the coordinates
// are most likely in other units than -mesh-units says.
var heartSizeMM = [2]float64{20, 500}

// addFiles records the files read for flag.
func (g *geom) addFiles(flag string, files []string) {
	for _, f := range files {
		g.files = append(g.files, cli.File{Flag: flag, Path: f})
	}
}

// bemCopies is the number of (heart + torso nodes)² float64 matrices the
// BEM holds at once (potential and single-layer blocks, their LU factors
// and products), an upper bound used for the memory check.
const bemCopies = 4

// checkMemory refuses, before the BEM, a generation whose arrays would not
// fit the memory budget (-max-memory): the BEM matrices for n heart and N
// torso nodes (when bem; zero with a given R), R (m x n), the simulation's u and v on the
// (refined) heart, and the run file's n x T truth u and v and m x T BSPM:
// -frames 2000000000 would need 35 TB.
func checkMemory(p params, g *geom, m int, bem bool) error {
	n, nt, T := len(g.heart.Nodes), 0, p.Frames
	if g.torso != nil {
		nt = len(g.torso.Nodes)
	}
	bemSize := 0
	if bem {
		bemSize = n + nt
	}
	// Each -refine level quadruples the triangles and about the nodes.
	nSim := n
	if e := g.heart.MeanEdgeLength(); p.Refine > 0 && e > p.Refine {
		nSim = n << (2 * min(mesh.MaxSubdivisions, int(math.Ceil(math.Log2(e/p.Refine)))))
	}
	var t inputs.Tally
	for _, a := range []struct {
		what string
		dims []int
	}{
		{"BEM matrices", []int{bemCopies, bemSize, bemSize}},
		{"simulation u and v", []int{2, nSim, T}},
		{"transfer matrix R", []int{m, n}},
		{"truth u and v", []int{2, n, T}},
		{"BSPM", []int{m, T}},
	} {
		if _, err := t.Add(a.what, a.dims); err != nil {
			return cli.BadInputf("-frames %d with %d heart, %d torso nodes and %d leads: %w", T, n, nt, m, err)
		}
	}
	return nil
}

// readRegions reads -regions, a label per heart node or per heart triangle
// (converted by mesh.NodeLabels: a node takes the label covering most of
// its area; per-triangle labels count the triangles of the file, those of
// the repeats dropped from it included), and names the distinct labels, in
// ascending order, by -region-names or region<label>. It returns the labels
// as 0…K−1 and the K names; nil when -regions is not given.
func readRegions(p params, heart *mesh.Mesh, repeats [][2]int) ([]int, []string, error) {
	if p.Regions == "" {
		if p.RegionNames != "" {
			return nil, nil, errors.New("-region-names needs -regions")
		}
		return nil, nil, nil
	}
	raw, err := readIntVector(p.Regions, "region")
	if err != nil {
		return nil, nil, err
	}
	n, F := len(heart.Nodes), len(heart.Tris)
	if len(repeats) > 0 && len(raw) == F+len(repeats) && len(raw) != n {
		drop := make(map[int]bool, len(repeats))
		for _, r := range repeats {
			drop[r[0]] = true
		}
		kept := raw[:0:0]
		for k, l := range raw {
			if !drop[k] {
				kept = append(kept, l)
			}
		}
		raw = kept
	}
	switch {
	case len(raw) == n && n == F:
		return nil, nil, fmt.Errorf("%d labels: ambiguous, the heart has %d nodes and %d triangles", len(raw), n, F)
	case len(raw) == F:
		if raw, err = heart.NodeLabels(raw); err != nil {
			return nil, nil, err
		}
		if i := slices.Index(raw, -1); i >= 0 {
			return nil, nil, fmt.Errorf("per-triangle labels leave heart node %d (in no triangle) unlabelled: give one label per node", i)
		}
	case len(raw) != n:
		return nil, nil, fmt.Errorf("want %d labels (one per heart node) or %d (one per triangle), got %d", n, F, len(raw))
	}
	values := slices.Compact(slices.Sorted(slices.Values(raw)))
	names := make([]string, len(values))
	for k, v := range values {
		names[k] = "region" + strconv.Itoa(v)
	}
	if p.RegionNames != "" {
		given := strings.Split(p.RegionNames, ",")
		if len(given) != len(values) {
			return nil, nil, fmt.Errorf("-region-names gives %d names for the %d distinct labels %v", len(given), len(values), values)
		}
		names = given
	}
	labels := make([]int, n)
	for i, v := range raw {
		labels[i], _ = slices.BinarySearch(values, v)
	}
	return labels, names, nil
}

// scale multiplies m's coordinates by f (to mm).
func scale(m *mesh.Mesh, f float64) {
	for i := range m.Nodes {
		for d := range m.Nodes[i] {
			m.Nodes[i][d] *= f
		}
	}
}

// orient makes m's winding consistent and outward (mesh.Orient) and
// records in g how many triangles that rewound.
func orient(g *geom, name string, m *mesh.Mesh) error {
	before := slices.Clone(m.Tris)
	if err := m.Orient(); err != nil {
		return err
	}
	k := 0
	for i, t := range m.Tris {
		if t != before[i] {
			k++
		}
	}
	g.flipped[name] = [2]int{k, len(m.Tris)}
	return nil
}

// logRepairs logs every mesh that lists a triangle twice (dropped) and
// every mesh whose winding Orient changed: an input wound inward (as
// ECGSim's) is turned outward, never silently.
func logRepairs(log *slog.Logger, g *geom) {
	for _, name := range []string{"heart", "torso"} {
		if r := g.repeats[name]; len(r) > 0 {
			log.Warn("repeated triangles dropped: the mesh lists them twice", "mesh", name, "dropped", len(r),
				"first", fmt.Sprintf("triangle %d repeats %d", r[0][0], r[0][1]))
		}
		if f := g.flipped[name]; f[0] > 0 {
			log.Info("mesh winding changed to consistent outward", "mesh", name, "flipped_triangles", f[0], "of", f[1])
		}
	}
}

// finite returns &x, or nil for NaN and ±Inf (JSON has no NaN).
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// cacheName is "default" for the built-in dataset's parameters and
// "custom" otherwise, so the cache folder says what each file is.
func cacheName(p params) string {
	var d config
	newFlagSet(&d)
	if p == d.Params {
		return "default"
	}
	return "custom"
}

// generationKey hashes everything that determines the run file's numbers:
// the parameters (as JSON), the generator version, and the resolved meshes,
// leads, pacing node and given transfer matrix R (nil: by BEM), so a file
// edited in place gets a new key. 16 hex digits of SHA-256.
func generationKey(p params, g *geom, R *mat.Dense) string {
	h := sha256.New()
	b, _ := json.Marshal(p)
	h.Write(b)
	h.Write([]byte(cli.BuildVersion()))
	var buf [8]byte
	put := func(x uint64) {
		binary.LittleEndian.PutUint64(buf[:], x)
		h.Write(buf[:])
	}
	for _, m := range []*mesh.Mesh{g.heart, g.torso} {
		if m == nil {
			put(0)
			continue
		}
		put(uint64(len(m.Nodes)))
		for _, x := range m.Nodes {
			put(math.Float64bits(x[0]))
			put(math.Float64bits(x[1]))
			put(math.Float64bits(x[2]))
		}
		put(uint64(len(m.Tris)))
		for _, t := range m.Tris {
			put(uint64(t[0]))
			put(uint64(t[1]))
			put(uint64(t[2]))
		}
	}
	put(uint64(len(g.leads)))
	for _, l := range g.leads {
		put(uint64(l))
	}
	put(uint64(g.pace))
	put(uint64(len(g.region)))
	for _, l := range g.region {
		put(uint64(l))
	}
	h.Write([]byte(strings.Join(g.regionNames, ",")))
	if R != nil {
		r, c := R.Dims()
		put(uint64(r))
		put(uint64(c))
		for i := range r {
			for _, x := range R.RawRowView(i) {
				put(math.Float64bits(x))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// provenance returns the run file's attributes: what made it and how, and
// how far the wave got.
func provenance(p params, key string, sim *synth.Simulation) map[string]string {
	b, _ := json.Marshal(p)
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	forward := "bem"
	if p.Forward != "" {
		forward = "given"
	}
	return map[string]string{
		"generator":          prog,
		runfile.BSPMAttr:     runfile.BSPMExactSim,
		"version":            cli.BuildVersion(),
		"units":              "normalized",
		"parameters":         string(b),
		"seed":               strconv.FormatUint(p.Seed, 10),
		"key":                key,
		"dt":                 num(sim.Step),
		"pace_node":          strconv.Itoa(sim.Site),
		"sim_nodes":          strconv.Itoa(len(sim.Mesh.Nodes)),
		"activated_fraction": num(sim.Activation.Fraction()),
		"activation_span":    num(sim.Activation.First) + " " + num(sim.Activation.Last),
		"forward":            forward,
	}
}
