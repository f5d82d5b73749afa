package progressview

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eandarn/eandarn/solver/progress"
)

// clock is a fake time source advanced by the test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// logView returns a log-mode View on a buffer at level with a fake clock.
func logView(level slog.Level, every time.Duration) (*View, *bytes.Buffer, *clock) {
	var b bytes.Buffer
	v := newView(&b, every, false)
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v.now = c.now
	v.SetLogger(slog.New(slog.NewTextHandler(v.Writer(), &slog.HandlerOptions{Level: level})))
	return v, &b, c
}

func step(done int64, loss float64) progress.Update {
	return progress.Update{Stage: "training", Done: done, Total: 1000, Unit: "step",
		Values: []progress.Value{{Name: "loss_data", Value: loss}, {Name: "re_monitor", Value: math.NaN()}}}
}

// TestLogLines: one line per period with count, rate, ETA and values (NaN
// left out), none in between, a final line at completion, nothing after.
func TestLogLines(t *testing.T) {
	v, b, c := logView(slog.LevelInfo, 10*time.Second)
	v.Report(step(0, 1)) // starts the stage at t = 0
	for s := int64(1); s <= 1000; s++ {
		c.t = c.t.Add(100 * time.Millisecond) // 10 steps/s
		v.Report(step(s, 1/float64(s)))
	}
	v.Report(step(1000, 0)) // after completion: ignored
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 9 progress lines and 1 done line:\n%s", len(lines), b.String())
	}
	first := lines[0]
	for _, want := range []string{"msg=progress", "stage=training", "step=100 ", "of=1000", "percent=10", "per_second=10", "eta=1m30s", "loss_data=0.01"} {
		if !strings.Contains(first, want) {
			t.Errorf("first line lacks %q: %s", want, first)
		}
	}
	if strings.Contains(b.String(), "re_monitor") {
		t.Errorf("a NaN value was printed:\n%s", b.String())
	}
	// At a steady 10 steps/s the ETA falls by the period at every line.
	for i, line := range lines[:9] {
		if want := fmt.Sprintf("eta=%ds", 90-10*i); !strings.Contains(line, want+" ") && !strings.Contains(line, fmt.Sprintf("eta=1m%ds", 30-10*i)) {
			t.Errorf("line %d: want %s: %s", i+1, want, line)
		}
	}
	last := lines[9]
	if !strings.Contains(last, `msg="progress: done"`) || !strings.Contains(last, "elapsed=1m40s") || !strings.Contains(last, "step=1000 ") {
		t.Errorf("last line: %s", last)
	}
}

// TestResumedStage: the rate counts the steps done since the stage started
// here, not those of an earlier run.
func TestResumedStage(t *testing.T) {
	v, b, c := logView(slog.LevelInfo, time.Second)
	v.Report(step(500, 1))
	c.t = c.t.Add(2 * time.Second)
	v.Report(step(520, 1)) // 10 steps/s since the resume: 480 left = 48 s
	if !strings.Contains(b.String(), "per_second=10 ") || !strings.Contains(b.String(), "eta=48s") {
		t.Errorf("resumed stage: %s", b.String())
	}
}

// TestSilenced: -log-level warn shows no progress, and period 0 none at all.
func TestSilenced(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		every time.Duration
	}{{slog.LevelWarn, time.Second}, {slog.LevelInfo, 0}} {
		v, b, c := logView(tc.level, tc.every)
		for s := int64(0); s <= 1000; s++ {
			c.t = c.t.Add(time.Second)
			v.Report(step(s, 1))
		}
		if b.Len() != 0 {
			t.Errorf("level %v, every %v: wrote %q", tc.level, tc.every, b.String())
		}
	}
}

// TestBar: on a terminal the View draws a bar with the count, the rate and
// the ETA, the stage and its values; a log line written meanwhile erases
// the bar first, and a new stage starts a new bar.
func TestBar(t *testing.T) {
	var b bytes.Buffer
	v := newView(&b, DefaultEvery, true)
	v.SetLogger(slog.New(slog.NewTextHandler(v.Writer(), nil)))
	v.Report(step(0, 1))
	for s := int64(1); s <= 400; s++ {
		v.Report(step(s, 0.5))
		time.Sleep(2 * time.Millisecond) // the bar redraws at most every 200 ms
	}
	out := b.String()
	// progressbar draws "(done/total, rate unit/s) [elapsed:remaining]".
	if !regexp.MustCompile(`\(\d+/1000, [\d.]+ step/s\) \[\d+s:\d+s\]`).MatchString(out) {
		t.Errorf("bar lacks count, rate or ETA:\n%q", out)
	}
	for _, want := range []string{"training loss_data=0.5", "/1000", "step/s", "%"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar lacks %q:\n%q", want, out)
		}
	}
	b.Reset()
	slog.New(slog.NewTextHandler(v.Writer(), nil)).Info("hello")
	if s := b.String(); !strings.HasPrefix(s, "\r") || !strings.Contains(s, "msg=hello") {
		t.Errorf("log line during a bar: %q, want the bar erased first", s)
	}
	b.Reset()
	v.Report(progress.Update{Stage: "stre search", Done: 1, Total: 2, Unit: "point"})
	v.Report(progress.Update{Stage: "stre search", Done: 2, Total: 2, Unit: "point"})
	if s := b.String(); !strings.HasPrefix(s, "\n") || !strings.Contains(s, "stre search") || !strings.Contains(s, "2/2") {
		t.Errorf("new stage: %q, want the old bar ended and a new one drawn to completion", s)
	}
	v.Close()
}

// TestBarFitsTerminal: on a narrow terminal the description is cut so the
// bar's line never wraps (a wrapped line could not be redrawn in place).
func TestBarFitsTerminal(t *testing.T) {
	var b bytes.Buffer
	v := newView(&b, DefaultEvery, true)
	v.cols = 100
	v.SetLogger(slog.New(slog.NewTextHandler(v.Writer(), nil)))
	for s := int64(0); s <= 1000; s += 100 {
		u := step(s, 0.123456789)
		u.Values = append(u.Values, progress.Value{Name: "loss_ep", Value: 0.00123456}, progress.Value{Name: "lr", Value: 0.00456789},
			progress.Value{Name: "epoch", Value: 117})
		v.Report(u)
	}
	for _, seg := range strings.FieldsFunc(b.String(), func(r rune) bool { return r == '\r' || r == '\n' }) {
		if n := len([]rune(strings.TrimRight(seg, " "))); n > 100 {
			t.Errorf("a %d-column line on a 100-column terminal: %q", n, seg)
		}
	}
	if !strings.Contains(b.String(), "training loss_data") {
		t.Errorf("no description: %q", b.String())
	}
}
