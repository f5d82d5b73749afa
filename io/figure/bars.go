package figure

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSeries is one bar per category: the mean and, as an error bar, ± Std
// (NaN: no error bar; a NaN mean: no bar).
type BarSeries struct {
	Label     string
	Mean, Std []float64 // one per category
}

// BarChart is a grouped bar chart: one group of bars per category, one bar
// per series in each group, in series colours.
type BarChart struct {
	Title, YLabel string
	Categories    []string
	Series        []BarSeries
}

// BarFigure is a row of bar charts with one legend, the series of the
// first chart (the paper's Figs. 6–9 show RE, CC and MSE side by side).
type BarFigure struct {
	Title  string
	Charts []BarChart
	// XLabel names what the categories are (e.g. "noise σ").
	XLabel string
	// Width and Height in pixels; 0 = 320 per chart, 360.
	Width, Height int
}

// PNG renders the figure.
func (f *BarFigure) PNG() ([]byte, error) {
	if len(f.Charts) == 0 {
		return nil, fmt.Errorf("figure: %q has no charts", f.Title)
	}
	w, h := f.Width, f.Height
	if w == 0 {
		w = 320 * len(f.Charts)
	}
	if h == 0 {
		h = 360
	}
	row := make([]*plot.Plot, len(f.Charts))
	for i := range f.Charts {
		p, err := f.Charts[i].plot(f.XLabel)
		if err != nil {
			return nil, fmt.Errorf("figure %q: %w", f.Title, err)
		}
		row[i] = p
	}
	img, dc := canvas(w, h)
	dc = title(dc, f.Title)
	if len(f.Charts[0].Series) > 1 {
		entries := make([]Entry, len(f.Charts[0].Series))
		for i, s := range f.Charts[0].Series {
			entries[i] = Entry{Label: s.Label, Color: i, Bar: true}
		}
		dc = legend(dc, entries)
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: px(24), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(8)}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	return encode(img)
}

func (b *BarChart) plot(xlabel string) (*plot.Plot, error) {
	for _, s := range b.Series {
		if len(s.Mean) != len(b.Categories) || len(s.Std) != len(b.Categories) {
			return nil, fmt.Errorf("chart %q, series %q: %d means, %d stds for %d categories", b.Title, s.Label, len(s.Mean), len(s.Std), len(b.Categories))
		}
	}
	p := plot.New()
	p.Title.Text = b.Title
	p.Y.Label.Text = b.YLabel
	p.X.Label.Text = xlabel
	p.Add(plotter.NewGrid())
	bars := &groupedBars{chart: b}
	p.Add(bars)
	p.NominalX(b.Categories...)
	return p, nil
}

// groupedBars draws the bars of a BarChart in data coordinates: category i
// spans [i − 0.4, i + 0.4], split evenly between the series.
type groupedBars struct{ chart *BarChart }

const groupWidth = 0.8

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ns := len(g.chart.Series)
	w := groupWidth / float64(ns)
	edge := draw.LineStyle{Color: Black, Width: px(0.75)}
	errStyle := draw.LineStyle{Color: Black, Width: px(1.25)}
	for j, s := range g.chart.Series {
		for i := range g.chart.Categories {
			m := s.Mean[i]
			if !finite(m) {
				continue
			}
			x0 := float64(i) - groupWidth/2 + float64(j)*w
			x1 := x0 + w
			y0, y1 := trY(0), trY(m)
			pts := []vg.Point{{X: trX(x0), Y: y0}, {X: trX(x1), Y: y0}, {X: trX(x1), Y: y1}, {X: trX(x0), Y: y1}}
			c.FillPolygon(SeriesColor(j), c.ClipPolygonXY(pts))
			c.StrokeLines(edge, c.ClipLinesXY(append(pts, pts[0]))...)
			if sd := s.Std[i]; finite(sd) && sd > 0 {
				xm := trX((x0 + x1) / 2)
				cap := (trX(x1) - trX(x0)) / 4
				lo, hi := trY(m-sd), trY(m+sd)
				c.StrokeLine2(errStyle, xm, lo, xm, hi)
				c.StrokeLine2(errStyle, xm-cap, lo, xm+cap, lo)
				c.StrokeLine2(errStyle, xm-cap, hi, xm+cap, hi)
			}
		}
	}
}

// DataRange covers every category, zero, and every mean ± std.
func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(g.chart.Categories))-0.5
	ymin, ymax = 0, 0
	for _, s := range g.chart.Series {
		for i, m := range s.Mean {
			if !finite(m) {
				continue
			}
			lo, hi := m, m
			if sd := s.Std[i]; finite(sd) {
				lo, hi = m-sd, m+sd
			}
			ymin, ymax = math.Min(ymin, lo), math.Max(ymax, hi)
		}
	}
	if ymax == ymin {
		ymax = ymin + 1
	}
	return xmin, xmax, ymin, ymax
}
