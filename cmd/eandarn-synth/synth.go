package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
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
	"github.com/eandarn/eandarn/solver/sparse"
)

// summary is the one JSON line on stdout.
type summary struct {
	Out     string  `json:"out"`
	Reused  bool    `json:"reused"` // -cache found the file and did not regenerate it
	Key     string  `json:"key"`
	Nodes   int     `json:"nodes"`
	Leads   int     `json:"leads"`
	Frames  int     `json:"frames"`
	Pace    int     `json:"pace_node"`
	Step    float64 `json:"dt"` // the Euler step used (0 when reused)
	Seconds float64 `json:"seconds"`
	Version string  `json:"version"`
}

// geom is the resolved geometry of a generation.
type geom struct {
	heart, torso *mesh.Mesh
	leads        []int
	pace         int
	files        []cli.File // the files read (-heart, -torso, -leads)
}

// synthesize makes (or, with -cache, reuses) the run file of c.
func synthesize(ctx context.Context, c *config, log *slog.Logger) (any, error) {
	start := time.Now()
	g, err := resolveGeometry(c.Params)
	if err != nil {
		return nil, err
	}
	key := generationKey(c.Params, g)
	sum := &summary{Key: key, Nodes: len(g.heart.Nodes), Leads: len(g.leads), Frames: c.Params.Frames,
		Pace: g.pace, Version: cli.BuildVersion()}
	sum.Out = c.Out
	if err := checkMemory(c.Params, g); err != nil {
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

	lap := laplacian(c.Params.Laplacian, g.heart)
	apc := ap.DefaultConfig()
	apc.Frames, apc.Tend, apc.Heart = c.Params.Frames, c.Params.TEnd, g.heart
	apc.Stim.Pacing = ap.Pacing{Kind: ap.PaceNode, Node: g.pace}
	apc.Dt = c.Params.Dt
	// The step is checked here, not only inside Simulate, so that an
	// unstable step is the caller's error (exit 2) before the BEM runs.
	if lim := ap.StepLimits(lap, apc.Params); apc.Dt > lim.Combined {
		return nil, cli.BadInputf("-dt %g is unstable on this heart: the explicit Euler limit is %.4g (diffusion alone %.4g, reaction alone %.4g)",
			apc.Dt, lim.Combined, lim.Diffusion, lim.Reaction)
	}

	t0 := time.Now()
	// TransferMatrix checks the geometry before assembling: both surfaces
	// closed, the heart inside the torso, the leads in range. Its errors are
	// about the geometry the user gave, hence bad input.
	R, err := forward.TransferMatrix(g.heart, g.torso, g.leads)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	log.Info("transfer matrix", "leads", len(g.leads), "nodes", len(g.heart.Nodes), "seconds", time.Since(t0).Seconds())
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}

	t0 = time.Now()
	sol, err := ap.Simulate(lap, apc)
	if err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	sum.Step = sol.Step
	log.Info("simulation", "frames", len(sol.Time), "dt", sol.Step, "pace", g.pace, "seconds", time.Since(t0).Seconds())
	// A run file whose heart never activates is garbage for every inverse
	// method: refuse it rather than write it.
	if peak := mat.Max(sol.U); !(peak > apc.Params.A) {
		return nil, cli.BadInputf("the simulated heart never activates (largest u %.3g, threshold a = %g by t = %g): -tend too short, or the pacing site or stimulus too weak", peak, apc.Params.A, c.Params.TEnd)
	}

	var Y mat.Dense
	Y.Mul(R, sol.U)
	p := &inverse.Problem{
		Heart: g.heart, Torso: g.torso, Leads: g.leads,
		R: R, BSPM: &Y, Time: sol.Time,
		TruthU: sol.U, TruthV: sol.V,
		Attrs: provenance(c.Params, key, sol),
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

// resolveGeometry reads or builds the heart and the torso, checks them, and
// resolves the leads and the pacing node. Every failure is bad input.
func resolveGeometry(p params) (*geom, error) {
	g := new(geom)
	var err error
	var files []string
	if p.Heart == "default" {
		g.heart = geometry.Heart()
	} else if g.heart, files, err = readMesh(p.Heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	g.addFiles("-heart", files)
	if err := g.heart.Orient(); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	// The heart check every method applies to a run file, now rather than
	// when the file is saved after the BEM and the simulation.
	if err := runfile.CheckHeart(g.heart); err != nil {
		return nil, cli.BadInputf("-heart %s: %w", p.Heart, err)
	}
	switch {
	case p.Torso == "default":
		g.torso, g.leads = geometry.Torso(g.heart)
	default:
		if g.torso, files, err = readMesh(p.Torso); err != nil {
			return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
		}
		g.addFiles("-torso", files)
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
	if err := g.torso.Orient(); err != nil {
		return nil, cli.BadInputf("-torso %s: %w", p.Torso, err)
	}
	pc, err := ap.ParsePacing(p.Pace)
	if err != nil {
		return nil, cli.BadInputf("-pace: %w", err)
	}
	if g.pace, err = pc.Site(g.heart, len(g.heart.Nodes)); err != nil {
		return nil, cli.BadInputf("-pace %s: %w", p.Pace, err)
	}
	return g, nil
}

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
// torso nodes, R (m x n), and the run file's n x T truth u and v and m x T
// BSPM: -frames 2000000000 would need 35 TB.
func checkMemory(p params, g *geom) error {
	n, nt, m, T := len(g.heart.Nodes), len(g.torso.Nodes), len(g.leads), p.Frames
	var t inputs.Tally
	for _, a := range []struct {
		what string
		dims []int
	}{
		{"BEM matrices", []int{bemCopies, n + nt, n + nt}},
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

// laplacian returns the simulation's surface Laplacian by name.
func laplacian(name string, heart *mesh.Mesh) *sparse.CSR {
	if name == "eq15" {
		return mesh.Laplacian(heart)
	}
	return mesh.LaplaceBeltrami(heart)
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
// leads and pacing node (so a mesh file edited in place gets a new key).
// 16 hex digits of SHA-256.
func generationKey(p params, g *geom) string {
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
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// provenance returns the run file's attributes: what made it and how.
func provenance(p params, key string, sol *ap.Solution) map[string]string {
	b, _ := json.Marshal(p)
	return map[string]string{
		"generator":  prog,
		"version":    cli.BuildVersion(),
		"units":      "normalized",
		"parameters": string(b),
		"seed":       strconv.FormatUint(p.Seed, 10),
		"key":        key,
		"dt":         strconv.FormatFloat(sol.Step, 'g', -1, 64),
		"pace_node":  strconv.Itoa(sol.Site),
	}
}
