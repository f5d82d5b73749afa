// Package progressview shows the progress.Updates of a running job on
// stderr: a live bar with the rate and the ETA when stderr is a terminal,
// otherwise (Slurm logs, files, pipes) one log/slog line every period with
// the stage, the count, the rate, the ETA and the Update's values, and one
// line when a stage completes. Both go through the job's logger's level:
// -log-level warn silences them. stdout is never touched.
package progressview

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/eandarn/eandarn/solver/progress"
)

// DefaultEvery is the period of the log lines: often enough to follow a
// Slurm log, rare enough to keep a 2-hour task's log short.
const DefaultEvery = 10 * time.Second

// barRefresh is how often the bar's description (the values) is redrawn.
const barRefresh = 200 * time.Millisecond

// View is a progress.Reporter that renders on stderr. The zero value is not
// usable; call New.
type View struct {
	mu    sync.Mutex
	out   io.Writer // stderr
	bar   bool      // out is a terminal: draw a bar
	cols  int       // the terminal's width (0: unknown), so a bar never wraps
	every time.Duration
	log   *slog.Logger
	now   func() time.Time

	// The current stage.
	stage     string
	t0        time.Time // first Update of the stage
	done0     int64     // its Done (a resumed run starts above 0)
	last      time.Time // last log line or bar description
	finished  bool
	pb        *progressbar.ProgressBar
	lastTotal int64
}

// New returns a View on stderr: a bar when stderr is a terminal, else log
// lines every period (0: no progress at all). Its log lines go to the
// logger given to SetLogger, which should write through Writer.
func New(stderr io.Writer, every time.Duration) *View {
	v := newView(stderr, every, isTerminal(stderr))
	if v.bar {
		v.cols, _, _ = term.GetSize(int(stderr.(*os.File).Fd()))
	}
	return v
}

func newView(out io.Writer, every time.Duration, bar bool) *View {
	return &View{out: out, bar: bar, every: every, now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Writer returns the writer the job's logger should use: stderr itself, or
// on a terminal a writer that first erases a live bar, so log lines and the
// bar never share a line (the bar is redrawn below at its next update).
func (v *View) Writer() io.Writer {
	if !v.bar {
		return v.out
	}
	return barSafe{v}
}

// SetLogger sets the logger whose level decides whether progress shows:
// the log lines are Info records, and the bar shows only when Info does.
func (v *View) SetLogger(log *slog.Logger) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.log = log
}

type barSafe struct{ v *View }

func (b barSafe) Write(p []byte) (int, error) {
	b.v.mu.Lock()
	defer b.v.mu.Unlock()
	if b.v.pb != nil && !b.v.finished {
		b.v.pb.Clear()
	}
	return b.v.out.Write(p)
}

// Report implements progress.Reporter.
func (v *View) Report(u progress.Update) {
	if v == nil || v.every <= 0 || u.Total <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.log == nil || !v.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	now := v.now()
	if u.Stage != v.stage || u.Total != v.lastTotal {
		v.closeBar()
		v.stage, v.t0, v.done0, v.last, v.finished, v.lastTotal = u.Stage, now, u.Done, now, false, u.Total
		if v.bar {
			v.pb = newBar(v.out, v.describe(u), u)
		}
	}
	if v.finished {
		return
	}
	done := min(u.Done, u.Total)
	complete := done == u.Total
	if v.bar {
		if complete || now.Sub(v.last) >= barRefresh {
			v.pb.Describe(v.describe(u))
			v.last = now
		}
		v.pb.Set64(done)
		v.finished = complete
		return
	}
	if !complete && now.Sub(v.last) < v.every {
		return
	}
	v.last = now
	elapsed := now.Sub(v.t0)
	attrs := []any{"stage", u.Stage, unitKey(u.Unit), done, "of", u.Total,
		"percent", sig(100*float64(done)/float64(u.Total), 3)}
	if complete {
		v.finished = true
		attrs = append(attrs, "elapsed", roundDuration(elapsed))
		v.log.Info("progress: done", append(attrs, values(u.Values)...)...)
		return
	}
	if rate := float64(done-v.done0) / elapsed.Seconds(); rate > 0 {
		eta := time.Duration(float64(u.Total-done) / rate * float64(time.Second))
		attrs = append(attrs, "per_second", sig(rate, 3), "eta", roundDuration(eta))
	}
	v.log.Info("progress", append(attrs, values(u.Values)...)...)
}

// Close ends a bar that is still drawn (a stage that stopped early), so
// that what follows starts on a new line.
func (v *View) Close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closeBar()
}

func (v *View) closeBar() {
	if v.pb != nil && !v.finished {
		v.pb.Exit()
		fmt.Fprintln(v.out)
	}
	v.pb = nil
}

func newBar(w io.Writer, desc string, u progress.Update) *progressbar.ProgressBar {
	unit := u.Unit
	if unit == "" {
		unit = "it"
	}
	return progressbar.NewOptions64(u.Total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(barRefresh),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// barStats is about the width of what the bar draws before its
// description: percent, bar, count, rate and times.
const barStats = 72

// describe is the bar's text: the stage and the values, cut to what fits
// beside the bar on the terminal (a wrapped line could not be redrawn).
func (v *View) describe(u progress.Update) string {
	var b strings.Builder
	b.WriteString(u.Stage)
	for _, x := range u.Values {
		if math.IsNaN(x.Value) {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", x.Name, strconv.FormatFloat(x.Value, 'g', 4, 64))
	}
	s := b.String()
	if r := []rune(s); v.cols > 0 && len(r) > max(v.cols-barStats, 10) {
		s = string(r[:max(v.cols-barStats, 10)])
	}
	return s
}

// values turns an Update's values into slog attributes, leaving out the
// ones not known yet.
func values(vs []progress.Value) []any {
	var out []any
	for _, x := range vs {
		if !math.IsNaN(x.Value) {
			out = append(out, slog.Float64(x.Name, sig(x.Value, 4)))
		}
	}
	return out
}

func unitKey(unit string) string {
	if unit == "" {
		return "done"
	}
	return unit
}

// roundDuration rounds d to what a reader needs: whole seconds from a
// minute on, tenths of a second from a second on, else milliseconds.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// sig rounds x to d significant digits (for readable log lines).
func sig(x float64, d int) float64 {
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', d, 64), 64)
	return y
}
