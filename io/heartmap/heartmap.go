// Package heartmap renders values on a heart-surface mesh as a shaded
// image, headless: an orthographic z-buffer rasterizer of the mesh's
// triangles onto an image.RGBA, the value interpolated linearly inside each
// triangle (as on the piecewise-linear surface of the BEM and Eq. 15) and
// mapped to a colour per pixel, the colour darkened by a head-light Lambert
// factor so the shape reads as 3-D, optional isolines, and 2×2
// supersampling against jagged edges. This is how ECGI heart maps are read:
// anterior, posterior and basal views of the same surface (Views).
package heartmap

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"
	"gonum.org/v1/plot/palette"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Ambient is the share of a colour that does not depend on the light: a
// surface seen edge-on keeps Ambient of its colour, one facing the viewer all
// of it (Shade).
const Ambient = 0.55

// supersample is the number of samples per pixel along each axis.
const supersample = 2

// NaNColor is the colour of a node value that is NaN (no data).
var NaNColor = color.RGBA{R: 170, G: 170, B: 170, A: 255}

// View is an orthographic camera direction: Right and Up span the screen
// and Toward points from the heart to the viewer (Right × Up = Toward; all
// unit length).
type View struct {
	Name              string
	Right, Up, Toward r3.Vec
}

// Scene is a heart mesh prepared for rendering: oriented vertex normals, the
// centre of its bounding box and the half-extent that fits every standard
// view (every view uses the same scale, so sizes compare across views and
// figures).
type Scene struct {
	mesh    *mesh.Mesh
	normals []r3.Vec
	center  r3.Vec
	radius  float64
	views   []View
}

// NewScene prepares m. The mesh is not modified.
func NewScene(m *mesh.Mesh) *Scene {
	s := &Scene{mesh: m}
	c := &mesh.Mesh{Nodes: m.Nodes, Tris: append([][3]int(nil), m.Tris...)}
	_ = c.Orient() // a mesh that cannot be oriented is still drawn: shading uses |n·Toward|
	for _, nv := range c.VertexNormals() {
		s.normals = append(s.normals, vec(nv))
	}
	lo := r3.Vec{X: math.Inf(1), Y: math.Inf(1), Z: math.Inf(1)}
	hi := r3.Scale(-1, lo)
	for _, x := range m.Nodes {
		p := vec(x)
		lo = r3.Vec{X: math.Min(lo.X, p.X), Y: math.Min(lo.Y, p.Y), Z: math.Min(lo.Z, p.Z)}
		hi = r3.Vec{X: math.Max(hi.X, p.X), Y: math.Max(hi.Y, p.Y), Z: math.Max(hi.Z, p.Z)}
	}
	s.center = r3.Scale(0.5, r3.Add(lo, hi))
	// The scale fits the largest extent over the standard views, so that
	// every view of the mesh has the same mm per pixel.
	s.views = s.standardViews()
	for _, v := range s.views {
		for _, x := range m.Nodes {
			d := r3.Sub(vec(x), s.center)
			s.radius = math.Max(s.radius, math.Max(math.Abs(r3.Dot(d, v.Right)), math.Abs(r3.Dot(d, v.Up))))
		}
	}
	if s.radius == 0 {
		s.radius = 1
	}
	return s
}

// Mesh returns the scene's mesh.
func (s *Scene) Mesh() *mesh.Mesh { return s.mesh }

// Views returns the anterior, posterior and basal views (see standardViews).
func (s *Scene) Views() []View { return append([]View(nil), s.views...) }

// standardViews returns the anterior, posterior and basal views. The first two
// assume the body coordinates of eandarn's run files (x toward the
// patient's left, y posterior, z superior; README "Forward pipeline"):
// anterior looks at the chest from the front (the patient's left on the
// right of the image, superior up), posterior from the back. The basal
// view looks along the heart's long axis (the principal axis of the node
// coordinates with the largest variance) from its broad end (the base) to
// its narrow end (the apex), with anterior up; it depends on the shape
// only, so it is right for any heart mesh.
func (s *Scene) standardViews() []View {
	ant := View{Name: "anterior", Right: r3.Vec{X: 1}, Up: r3.Vec{Z: 1}, Toward: r3.Vec{Y: -1}}
	post := View{Name: "posterior", Right: r3.Vec{X: -1}, Up: r3.Vec{Z: 1}, Toward: r3.Vec{Y: 1}}
	base := s.baseDirection()
	up := r3.Sub(r3.Vec{Y: -1}, r3.Scale(-base.Y, base)) // anterior, in the plane across the long axis
	if r3.Norm(up) < 1e-6 {
		up = r3.Sub(r3.Vec{Z: 1}, r3.Scale(base.Z, base))
	}
	up = r3.Unit(up)
	basal := View{Name: "basal", Right: r3.Cross(up, base), Up: up, Toward: base}
	return []View{ant, post, basal}
}

