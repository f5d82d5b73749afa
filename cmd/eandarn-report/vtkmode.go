package main

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/io/vtk"
)

// frameItem is one item of a -frames list: a single frame (stop = start+1)
// or a range start:stop:step; stop < 0 means "to the last frame".
type frameItem struct{ start, stop, step int }

// parseFrames parses a -frames list: comma-separated items, each an index
// k or a range start:stop[:step] with stop excluded (empty start = 0,
// empty stop = the number of frames, empty step = 1), as Python slices.
func parseFrames(spec string) ([]frameItem, error) {
	var items []frameItem
	num := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		x, err := strconv.Atoi(s)
		if err != nil || x < 0 {
			return 0, fmt.Errorf("-frames %q: %q is not a frame index ≥ 0", spec, s)
		}
		return x, nil
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		f := strings.Split(part, ":")
		if part == "" || len(f) > 3 {
			return nil, fmt.Errorf("-frames %q: want indices or start:stop:step ranges, comma-separated", spec)
		}
		if len(f) == 1 {
			k, err := num(f[0], 0)
			if err != nil {
				return nil, err
			}
			items = append(items, frameItem{k, k + 1, 1})
			continue
		}
		var it frameItem
		var err error
		if it.start, err = num(f[0], 0); err != nil {
			return nil, err
		}
		if it.stop, err = num(f[1], -1); err != nil {
			return nil, err
		}
		it.step = 1
		if len(f) == 3 {
			if it.step, err = num(f[2], 1); err != nil {
				return nil, err
			}
			if it.step == 0 {
				return nil, fmt.Errorf("-frames %q: step 0", spec)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// expandFrames lists the frames of items for a recording of T frames,
// increasing and without repeats. A range stops at the last frame (as a
// slice does); a single index beyond it, or a list that selects nothing, is
// an error.
func expandFrames(spec string, items []frameItem, T int) ([]int, error) {
	sel := make([]bool, T)
	for _, it := range items {
		stop := it.stop
		if stop < 0 || stop > T {
			if it.stop == it.start+1 { // a single index
				return nil, fmt.Errorf("-frames %q: frame %d out of range: the result has %d frames (0..%d)", spec, it.start, T, T-1)
			}
			stop = T
		}
		for k := it.start; k < stop; k += it.step {
			sel[k] = true
		}
	}
	var frames []int
	for k, ok := range sel {
		if ok {
			frames = append(frames, k)
		}
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("-frames %q selects none of the %d frames", spec, T)
	}
	return frames, nil
}

// exportVTK is VTK mode: the reconstruction u of -result, the truth u of
// the run file and |u − u_truth|, and an ensemble's u_std when the result
// has one, on the run's heart mesh, for the chosen frames, as a ParaView
// series in -vtk.
func exportVTK(c *config, log *slog.Logger) error {
	items, err := parseFrames(c.Frames)
	if err != nil {
		return cli.BadInput(err)
	}
	res, err := resultfile.Read(c.Result)
	if err != nil {
		return cli.BadInputf("-result: %w", err)
	}
	u, err := reconstruction(res, c.Result)
	if err != nil {
		return cli.BadInputf("-result %w", err)
	}
	runPath := c.Run
	if runPath == "" {
		if runPath = inputRun(c.Result, res.Attrs["input"]); runPath == "" {
			return cli.BadInputf("-result %s names no input run file: give -run run.h5", c.Result)
		}
	}
	p, err := runfile.Load(runPath)
	if err != nil {
		if c.Run == "" {
			return cli.BadInputf("run file of %s (its input attribute; -run names another): %w", c.Result, err)
		}
		return cli.BadInputf("-run: %w", err)
	}
	n, T := u.Dims()
	if n != len(p.Heart.Nodes) {
		return cli.BadInputf("-result %s: reconstruction/u has %d nodes, the heart of %s has %d: not the run it was made from", c.Result, n, runPath, len(p.Heart.Nodes))
	}
	time := res.Vectors["reconstruction/time"]
	if time == nil {
		time = p.Time
	}
	if len(time) != T {
		return cli.BadInputf("-result %s: %d frames, but its time axis has %d", c.Result, T, len(time))
	}
	frames, err := expandFrames(c.Frames, items, T)
	if err != nil {
		return cli.BadInput(err)
	}
	// Names that sort with u first: VTK's active scalar is the first field.
	fields := map[string]*mat.Dense{"u": u}
	if p.TruthU != nil {
		if r, cc := p.TruthU.Dims(); r != n || cc != T {
			return cli.BadInputf("-run %s: truth/u is %dx%d, the reconstruction %dx%d: not the run of this result", runPath, r, cc, n, T)
		}
		e := mat.NewDense(n, T, nil)
		e.Sub(u, p.TruthU)
		e.Apply(func(_, _ int, x float64) float64 { return math.Abs(x) }, e)
		fields["u_truth"], fields["u_abs_error"] = p.TruthU, e
	} else {
		log.Warn("run file has no truth: exporting u alone", "run", runPath)
	}
	// An ensemble's spread (eandarn-batch -ensemble K): the uncertainty map.
	if std, ok := res.Matrices["reconstruction/u_std"].(*mat.Dense); ok {
		if r, cc := std.Dims(); r != n || cc != T {
			return cli.BadInputf("-result %s: reconstruction/u_std is %dx%d, reconstruction/u %dx%d", c.Result, r, cc, n, T)
		}
		fields["u_std"] = std
	}
	if err := vtk.WriteSeries(c.VTK, p.Heart, frames, time, fields); err != nil {
		return err
	}
	log.Info("wrote heart maps", "dir", c.VTK, "frames", len(frames), "nodes", n, "fields", len(fields), "open", c.VTK+"/"+vtk.CollectionName)
	return nil
}
