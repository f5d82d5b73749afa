// Package progress is how long-running solver code says how far it has
// come, without printing: a solver reports Updates to the Reporter carried
// by its context, and the command that started it decides how to show
// them (cmd/internal/progressview: a live bar on a terminal, a log line
// every few seconds otherwise, nothing at all without a Reporter).
//
// Reporting is cheap and never fails, so a solver may report as often as
// once per optimizer step: a Reporter must return quickly, throttle its own
// output and be safe for concurrent use (the BEM assembly reports from
// several goroutines).
package progress

import "context"

// Update is the state of one long step at one moment.
type Update struct {
	// Stage names the long step ("training", "stre search", "bem", ...).
	// A new Stage starts a new count, rate and ETA.
	Stage string
	// Done of Total units of work are finished (0 ≤ Done ≤ Total); the
	// ETA assumes every unit costs the same.
	Done, Total int64
	// Unit names one unit of work ("step", "row", "point", "task").
	Unit string
	// Values are the quantities worth watching, in the order to show them
	// (epoch, loss terms, learning rate, ...). A NaN value is not known yet.
	Values []Value
}

// Value is one named quantity of an Update.
type Value struct {
	Name  string
	Value float64
}

// Reporter receives Updates.
type Reporter interface {
	Report(Update)
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries r.
func NewContext(ctx context.Context, r Reporter) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the Reporter that ctx carries, or one that discards
// every Update.
func FromContext(ctx context.Context) Reporter {
	if r, ok := ctx.Value(ctxKey{}).(Reporter); ok && r != nil {
		return r
	}
	return discard{}
}

type discard struct{}

func (discard) Report(Update) {}