// baseDirection returns the unit long axis pointing from apex to base: of
// the two ends of the principal axis, the base is the one whose end tenth
// of the nodes lies farther from the axis on average.
func (s *Scene) baseDirection() r3.Vec {
	n := len(s.mesh.Nodes)
	var mean r3.Vec
	for _, x := range s.mesh.Nodes {
		mean = r3.Add(mean, vec(x))
	}
	mean = r3.Scale(1/float64(max(n, 1)), mean)
	cov := mat.NewSymDense(3, nil)
	for _, x := range s.mesh.Nodes {
		d := r3.Sub(vec(x), mean)
		c := [3]float64{d.X, d.Y, d.Z}
		for i := range 3 {
			for j := i; j < 3; j++ {
				cov.SetSym(i, j, cov.At(i, j)+c[i]*c[j])
			}
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return r3.Vec{Z: 1}
	}
	var ev mat.Dense
	eig.VectorsTo(&ev)
	axis := r3.Unit(r3.Vec{X: ev.At(0, 2), Y: ev.At(1, 2), Z: ev.At(2, 2)}) // ascending eigenvalues: the last is the long axis
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range s.mesh.Nodes {
		t := r3.Dot(r3.Sub(vec(x), mean), axis)
		lo, hi = math.Min(lo, t), math.Max(hi, t)
	}
	cut := (hi - lo) / 10
	var rLo, rHi float64
	var nLo, nHi int
	for _, x := range s.mesh.Nodes {
		d := r3.Sub(vec(x), mean)
		t := r3.Dot(d, axis)
		r := r3.Norm(r3.Sub(d, r3.Scale(t, axis)))
		switch {
		case t <= lo+cut:
			rLo += r
			nLo++
		case t >= hi-cut:
			rHi += r
			nHi++
		}
	}
	if rLo/float64(max(nLo, 1)) > rHi/float64(max(nHi, 1)) {
		return r3.Scale(-1, axis)
	}
	return axis
}

// Camera maps mesh coordinates (mm) to the pixels of a size × size image
// of a view: the scene's half-extent fills Fill of the image.
type Camera struct {
	View
	center  r3.Vec
	pxPerMM float64
	size    float64
}

// Fill is the share of the image the heart spans in its widest view.
const Fill = 0.9

// Camera returns the camera of view v for a size × size image.
func (s *Scene) Camera(v View, size int) Camera {
	return Camera{View: v, center: s.center, pxPerMM: Fill * float64(size) / (2 * s.radius), size: float64(size)}
}

// Project returns the pixel position (x right, y down, continuous: pixel
// (i, j) covers [i, i+1) × [j, j+1)) of a point and its depth (larger is
// nearer the viewer).
func (c Camera) Project(p [3]float64) (x, y, depth float64) {
	d := r3.Sub(vec(p), c.center)
	x = c.size/2 + c.pxPerMM*r3.Dot(d, c.Right)
	y = c.size/2 - c.pxPerMM*r3.Dot(d, c.Up)
	return x, y, r3.Dot(d, c.Toward)
}

// Shade returns the colour c lit by a head light on a surface whose unit
// normal n makes cos θ = |n·Toward| with the view direction:
// c · (Ambient + (1 − Ambient) cos θ), alpha kept.
func Shade(c color.Color, cosTheta float64) color.RGBA {
	r, g, b, a := c.RGBA()
	f := Ambient + (1-Ambient)*math.Min(math.Abs(cosTheta), 1)
	ch := func(v uint32) uint8 { return uint8(math.Round(float64(v>>8) * f)) }
	return color.RGBA{R: ch(r), G: ch(g), B: ch(b), A: uint8(a >> 8)}
}

// Options are the optional parts of a rendering.
type Options struct {
	// Isolines draws a dark line wherever the value crosses a multiple of
	// this step (isochrones of an activation map); 0: none.
	Isolines float64
}

// Render draws values (one per node) on the scene's mesh as seen from v
// into a size × size RGBA image with a transparent background. Colours come
// from cm over [cm.Min(), cm.Max()]; values outside are clamped, NaN is
// NaNColor.
func (s *Scene) Render(values []float64, v View, cm palette.ColorMap, size int, opt Options) *image.RGBA {
	ss := size * supersample
	cam := s.Camera(v, ss)
	n := len(s.mesh.Nodes)
	px := make([][3]float64, n) // x, y, depth
	cosv := make([]float64, n)
	for i, x := range s.mesh.Nodes {
		px[i][0], px[i][1], px[i][2] = cam.Project(x)
		cosv[i] = math.Abs(r3.Dot(s.normals[i], v.Toward))
	}
	depth := make([]float64, ss*ss)
	for i := range depth {
		depth[i] = math.Inf(-1)
	}
	val := make([]float64, ss*ss)
	light := make([]float64, ss*ss)
	for _, t := range s.mesh.Tris {
		a, b, c := px[t[0]], px[t[1]], px[t[2]]
		area := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
		if area == 0 {
			continue
		}
		x0 := max(0, int(math.Floor(min(a[0], b[0], c[0]))))
		x1 := min(ss-1, int(math.Ceil(max(a[0], b[0], c[0]))))
		y0 := max(0, int(math.Floor(min(a[1], b[1], c[1]))))
		y1 := min(ss-1, int(math.Ceil(max(a[1], b[1], c[1]))))
		for y := y0; y <= y1; y++ {
			py := float64(y) + 0.5
			for x := x0; x <= x1; x++ {
				pxc := float64(x) + 0.5
				// Barycentric weights of the sample; all ≥ 0 inside.
				w0 := ((b[0]-pxc)*(c[1]-py) - (b[1]-py)*(c[0]-pxc)) / area
				w1 := ((c[0]-pxc)*(a[1]-py) - (c[1]-py)*(a[0]-pxc)) / area
				w2 := 1 - w0 - w1
				const eps = -1e-9 // shared edges: no gaps between triangles
				if w0 < eps || w1 < eps || w2 < eps {
					continue
				}
				z := w0*a[2] + w1*b[2] + w2*c[2]
				k := y*ss + x
				if z <= depth[k] {
					continue
				}
				depth[k] = z
				val[k] = w0*values[t[0]] + w1*values[t[1]] + w2*values[t[2]]
				light[k] = w0*cosv[t[0]] + w1*cosv[t[1]] + w2*cosv[t[2]]
			}
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < supersample; sy++ {
				for sx := 0; sx < supersample; sx++ {
					X, Y := x*supersample+sx, y*supersample+sy
					k := Y*ss + X
					if math.IsInf(depth[k], -1) {
						continue
					}
					c := Shade(colorAt(cm, val[k]), light[k])
					if opt.Isolines > 0 && onIsoline(val, depth, ss, X, Y, opt.Isolines) {
						c = Shade(color.RGBA{R: 40, G: 40, B: 40, A: 255}, light[k])
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+255
				}
			}
			if a == 0 {
				continue
			}
			// Premultiplied: a partly covered edge pixel blends with whatever the
			// image is drawn on.
			const m = supersample * supersample
			img.SetRGBA(x, y, color.RGBA{R: uint8(math.Round(r / m)), G: uint8(math.Round(g / m)),
				B: uint8(math.Round(b / m)), A: uint8(math.Round(a / m))})
		}
	}
	return img
}

// onIsoline reports whether a multiple of step lies between the value of
// sample (x, y) and that of its right or lower neighbour on the surface.
func onIsoline(val, depth []float64, ss, x, y int, step float64) bool {
	k := y*ss + x
	band := math.Floor(val[k] / step)
	for _, nb := range [][2]int{{x + 1, y}, {x, y + 1}} {
		if nb[0] >= ss || nb[1] >= ss {
			continue
		}
		j := nb[1]*ss + nb[0]
		if !math.IsInf(depth[j], -1) && math.Floor(val[j]/step) != band {
			return true
		}
	}
	return false
}

// colorAt is cm at v, clamped to its range; NaN gives NaNColor.
func colorAt(cm palette.ColorMap, v float64) color.Color {
	if math.IsNaN(v) {
		return NaNColor
	}
	c, err := cm.At(math.Max(cm.Min(), math.Min(cm.Max(), v)))
	if err != nil {
		return NaNColor
	}
	return c
}

// ColorAt is the colour Render gives a value: cm at v clamped to cm's range,
// NaNColor for NaN.
func ColorAt(cm palette.ColorMap, v float64) color.Color { return colorAt(cm, v) }

// vec converts a node to an r3.Vec.
func vec(x [3]float64) r3.Vec { return r3.Vec{X: x[0], Y: x[1], Z: x[2]} }
