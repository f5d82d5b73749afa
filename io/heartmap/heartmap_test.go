package heartmap

import (
	"image/color"
	"math"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
	"gonum.org/v1/plot/palette/moreland"

	"github.com/eandarn/eandarn/solver/geometry"
)

// TestViews: the views are right-handed orthonormal frames; anterior looks
// from −y with the patient's left (+x) on the right; the basal view of the
// default heart looks from its base, so its apex is the farthest node.
func TestViews(t *testing.T) {
	h := geometry.Heart()
	s := NewScene(h)
	views := s.Views()
	if len(views) != 3 || views[0].Name != "anterior" || views[1].Name != "posterior" || views[2].Name != "basal" {
		t.Fatalf("views %v", views)
	}
	for _, v := range views {
		for _, d := range []float64{r3.Norm(v.Right) - 1, r3.Norm(v.Up) - 1, r3.Dot(v.Right, v.Up), r3.Norm(r3.Sub(r3.Cross(v.Right, v.Up), v.Toward))} {
			if math.Abs(d) > 1e-12 {
				t.Errorf("%s: not a right-handed orthonormal frame: %+v", v.Name, v)
			}
		}
	}
	if views[0].Right != (r3.Vec{X: 1}) || views[0].Toward != (r3.Vec{Y: -1}) {
		t.Errorf("anterior %+v: want right +x, toward −y", views[0])
	}
	apex := geometry.Apex(h)
	far, best := -1, math.Inf(1)
	for i, x := range h.Nodes {
		if d := r3.Dot(vec(x), views[2].Toward); d < best {
			far, best = i, d
		}
	}
	// The apex is a 6-mm cap of nodes; the farthest must be within it.
	if d := r3.Norm(r3.Sub(vec(h.Nodes[far]), vec(h.Nodes[apex]))); d > 6 {
		t.Errorf("basal view: farthest node %d is %.1f mm from the apex %d, want the apex", far, d, apex)
	}
	if views[2].Toward.Z <= 0 {
		t.Errorf("basal view toward %+v: the default heart's base is superior (+z)", views[2].Toward)
	}
}

// TestRenderColorsAtNodes renders f = x − 2y + 3z on an icosphere in every
// view and checks the pixel under each clearly visible node against the
// colour map at the node's value, shaded by the node's light factor.
func TestRenderColorsAtNodes(t *testing.T) {
	m := geometry.Icosphere(3, 20)
	f := make([]float64, len(m.Nodes))
	for i, x := range m.Nodes {
		f[i] = x[0] - 2*x[1] + 3*x[2]
	}
	cm := moreland.SmoothBlueRed()
	cm.SetMax(80)
	cm.SetMin(-80)
	s := NewScene(m)
	const size = 240
	for _, v := range s.Views() {
		img := s.Render(f, v, cm, size, Options{})
		cam := s.Camera(v, size)
		checked := 0
		for i, x := range m.Nodes {
			cos := r3.Dot(r3.Unit(vec(x)), v.Toward) // sphere: the normal is radial
			if cos < 0.5 {
				continue // hidden, or seen too obliquely for one pixel to be one value
			}
			px, py, _ := cam.Project(x)
			got := img.RGBAAt(int(px), int(py))
			want := Shade(ColorAt(cm, f[i]), cos)
			if d := maxDiff(got, want); d > 6 {
				t.Errorf("%s: node %d (value %.1f) at pixel (%d, %d): %v, want %v", v.Name, i, f[i], int(px), int(py), got, want)
			}
			checked++
		}
		if checked < 100 {
			t.Errorf("%s: only %d nodes checked", v.Name, checked)
		}
	}
}

func maxDiff(a, b color.RGBA) int {
	d := 0
	for _, p := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}, {a.A, b.A}} {
		d = max(d, int(math.Abs(float64(p[0])-float64(p[1]))))
	}
	return d
}

// TestRenderBackground: pixels off the mesh stay transparent, NaN values
// get NaNColor, and the isolines darken the map only where a multiple of
// the step is crossed.
func TestRenderBackground(t *testing.T) {
	m := geometry.Icosphere(2, 10)
	vals := make([]float64, len(m.Nodes))
	for i := range vals {
		vals[i] = math.NaN()
	}
	cm := moreland.SmoothBlueRed()
	s := NewScene(m)
	img := s.Render(vals, s.Views()[0], cm, 100, Options{})
	if c := img.RGBAAt(0, 0); c.A != 0 {
		t.Errorf("corner pixel %v, want transparent", c)
	}
	if got, want := img.RGBAAt(50, 50), Shade(NaNColor, 1); maxDiff(got, want) > 3 {
		t.Errorf("centre pixel %v, want the NaN colour %v", got, want)
	}

	// f = z with isolines every 5 mm: only pixels near z = 0, ±5, ±10 (of
	// radius 10) change, and they darken.
	for i, x := range m.Nodes {
		vals[i] = x[2]
	}
	cm.SetMax(10)
	cm.SetMin(-10)
	plain := s.Render(vals, s.Views()[0], cm, 200, Options{})
	lined := s.Render(vals, s.Views()[0], cm, 200, Options{Isolines: 5})
	cam := s.Camera(s.Views()[0], 200)
	_, y0, _ := cam.Project([3]float64{})
	_, y1, _ := cam.Project([3]float64{0, 0, 1})
	changed, fg := 0, 0
	for y := 0; y < 200; y++ {
		for x := 0; x < 200; x++ {
			a, b := plain.RGBAAt(x, y), lined.RGBAAt(x, y)
			if a.A > 0 {
				fg++
			}
			if a != b {
				changed++
				if int(b.R)+int(b.G)+int(b.B) >= int(a.R)+int(a.G)+int(a.B) {
					t.Fatalf("isoline pixel (%d, %d) %v not darker than %v", x, y, b, a)
				}
				if z := (float64(y) + 0.5 - y0) / (y1 - y0); math.Abs(z-5*math.Round(z/5)) > 0.6 {
					t.Errorf("isoline pixel (%d, %d) at z ≈ %.2f, far from a multiple of 5", x, y, z)
				}
			}
		}
	}
	if changed == 0 || changed > fg/8 {
		t.Errorf("isolines changed %d of %d foreground pixels", changed, fg)
	}
}
