package kernels

import (
	"errors"
	"fmt"
	"testing"
)

// panicTask panics at item at.
type panicTask struct{ at int }

func (t *panicTask) run(_, i int) {
	if i == t.at {
		panic(fmt.Sprint("item ", i))
	}
}

// countTask counts the items it ran.
type countTask struct{ seen []int }

func (t *countTask) run(_, i int) { t.seen[i]++ }

// TestPoolPanic: a panic in a task reaches the caller of run (as a *Panic
// carrying the value), whichever worker raised it, and the pool keeps
// working afterwards.
func TestPoolPanic(t *testing.T) {
	p := newPool(3)
	defer p.close()
	for _, at := range []int{0, 57, 99} {
		got := func() (v any) {
			defer func() { v = recover() }()
			p.run(100, &panicTask{at})
			return nil
		}()
		var pn *Panic
		if !errors.As(asError(got), &pn) || pn.Value != fmt.Sprint("item ", at) {
			t.Errorf("panic at %d: recovered %#v", at, got)
		}
	}
	c := &countTask{seen: make([]int, 1000)}
	p.run(len(c.seen), c)
	for i, n := range c.seen {
		if n != 1 {
			t.Fatalf("after the panics: item %d ran %d times", i, n)
		}
	}
}
