package figure

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
	"gonum.org/v1/plot/cmpimg"

	"github.com/eandarn/eandarn/io/heartmap"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/figure")

// golden compares got with testdata/figure/name (YIQ distance per pixel
// within 1% of the largest, gonum's cmpimg), or rewrites it with -update.
// On a mismatch the new image is left in the test's temporary folder.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "figure", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	ok, err := cmpimg.EqualApprox("png", got, want, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		out := filepath.Join(t.TempDir(), name)
		os.WriteFile(out, got, 0o644)
		t.Errorf("%s differs from the golden image; new image in %s (go test -update rewrites the golden files)", name, out)
	}
}

// heartField is an activation-like field on the default heart: the
// edge-path distance from the apex (mm).
func heartField() (*mesh.Mesh, []float64) {
	h := geometry.Heart()
	return h, h.EdgePathDistances(geometry.Apex(h))
}

func heartFigure() (*HeartFigure, []float64) {
	h, d := heartField()
	u := make([]float64, len(d))
	e := make([]float64, len(d))
	for i := range d {
		u[i] = 1 / (1 + math.Exp((d[i]-60)/4)) // a wavefront 60 mm from the apex
		e[i] = 0.1 * math.Abs(math.Sin(d[i]/15))
	}
	lo, hi := 0.0, 0.0
	for _, x := range d {
		hi = math.Max(hi, x)
	}
	return &HeartFigure{
		Title: "golden heart maps",
		Scene: heartmap.NewScene(h),
		Rows:  []MapRow{{Label: "distance", Values: d, Scale: 0}, {Label: "wave", Values: u, Scale: 1}, {Label: "error", Values: e, Scale: 2}},
		Scales: []MapScale{{Label: "distance (mm)", Map: ActivationMap(lo, hi), Isolines: 10},
			{Label: "u", Map: PotentialMap(0, 1)}, {Label: "|error|", Map: ErrorMap(0.1)}},
		Cell: 160,
	}, d
}

func TestGoldenHeartMaps(t *testing.T) {
	f, _ := heartFigure()
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "heart.png", b)
}

// TestHeartMapColorsAtNodes decodes the heart-map figure and checks, in
// every view of the "wave" row, the pixel under each clearly visible node
// against the colour map at the node's value, shaded as heartmap.Shade
// does for the node's normal: the figure shows each node's value where the
// node is.
func TestHeartMapColorsAtNodes(t *testing.T) {
	f, _ := heartFigure()
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	m := &mesh.Mesh{Nodes: f.Scene.Mesh().Nodes, Tris: append([][3]int(nil), f.Scene.Mesh().Tris...)}
	if err := m.Orient(); err != nil {
		t.Fatal(err)
	}
	normals := m.VertexNormals()
	row := 1
	vals, cm := f.Rows[row].Values, f.Scales[f.Rows[row].Scale].Map
	for c, v := range f.Scene.Views() {
		checked := 0
		for i, x := range m.Nodes {
			n := r3.Vec{X: normals[i][0], Y: normals[i][1], Z: normals[i][2]}
			cos := r3.Dot(n, v.Toward)
			if cos < 0.6 {
				continue // facing away or too oblique (the default heart is convex: the rest is visible)
			}
			px, py := f.Locate(row, c, x)
			if nearBackground(img, int(px), int(py)) {
				continue // at the silhouette (the apex tip): the pixel is partly background
			}
			got := color.RGBAModel.Convert(img.At(int(px), int(py))).(color.RGBA)
			want := heartmap.Shade(heartmap.ColorAt(cm, vals[i]), cos)
			if d := maxDiff(got, want); d > 10 {
				t.Errorf("%s: node %d (u = %.3f) at (%d, %d): %v, want %v", v.Name, i, vals[i], int(px), int(py), got, want)
			}
			checked++
		}
		if checked < 50 {
			t.Errorf("%s: only %d nodes checked", v.Name, checked)
		}
	}
}

// nearBackground reports whether a pure white (background) pixel lies
// within 2 pixels of (x, y).
func nearBackground(img image.Image, x, y int) bool {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			if r, g, b, _ := img.At(x+dx, y+dy).RGBA(); r == 0xffff && g == 0xffff && b == 0xffff {
				return true
			}
		}
	}
	return false
}

func maxDiff(a, b color.RGBA) int {
	d := 0
	for _, p := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}} {
		d = max(d, int(math.Abs(float64(p[0])-float64(p[1]))))
	}
	return d
}

