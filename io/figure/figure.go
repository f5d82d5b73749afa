// Package figure draws eandarn's figures as PNG images with gonum/plot:
// heart maps (HeartMaps: rows of values on the heart surface in several
// views, each group of rows with its colour bar), panels of curves
// (Lines: electrograms, loss and RE-monitor curves, L-curves and GCV
// curves with marked points) and grouped bar charts with error bars (Bars:
// the paper's Figs. 6–9). A figure is a plain description; its PNG method
// renders it headless at a fixed DPI, so the same description always gives
// the same pixels.
package figure

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of every figure: sizes are given in pixels.
const DPI = 96

// px converts pixels to a vg.Length at DPI.
func px(n float64) vg.Length { return vg.Length(n * 72 / DPI) }

// Series colours: the qualitative ColorBrewer "Dark2" set (distinguishable
// when printed and by most colour-blind readers); Black is the truth.
var (
	Black  = color.RGBA{A: 255}
	series = mustPalette()
)

func mustPalette() []color.Color {
	p, err := brewer.GetPalette(brewer.TypeQualitative, "Dark2", 8)
	if err != nil {
		panic(err) // a fixed, existing palette
	}
	return p.Colors()
}

// SeriesColor returns the colour of series i (cycling through 8).
func SeriesColor(i int) color.Color { return series[((i%len(series))+len(series))%len(series)] }

// canvas returns a white w × h pixel image canvas.
func canvas(w, h int) (*vgimg.Canvas, draw.Canvas) {
	c := vgimg.NewWith(vgimg.UseWH(px(float64(w)), px(float64(h))), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	return c, draw.New(c)
}

// encode returns the canvas as PNG bytes (default compression: the best
// level costs about twice the time for a few percent).
func encode(c *vgimg.Canvas) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, c.Image()); err != nil {
		return nil, fmt.Errorf("figure: encode png: %w", err)
	}
	return b.Bytes(), nil
}

// textStyle is a text style of the plots' font at size points.
func textStyle(size float64, bold bool) text.Style {
	f := plot.DefaultFont
	if bold {
		f.Weight = stdfont.WeightBold
	}
	f.Size = vg.Length(size)
	return text.Style{Color: Black, Font: f, Handler: plot.DefaultTextHandler,
		XAlign: text.XCenter, YAlign: text.YCenter}
}

// title draws a figure title across the top of dc and returns the canvas
// below it (dc itself when t is empty).
func title(dc draw.Canvas, t string) draw.Canvas {
	if t == "" {
		return dc
	}
	const h = 30 // px
	sty := textStyle(13, true)
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - px(h/2)}, t)
	return draw.Crop(dc, 0, 0, 0, -px(h))
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Entry is a legend entry: a line, a ring (a Mark), a dot (a Curve of
// Points) or (for bar charts) a filled square in a series colour, with its
// label.
type Entry struct {
	Label  string
	Color  int // as Curve.Color
	Dashed bool
	Bar    bool
	Marker bool
	Dot    bool
}

// Legend layout, in pixels.
const (
	legendRowH   = 20
	legendSample = 26
	legendGap    = 16
)

// legendRows splits entries into rows that fit width.
func legendRows(entries []Entry, width vg.Length) [][]Entry {
	sty := legendStyle()
	var rows [][]Entry
	var w vg.Length
	for _, e := range entries {
		ew := px(legendSample+6+legendGap) + sty.Width(e.Label)
		if len(rows) == 0 || (w+ew > width && len(rows[len(rows)-1]) > 0) {
			rows = append(rows, nil)
			w = 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		w += ew
	}
	return rows
}

func legendStyle() text.Style {
	sty := textStyle(10.5, false)
	sty.XAlign = text.XLeft
	return sty
}

// legend draws entries in centred rows across the top of dc and returns
// the canvas below them (dc itself without entries).
func legend(dc draw.Canvas, entries []Entry) draw.Canvas {
	rows := legendRows(entries, dc.Max.X-dc.Min.X)
	drawLegend(dc, rows)
	return draw.Crop(dc, 0, 0, 0, -px(float64(legendRowH*len(rows))))
}

// drawLegend draws legend rows from the top of dc down.
func drawLegend(dc draw.Canvas, rows [][]Entry) {
	sty := legendStyle()
	for r, row := range rows {
		var total vg.Length
		for _, e := range row {
			total += px(legendSample+6+legendGap) + sty.Width(e.Label)
		}
		total -= px(legendGap)
		x := (dc.Min.X+dc.Max.X)/2 - total/2
		y := dc.Max.Y - px(float64(legendRowH*r)+legendRowH/2)
		for _, e := range row {
			c := colorOf(e.Color)
			switch {
			case e.Bar:
				s := px(12)
				x0 := x + px(legendSample)/2 - s/2
				dc.FillPolygon(c, []vg.Point{{X: x0, Y: y - s/2}, {X: x0 + s, Y: y - s/2}, {X: x0 + s, Y: y + s/2}, {X: x0, Y: y + s/2}})
			case e.Marker:
				dc.DrawGlyph(draw.GlyphStyle{Color: c, Radius: px(5), Shape: draw.RingGlyph{}}, vg.Point{X: x + px(legendSample)/2, Y: y})
			case e.Dot:
				dc.DrawGlyph(draw.GlyphStyle{Color: c, Radius: px(3), Shape: draw.CircleGlyph{}}, vg.Point{X: x + px(legendSample)/2, Y: y})
			default:
				ls := draw.LineStyle{Color: c, Width: px(2)}
				if e.Dashed {
					ls.Dashes = []vg.Length{px(6), px(4)}
				}
				dc.StrokeLine2(ls, x, y, x+px(legendSample), y)
			}
			x += px(legendSample + 6)
			dc.FillText(sty, vg.Point{X: x, Y: y}, e.Label)
			x += sty.Width(e.Label) + px(legendGap)
		}
	}
}
