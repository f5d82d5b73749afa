package figure

import (
	"math"
	"slices"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/palette/moreland"
)

// PotentialMap is the colour map of heart-surface potentials over
// [lo, hi]: Moreland's smooth cool-to-warm diverging map, so resting tissue
// is blue, depolarized tissue red and the wavefront light.
func PotentialMap(lo, hi float64) palette.ColorMap {
	return withRange(moreland.SmoothBlueRed(), lo, hi)
}

// ErrorMap is the colour map of absolute errors over [0, hi]: ColorBrewer's
// sequential YlOrRd with luminance linear in the value (Moreland), light
// yellow for no error, dark red for the largest.
func ErrorMap(hi float64) palette.ColorMap {
	p, err := brewer.GetPalette(brewer.TypeSequential, "YlOrRd", 9)
	if err != nil {
		panic(err) // a fixed, existing palette
	}
	controls := slices.Clone(p.Colors())
	slices.Reverse(controls) // NewLuminance wants increasing luminance: dark red first
	cm, err := moreland.NewLuminance(controls)
	if err != nil {
		panic(err) // YlOrRd's luminance is monotone
	}
	return withRange(palette.Reverse(cm), 0, hi)
}

// ActivationMap is the colour map of activation times over [lo, hi]:
// the cool-to-warm map reversed, as ECGI activation maps are read: the
// earliest activation red, the latest blue.
func ActivationMap(lo, hi float64) palette.ColorMap {
	return withRange(palette.Reverse(moreland.SmoothBlueRed()), lo, hi)
}

// withRange sets cm's range to [lo, hi], widened to a unit-less sliver
// around lo when the range is empty (a constant map still draws).
func withRange(cm palette.ColorMap, lo, hi float64) palette.ColorMap {
	if !(hi > lo) {
		hi = lo + max(1e-12, 1e-9*math.Abs(lo))
	}
	cm.SetMax(hi)
	cm.SetMin(lo)
	return cm
}
