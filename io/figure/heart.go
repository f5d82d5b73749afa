package figure

import (
	"fmt"
	"image"
	stddraw "image/draw"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/eandarn/eandarn/io/heartmap"
)

// MapScale is a colour scale of a HeartFigure, shared by the rows that
// name it; its colour bar is drawn beside them.
type MapScale struct {
	Label    string           // colour-bar label, with units
	Map      palette.ColorMap // Min and Max set; Max > Min
	Isolines float64          // isoline step (heartmap.Options); 0: none
}

// MapRow is one row of a HeartFigure: values per node, drawn in every view.
type MapRow struct {
	Label  string
	Values []float64
	Scale  int // index into HeartFigure.Scales
}

// HeartFigure is a grid of heart maps: one row per MapRow, one column per
// view, a colour bar per scale on the right.
type HeartFigure struct {
	Title  string
	Scene  *heartmap.Scene
	Views  []heartmap.View // nil: Scene.Views() (anterior, posterior, basal)
	Rows   []MapRow
	Scales []MapScale
	Cell   int // pixels per map; 0 = 240
}

// Layout of a HeartFigure, in pixels.
const (
	heartLabelW = 34  // row labels (rotated)
	heartBarW   = 120 // colour bars with their ticks and label
	heartTitleH = 30
	heartViewH  = 22 // view names
)

func (f *HeartFigure) cell() int {
	if f.Cell > 0 {
		return f.Cell
	}
	return 240
}

func (f *HeartFigure) views() []heartmap.View {
	if f.Views != nil {
		return f.Views
	}
	return f.Scene.Views()
}

func (f *HeartFigure) top() int {
	if f.Title == "" {
		return heartViewH
	}
	return heartTitleH + heartViewH
}

// Size returns the image size in pixels.
func (f *HeartFigure) Size() (w, h int) {
	return heartLabelW + len(f.views())*f.cell() + heartBarW, f.top() + len(f.Rows)*f.cell()
}

// Locate returns the pixel position in the figure's image of a mesh point
// drawn in row r, column (view) c: where Render put it, offset by the
// cell's origin.
func (f *HeartFigure) Locate(r, c int, p [3]float64) (x, y float64) {
	cam := f.Scene.Camera(f.views()[c], f.cell())
	x, y, _ = cam.Project(p)
	return x + float64(heartLabelW+c*f.cell()), y + float64(f.top()+r*f.cell())
}

// PNG renders the figure.
func (f *HeartFigure) PNG() ([]byte, error) {
	if f.Scene == nil || len(f.Rows) == 0 {
		return nil, fmt.Errorf("figure: heart maps %q: no scene or no rows", f.Title)
	}
	n := len(f.Scene.Mesh().Nodes)
	for _, r := range f.Rows {
		switch {
		case len(r.Values) != n:
			return nil, fmt.Errorf("figure: heart maps %q, row %q: %d values for %d nodes", f.Title, r.Label, len(r.Values), n)
		case r.Scale < 0 || r.Scale >= len(f.Scales):
			return nil, fmt.Errorf("figure: heart maps %q, row %q: scale %d of %d", f.Title, r.Label, r.Scale, len(f.Scales))
		}
	}
	for _, s := range f.Scales {
		if !(s.Map.Max() > s.Map.Min()) {
			return nil, fmt.Errorf("figure: heart maps %q, scale %q: range [%g, %g] is empty", f.Title, s.Label, s.Map.Min(), s.Map.Max())
		}
	}
	views, cell := f.views(), f.cell()
	W, H := f.Size()
	img, dc := canvas(W, H)
	dc = title(dc, f.Title)
	// at converts a pixel rectangle (x, y from the top left) to canvas units.
	at := func(x, y, w, h int) vg.Rectangle {
		return vg.Rectangle{Min: vg.Point{X: px(float64(x)), Y: px(float64(H - y - h))},
			Max: vg.Point{X: px(float64(x + w)), Y: px(float64(H - y))}}
	}
	top := f.top()
	name := textStyle(11, false)
	for c, v := range views {
		r := at(heartLabelW+c*cell, top-heartViewH, cell, heartViewH)
		dc.FillText(name, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, v.Name)
	}
	label := textStyle(11, true)
	label.Rotation = math.Pi / 2 // reads bottom to top
	for i, row := range f.Rows {
		s := f.Scales[row.Scale]
		y := top + i*cell
		r := at(0, y, heartLabelW, cell)
		dc.FillText(label, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, row.Label)
		for c, v := range views {
			// Composited pixel for pixel onto the canvas's image rather than
			// through vg's DrawImage, which resamples.
			m := f.Scene.Render(row.Values, v, s.Map, cell, heartmap.Options{Isolines: s.Isolines})
			x := heartLabelW + c*cell
			stddraw.Draw(img.Image(), image.Rect(x, y, x+cell, y+cell), m, image.Point{}, stddraw.Over)
		}
	}
	for k, s := range f.Scales {
		first, last := -1, -1
		for i, row := range f.Rows {
			if row.Scale == k {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			continue
		}
		span := (last - first + 1) * cell
		pad := min(span/10, 30)
		colorBar(img, dc, H, heartLabelW+len(views)*cell, top+first*cell+pad, span-2*pad, s)
	}
	return encode(img)
}

// colorBar draws the vertical colour bar of s with its top left at pixel
// (x, y), h pixels tall: the gradient (pixel rows straight into the image,
// so it shows exactly the colours of the maps), a frame, ticks and labels
// on its right and the scale's label beyond them.
func colorBar(img *vgimg.Canvas, dc draw.Canvas, H, x, y, h int, s MapScale) {
	const barX, barW = 12, 20 // px from x
	lo, hi := s.Map.Min(), s.Map.Max()
	rgba := img.Image()
	for j := 0; j < h; j++ {
		c := heartmap.ColorAt(s.Map, hi-(hi-lo)*(float64(j)+0.5)/float64(h))
		for i := 0; i < barW; i++ {
			rgba.Set(x+barX+i, y+j, c)
		}
	}
	at := func(cx, cy float64) vg.Point { return vg.Point{X: px(cx), Y: px(float64(H) - cy)} }
	frame := draw.LineStyle{Color: Black, Width: px(1)}
	x0, x1, y0, y1 := float64(x+barX), float64(x+barX+barW), float64(y), float64(y+h)
	dc.StrokeLines(frame, []vg.Point{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)})
	sty := textStyle(10, false)
	sty.XAlign = text.XLeft
	for _, t := range barTicks(lo, hi, s.Isolines) {
		if t.Label == "" || t.Value < lo || t.Value > hi {
			continue
		}
		ty := y1 - (t.Value-lo)/(hi-lo)*(y1-y0)
		dc.StrokeLine2(frame, px(x1), px(float64(H)-ty), px(x1+5), px(float64(H)-ty))
		dc.FillText(sty, at(x1+8, ty), t.Label)
	}
	label := textStyle(11, false)
	label.Rotation = math.Pi / 2
	dc.FillText(label, at(float64(x+heartBarW-12), (y0+y1)/2), s.Label)
}

// barTicks are the labelled values of a colour bar: multiples of the
// isoline step when there are isolines (so the bar reads like the map; at
// most 7 labels), else plot's default ticks.
func barTicks(lo, hi, step float64) []plot.Tick {
	if !(step > 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	k0, k1 := math.Ceil(lo/step), math.Floor(hi/step)
	stride := math.Max(1, math.Ceil((k1-k0+1)/7))
	var ticks []plot.Tick
	for k := k0; k <= k1; k += stride {
		v := k * step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
