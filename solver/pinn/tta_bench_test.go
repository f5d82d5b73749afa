package pinn

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
	"testing"
	"time"

	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/progress"
)

// epochClock is a progress.Reporter that notes the wall-clock time at which
// each epoch ends (the first report of the next epoch) and the RE monitor
// that epoch recorded: the time-to-accuracy curve of one training.
type epochClock struct {
	mu     sync.Mutex
	start  time.Time
	epoch  float64
	points []ttaPoint
}

type ttaPoint struct {
	epoch   int
	seconds float64
	re      float64
}

func (c *epochClock) Report(u progress.Update) {
	var epoch, re float64
	for _, v := range u.Values {
		switch v.Name {
		case "epoch":
			epoch = v.Value
		case "re_monitor":
			re = v.Value
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch > c.epoch && epoch > 1 && !math.IsNaN(re) {
		c.points = append(c.points, ttaPoint{int(epoch) - 1, time.Since(c.start).Seconds(), re})
	}
	c.epoch = max(c.epoch, epoch)
}

// at returns the last point reached by t seconds (RE NaN before any).
func (c *epochClock) at(t float64) ttaPoint {
	p := ttaPoint{re: math.NaN()}
	for _, q := range c.points {
		if q.seconds <= t {
			p = q
		}
	}
	return p
}

// BenchmarkTimeToAccuracy trains eandarn with its default settings on the
// default dataset (σ = 0.01) under time budgets (-time-budget: the budget
// plans the learning-rate horizon after epoch 0) and reports, per budget
// and seed, the final RE against the truth (the truth is used for the
// metric only), the epochs trained and their horizon, and the curve of the
// RE monitor against wall-clock and epochs: RE reached by 1, 2, 5 and 10
// minutes inside the longest budget's run (a shorter budget's own run
// decays its learning rate sooner, so its final RE is the better measure
// of what that budget buys). It runs only with EANDARN_TTA=1 (make
// bench-time-to-accuracy): EANDARN_TTA_BUDGETS (default 1m,2m,5m,10m) and
// EANDARN_TTA_SEEDS (default 1) choose the runs; each run is one
// sub-benchmark with -benchtime 1x.
func BenchmarkTimeToAccuracy(b *testing.B) {
	if os.Getenv("EANDARN_TTA") != "1" {
		b.Skip("time to accuracy trains for minutes per budget: set EANDARN_TTA=1 (make bench-time-to-accuracy)")
	}
	budgets := strings.Split(envOr("EANDARN_TTA_BUDGETS", "1m,2m,5m,10m"), ",")
	seeds := strings.Split(envOr("EANDARN_TTA_SEEDS", "1"), ",")
	var summary []string
	for _, bs := range budgets {
		budget, err := time.ParseDuration(bs)
		if err != nil {
			b.Fatal(err)
		}
		for _, ss := range seeds {
			seed, err := strconv.ParseUint(ss, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("budget=%v/seed=%d", budget, seed), func(b *testing.B) {
				for range b.N {
					p := noisy(b, 0.01, seed)
					cfg, _ := DefaultConfig("eandarn")
					cfg.Seed, cfg.Epochs = seed, 1_000_000 // the budget alone sets the epochs
					run := DefaultRun()
					run.Device = benchDevice()
					run.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
					clock := &epochClock{start: time.Now()}
					run.Deadline = clock.start.Add(budget)
					ctx := progress.NewContext(context.Background(), clock)
					r, err := (&Method{Config: cfg, Run: run}).Solve(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					re := metrics.RE(r.U, p.TruthU)
					took := time.Since(clock.start).Seconds()
					b.ReportMetric(re, "RE")
					b.ReportMetric(r.Values["epochs"], "epochs")
					b.ReportMetric(took, "s")
					line := fmt.Sprintf("budget %v seed %d: RE %.4f after %v epochs (horizon %v) in %.0f s; load %s", budget, seed, re, r.Values["epochs"], r.Values["lr_horizon"], took, loadavg())
					curve := []string{}
					for _, m := range []float64{1, 2, 5, 10} {
						if q := clock.at(60 * m); m*60 <= budget.Seconds() && !math.IsNaN(q.re) {
							curve = append(curve, fmt.Sprintf("%g min: RE %.4f (epoch %d)", m, q.re, q.epoch))
						}
					}
					line += "\n    monitor: " + strings.Join(curve, ", ")
					fmt.Println(line) // as each run ends: a benchmark's b.Log is not shown without -v
					summary = append(summary, line)
				}
			})
		}
	}
	fmt.Println("time to accuracy, eandarn defaults, default dataset, σ = 0.01:\n" + strings.Join(summary, "\n"))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// loadavg is the 1-minute load average (Linux), to say how loaded the
// machine was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