func TestGoldenLines(t *testing.T) {
	x := make([]float64, 200)
	y0, y1, y2 := make([]float64, 200), make([]float64, 200), make([]float64, 200)
	for i := range x {
		x[i] = float64(i) * 3.5
		y0[i] = 1 / (1 + math.Exp(-(x[i]-150)/4)) * (1 - 1/(1+math.Exp(-(x[i]-480)/12)))
		y1[i] = 0.9*y0[i] + 0.05*math.Sin(float64(i)/3)
		y2[i] = 1 / (1 + math.Exp(-(x[i]-160)/25)) * (1 - 1/(1+math.Exp(-(x[i]-470)/30)))
	}
	lam, gcv, res, semi := make([]float64, 60), make([]float64, 60), make([]float64, 60), make([]float64, 60)
	for i := range lam {
		lam[i] = math.Pow(10, -4+float64(i)/10)
		gcv[i] = 1 + math.Pow(math.Log10(lam[i])-0.3, 2)
		res[i] = 1 + lam[i]*lam[i]
		semi[i] = 1 / (1e-3 + lam[i])
	}
	f := &LineFigure{
		Title:  "golden lines",
		Legend: []Entry{{Label: "truth", Color: -1}, {Label: "method A", Color: 0}, {Label: "method B", Color: 1}},
		Panels: []Panel{
			{Title: "electrogram", XLabel: "t (ms)", YLabel: "u", Legend: "none", Curves: []Curve{
				{X: x, Y: y0, Color: -1, Width: 2.5}, {X: x, Y: y1, Color: 0}, {X: x, Y: y2, Color: 1}}},
			{Title: "GCV", XLabel: "λ", YLabel: "G", LogX: true, LogY: true, Curves: []Curve{{X: lam, Y: gcv, Color: 0}},
				VLines: []VLine{{Label: "chosen λ = 2", X: 2, Color: 1}, {Label: "other λ = 20", X: 20, Color: 2, Dashed: true}}},
			{Title: "L-curve", XLabel: "residual", YLabel: "seminorm", LogX: true, LogY: true, Curves: []Curve{{X: res, Y: semi, Color: 0}},
				Marks: []Mark{{Label: "chosen", X: res[43], Y: semi[43], Color: 1}}},
			{Title: "points", XLabel: "x", YLabel: "y", Curves: []Curve{{Label: "dots", X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}, Color: 3, Points: true}}},
		},
		Columns: 2,
	}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "lines.png", b)
}

func TestGoldenBars(t *testing.T) {
	cats := []string{"0.01", "0.05", "0.1"}
	f := &BarFigure{Title: "golden bars", XLabel: "noise σ", Charts: []BarChart{
		{Title: "RE", YLabel: "RE", Categories: cats, Series: []BarSeries{
			{Label: "tikhonov2", Mean: []float64{0.2, 0.3, 0.4}, Std: []float64{0.01, 0.02, 0.03}},
			{Label: "eandarn", Mean: []float64{0.1, math.NaN(), 0.25}, Std: []float64{0.02, math.NaN(), math.NaN()}}}},
		{Title: "CC", YLabel: "CC", Categories: cats, Series: []BarSeries{
			{Label: "tikhonov2", Mean: []float64{0.9, 0.8, 0.7}, Std: []float64{0.01, 0.02, 0.03}},
			{Label: "eandarn", Mean: []float64{0.95, math.NaN(), 0.85}, Std: []float64{0.02, math.NaN(), 0.03}}}},
	}}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bars.png", b)
}

// TestBadFigures: descriptions that cannot be drawn are errors, not
// panics or empty images.
func TestBadFigures(t *testing.T) {
	hf, _ := heartFigure()
	hf.Rows[0].Values = hf.Rows[0].Values[:10]
	for name, f := range map[string]interface{ PNG() ([]byte, error) }{
		"no panels":        &LineFigure{},
		"curve lengths":    &LineFigure{Panels: []Panel{{Curves: []Curve{{X: []float64{1, 2}, Y: []float64{1}}}}}},
		"no charts":        &BarFigure{},
		"bar lengths":      &BarFigure{Charts: []BarChart{{Categories: []string{"a"}, Series: []BarSeries{{Mean: []float64{1, 2}, Std: []float64{1, 2}}}}}},
		"heart row values": hf,
		"heart no rows":    &HeartFigure{Scene: hf.Scene},
	} {
		if _, err := f.PNG(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEmptyPanel: a panel whose curves have no drawable point (all NaN, or
// ≤ 0 on a log axis) still renders, marked "no data".
func TestEmptyPanel(t *testing.T) {
	f := &LineFigure{Panels: []Panel{{Title: "empty", LogY: true, Curves: []Curve{{X: []float64{1, 2}, Y: []float64{0, math.NaN()}}}}}}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}
