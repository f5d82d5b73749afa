package figure

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one line of a Panel.
type Curve struct {
	Label string    // legend entry; "" for none
	X, Y  []float64 // same length; non-finite points (and ≤ 0 on a log axis) are left out
	// Color is a series index (SeriesColor), or -1 for black (the truth).
	Color  int
	Width  float64 // line width in pixels; 0 = 1.5
	Dashed bool
	Points bool // draw a marker at every point instead of a line
}

// Mark is a labelled point of a Panel (a chosen λ, a corner).
type Mark struct {
	Label string
	X, Y  float64
	Color int // as Curve.Color
}

// VLine is a labelled vertical line of a Panel (a chosen λ on a GCV curve).
type VLine struct {
	Label  string
	X      float64
	Color  int // as Curve.Color
	Dashed bool
}

// Panel is one plot of a LineFigure.
type Panel struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Curves                []Curve
	Marks                 []Mark
	VLines                []VLine
	// Legend "none" hides the panel's legend (shown above the plot, under
	// the title, by default), e.g. when the figure has a shared one.
	Legend string
}

// LineFigure is a grid of Panels, filled row by row.
type LineFigure struct {
	Title   string
	Legend  []Entry // figure-wide legend under the title (panels may then use Legend "none")
	Panels  []Panel
	Columns int // 0 = 1
	// Width and Height of the whole image in pixels; 0 = 900 wide, 300 per row.
	Width, Height int
}

func colorOf(i int) color.Color {
	if i < 0 {
		return Black
	}
	return SeriesColor(i)
}

// PNG renders the figure.
func (f *LineFigure) PNG() ([]byte, error) {
	if len(f.Panels) == 0 {
		return nil, fmt.Errorf("figure: %q has no panels", f.Title)
	}
	cols := max(f.Columns, 1)
	rows := (len(f.Panels) + cols - 1) / cols
	w, h := f.Width, f.Height
	if w == 0 {
		w = 900
	}
	if h == 0 {
		h = 300*rows + 30
	}
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	entries := make([][]Entry, len(f.Panels))
	titles := make([]string, len(f.Panels))
	for i := range f.Panels {
		p, e, err := f.Panels[i].plot()
		if err != nil {
			return nil, fmt.Errorf("figure %q, panel %q: %w", f.Title, f.Panels[i].Title, err)
		}
		plots[i/cols][i%cols], entries[i], titles[i] = p, e, f.Panels[i].Title
		if p == nil {
			plots[i/cols][i%cols], titles[i] = plot.New(), titles[i]+" (no data)"
		}
	}
	img, dc := canvas(w, h)
	dc = legend(title(dc, f.Title), f.Legend)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: px(24), PadY: px(16), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(12)}
	// Each panel's title and legend go in a strip above its plot; the strip
	// is as tall in every panel, so the aligned plots stay aligned.
	tileW := (dc.Max.X - dc.Min.X) / vg.Length(cols)
	nrows := 0
	for _, e := range entries {
		nrows = max(nrows, len(legendRows(e, tileW)))
	}
	strip := panelTitleH + legendRowH*nrows
	canvases := plot.Align(plots, draw.Tiles{Rows: rows, Cols: cols, PadX: tiles.PadX, PadY: tiles.PadY + px(float64(strip)),
		PadTop: tiles.PadTop + px(float64(strip)), PadBottom: tiles.PadBottom, PadLeft: tiles.PadLeft, PadRight: tiles.PadRight}, dc)
	for i := range f.Panels {
		c := canvases[i/cols][i%cols]
		top := c // the strip right above the plot
		top.Min.Y, top.Max.Y = c.Max.Y+px(4), c.Max.Y+px(float64(4+strip))
		top.FillText(textStyle(12, false), vg.Point{X: (top.Min.X + top.Max.X) / 2, Y: top.Max.Y - px(panelTitleH/2)}, titles[i])
		drawLegend(draw.Crop(top, 0, 0, 0, -px(panelTitleH)), legendRows(entries[i], top.Max.X-top.Min.X))
		plots[i/cols][i%cols].Draw(c)
	}
	return encode(img)
}

// panelTitleH is the height of a panel's title in pixels.
const panelTitleH = 22

// plot builds the gonum plot of a panel and its legend entries; a nil plot
// when no curve has a point to draw.
func (pn *Panel) plot() (*plot.Plot, []Entry, error) {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = pn.XLabel, pn.YLabel
	if pn.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if pn.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	p.Add(plotter.NewGrid())
	var entries []Entry
	legend := func(e Entry) {
		if e.Label != "" && pn.Legend != "none" {
			entries = append(entries, e)
		}
	}
	ok := func(x, y float64) bool {
		return finite(x) && finite(y) && (!pn.LogX || x > 0) && (!pn.LogY || y > 0)
	}
	points := 0
	for _, cv := range pn.Curves {
		if len(cv.X) != len(cv.Y) {
			return nil, nil, fmt.Errorf("curve %q: %d x values, %d y values", cv.Label, len(cv.X), len(cv.Y))
		}
		var xy plotter.XYs
		for i := range cv.X {
			if ok(cv.X[i], cv.Y[i]) {
				xy = append(xy, plotter.XY{X: cv.X[i], Y: cv.Y[i]})
			}
		}
		if len(xy) == 0 {
			continue
		}
		points += len(xy)
		width := cv.Width
		if width == 0 {
			width = 1.5
		}
		ls := draw.LineStyle{Color: colorOf(cv.Color), Width: px(width)}
		if cv.Dashed {
			ls.Dashes = []vg.Length{px(6), px(4)}
		}
		if cv.Points {
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: ls.Color, Radius: px(2.5), Shape: draw.CircleGlyph{}}
			p.Add(s)
		} else {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, nil, err
			}
			l.LineStyle = ls
			p.Add(l)
		}
		legend(Entry{Label: cv.Label, Color: cv.Color, Dashed: cv.Dashed, Dot: cv.Points})
	}
	for _, m := range pn.Marks {
		if !ok(m.X, m.Y) {
			continue
		}
		s, err := plotter.NewScatter(plotter.XYs{{X: m.X, Y: m.Y}})
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: colorOf(m.Color), Radius: px(5), Shape: draw.RingGlyph{}}
		p.Add(s)
		legend(Entry{Label: m.Label, Color: m.Color, Marker: true})
	}
	for _, v := range pn.VLines {
		if !ok(v.X, 1) {
			continue
		}
		vl := &vline{x: v.X, style: draw.LineStyle{Color: colorOf(v.Color), Width: px(1.5)}}
		if v.Dashed {
			vl.style.Dashes = []vg.Length{px(6), px(4)}
		}
		p.Add(vl)
		legend(Entry{Label: v.Label, Color: v.Color, Dashed: v.Dashed})
	}
	if points == 0 {
		return nil, nil, nil
	}
	return p, entries, nil
}

// vline is a vertical line across the plot at data x; it takes no part in
// the y range.
type vline struct {
	x     float64
	style draw.LineStyle
}

func (v *vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}

func (v *vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.x, v.x, math.Inf(1), math.Inf(-1)
}
