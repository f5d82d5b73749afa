package kernels

import (
	"errors"
	"strings"
	"testing"
)

// TestParallelForPanic: a panic in a worker reaches the caller, where a
// deferred recover (the binaries' one line and exit status 1) catches it,
// instead of ending the process with a stack trace from the worker.
func TestParallelForPanic(t *testing.T) {
	for _, workers := range []int{1, 4} {
		got := func() (v any) {
			defer func() { v = recover() }()
			ParallelFor(100, workers, func(_, i int) {
				if i == 57 {
					panic("item 57")
				}
			})
			return nil
		}()
		var p *Panic
		switch {
		case workers == 1 && got != "item 57":
			t.Errorf("1 worker: recovered %v, want the panic itself", got)
		case workers > 1 && (!errors.As(asError(got), &p) || p.Value != "item 57" || !strings.Contains(string(p.GoroutineStack()), "TestParallelForPanic")):
			t.Errorf("%d workers: recovered %#v, want a *Panic carrying the value and the worker's stack", workers, got)
		}
	}
	// Every item still runs once when nothing panics.
	seen := make([]int, 1000)
	ParallelFor(len(seen), 7, func(_, i int) { seen[i]++ })
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("item %d ran %d times", i, n)
		}
	}
}

// TestGo: the channel of Go receives nil after a normal return and the
// panic otherwise.
func TestGo(t *testing.T) {
	x := 0
	if p := <-Go(func() { x = 1 }); p != nil || x != 1 {
		t.Errorf("normal return: %v, x = %d", p, x)
	}
	if p := <-Go(func() { panic(errors.New("boom")) }); p == nil || p.Error() != "boom" {
		t.Errorf("panic: %v, want the panic carried over", p)
	}
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}
