// Package runfile loads, validates and saves the run file: one inverse-ECG
// recording with its geometry and transfer matrix (DESIGN §4), as an HDF5
// file or as a folder of NumPy .npy files with the same layout.
//
// # Schema
//
// Shapes are as NumPy/h5py see them (row-major); n heart nodes, m leads,
// T frames. Indices are 0-based.
//
//	dataset                    shape   dtype    notes
//	geometry/heart/nodes       n x 3   float64  heart surface nodes, mm
//	geometry/heart/triangles   F x 3   int64    heart triangles, index heart nodes
//	geometry/heart/region      n       int64    optional: region of each heart node, 0…K−1 (names: attribute region_names)
//	geometry/torso/nodes       N x 3   float64  torso surface nodes, mm        } optional together: absent
//	geometry/torso/triangles   G x 3   int64    torso triangles, index torso nodes } when R is given
//	geometry/torso/leads       m       int64    torso node of each lead (row of R and BSPM), distinct } without torso geometry
//	forward/R                  m x n   float64  transfer matrix, BSPM = R · U
//	signals/bspm               m x T   float64  body-surface potentials, T >= 5
//	signals/time               T       float64  frame times, AP time units (1 ≈ 12.9 ms), strictly increasing
//	truth/u                    n x T   float64  optional: true heart-surface potential
//	truth/v                    n x T   float64  optional: true recovery variable
//
// The torso group is all or nothing. Without it the file holds a transfer
// matrix that came from elsewhere (a measured recording whose R was computed
// by another program, with no torso mesh or electrode positions): the rows
// of R and of the BSPM are the leads, in order, and nothing in eandarn needs
// more (the inverse methods use R, the heart and the signals only; the BEM
// that would need the torso has already been done).
//
// Root attributes (HDF5 attributes of "/", or attrs.json in a folder) are
// text. "units" is required and names the potential units of bspm and truth,
// one of KnownUnits. "potential" is optional and says what kind of
// heart-surface potential the recording holds, one of KnownPotentials
// (default: transmembrane for normalized units, extracellular for mV and
// uV; see inverse.Problem.Potential). "region_names" is required with geometry/heart/region
// and only then: a JSON array of K distinct names (letters, digits, '_', '-'
// and '.'; they become result-file paths and JSON keys), name k for label
// k. The others are provenance, free form: by convention "generator",
// "version", "seed", "created" and "parameters" (a JSON string). Numeric
// attributes written by other tools are read as text; attributes that are
// neither text nor a single number are ignored.
//
// Integers may be stored as any integer type (or float64 holding whole
// numbers, as MATLAB writes them); floats as float64 or float32. Files are
// written with exactly the dtypes above.
//
// # NPY folder
//
// The folder layout mirrors the HDF5 paths: dataset a/b/c is the file
// DIR/a/b/c.npy (e.g. DIR/forward/R.npy, DIR/geometry/heart/nodes.npy),
// C order; the root attributes are DIR/attrs.json, one JSON object of
// strings ({"units": "normalized", "seed": "1", ...}).
package runfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eandarn/eandarn/solver/inverse"
)

// KnownUnits are the accepted values of the "units" root attribute:
// "normalized" for the dimensionless Aliev–Panfilov potential (0 rest, 1
// peak) of synthetic data, "mV" and "uV" for measured signals.
var KnownUnits = []string{"normalized", "mV", "uV"}

// KnownPotentials are the accepted values of the optional "potential" root
// attribute.
var KnownPotentials = []string{inverse.Extracellular, inverse.Transmembrane}

// BSPMAttr is the optional root attribute saying how signals/bspm was
// made; eandarn-synth writes BSPMExactSim for a simulation and
// BSPMExactImport for an import with -bspm forward, both exactly R times
// the heart potential.
const (
	BSPMAttr        = "bspm"
	BSPMExactSim    = "R·u (simulation)"
	BSPMExactImport = "R·truth (-bspm forward)"
)

