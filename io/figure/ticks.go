package figure

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks marks a logarithmic axis readably at any span: over two decades
// or more, labels on every k-th power of ten (at most 6 labels) and
// unlabelled ticks on the others and, over few decades, on 2…9 × 10^e;
// within a decade or two, labels on 1, 2 and 5 × 10^e and unlabelled ticks
// on the other mantissas; below two such labels, linear ticks.
// (plot.LogTicks labels every decade, which overlaps over wide λ ranges,
// and none inside a single decade.)
type logTicks struct{}

func (lt logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	ticks := lt.decades(lo, hi)
	labels := 0
	for _, t := range ticks {
		if t.Label != "" {
			labels++
		}
	}
	if labels < 2 { // a span too narrow for 1, 2, 5 × 10^e: linear ticks
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}

func (logTicks) decades(lo, hi float64) []plot.Tick {
	e0, e1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	decades := e1 - e0
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	label := func(v float64) string {
		if v >= 1e-4 && v < 1e6 {
			return strconv.FormatFloat(v, 'f', -1, 64) // 0.001, 1000: plainer than 1e-03, 1e+03
		}
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	var ticks []plot.Tick
	if decades > 2 {
		stride := math.Max(1, math.Ceil(decades/6))
		for e := e0; e <= e1; e++ {
			v := math.Pow(10, e)
			if in(v) {
				t := plot.Tick{Value: v}
				if math.Mod(e-e0, stride) == 0 {
					t.Label = label(v)
				}
				ticks = append(ticks, t)
			}
			if decades <= 8 {
				for m := 2.0; m <= 9; m++ {
					if in(m * v) {
						ticks = append(ticks, plot.Tick{Value: m * v})
					}
				}
			}
		}
		return ticks
	}
	for e := e0; e <= e1; e++ {
		for m := 1.0; m <= 9; m++ {
			v := m * math.Pow(10, e)
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = label(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