// ExactBSPM reports whether the attributes say that signals/bspm is
// exactly forward/R times a heart potential (BSPMAttr, or a simulation by
// eandarn-synth from before that attribute): data with no noise or model
// error until a job adds noise (inverse.Problem.Exact).
func ExactBSPM(attrs map[string]string) bool {
	switch attrs[BSPMAttr] {
	case BSPMExactSim, BSPMExactImport:
		return true
	}
	return attrs[BSPMAttr] == "" && attrs["generator"] == "eandarn-synth"
}

// MinFrames is the least number of time frames a run file may hold: the
// temporal derivative stencil of Eq. 17–18 spans 5 frames.
const MinFrames = 5

// Dataset paths of the schema.
const (
	HeartNodes = "geometry/heart/nodes"
	HeartTris  = "geometry/heart/triangles"
	Region     = "geometry/heart/region"
	TorsoNodes = "geometry/torso/nodes"
	TorsoTris  = "geometry/torso/triangles"
	Leads      = "geometry/torso/leads"
	Forward    = "forward/R"
	BSPM       = "signals/bspm"
	Time       = "signals/time"
	TruthU     = "truth/u"
	TruthV     = "truth/v"

	// RegionNamesAttr is the root attribute naming the regions of Region.
	RegionNamesAttr = "region_names"
)

// spec describes one dataset of the schema.
type spec struct {
	path     string
	rank     int
	integer  bool
	optional bool
	torso    bool   // one of the torso group: optional, but all or nothing
	cols     int    // required column count (3 for xyz and triangles), 0 for any
	what     string // meaning of the axes, used in error messages
}

var schema = []spec{
	{HeartNodes, 2, false, false, false, 3, "heart nodes x 3"},
	{HeartTris, 2, true, false, false, 3, "heart triangles x 3"},
	{Region, 1, true, true, false, 0, "heart nodes"},
	{TorsoNodes, 2, false, true, true, 3, "torso nodes x 3"},
	{TorsoTris, 2, true, true, true, 3, "torso triangles x 3"},
	{Leads, 1, true, true, true, 0, "leads"},
	{Forward, 2, false, false, false, 0, "leads x heart nodes"},
	{BSPM, 2, false, false, false, 0, "leads x frames"},
	{Time, 1, false, false, false, 0, "frames"},
	{TruthU, 2, false, true, false, 0, "heart nodes x frames"},
	{TruthV, 2, false, true, false, 0, "heart nodes x frames"},
}

// SchemaError reports a run file that cannot be read or breaks the schema.
// Its message is one line naming the file, the dataset (or attribute), what
// was expected and what was found, e.g.
//
//	run.h5: dataset forward/R: want 352x1094 (leads x heart nodes), got 352x1000
//
// Commands map it to exit status 2. Unreadable, truncated or missing files
// are SchemaErrors too, with Dataset and Attr empty.
type SchemaError struct {
	File    string // the file (or .npy file, or attrs.json) at fault
	Dataset string // schema dataset path, or ""
	Attr    string // root attribute name, or ""
	Want    string
	Got     string
	Err     error // underlying cause, if any
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Dataset != "":
		b.WriteString(": dataset " + e.Dataset)
	case e.Attr != "":
		b.WriteString(": attribute " + e.Attr)
	}
	fmt.Fprintf(&b, ": want %s, got %s", e.Want, e.Got)
	// One line, whatever a library put in the cause.
	return strings.Join(strings.Fields(strings.ReplaceAll(b.String(), "\n", "; ")), " ")
}

func (e *SchemaError) Unwrap() error { return e.Err }

// want is what a dataset must be, for messages: "a 2-D float dataset
// (leads x frames)".
func (s spec) want() string {
	dtype := "float"
	if s.integer {
		dtype = "integer"
	}
	return fmt.Sprintf("a %d-D %s dataset (%s)", s.rank, dtype, s.what)
}

func shapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

func knownUnits(u string) bool { return slices.Contains(KnownUnits, u) }
