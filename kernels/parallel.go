package kernels

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// Panic is a panic raised in a goroutine started by Go (or a worker of
// ParallelFor), carried to the goroutine that waits for it and raised there
// again. A panic ends the whole process where it happens, out of reach of
// the recover that turns a panic of the main goroutine into one line and
// exit status 1 (cmd/internal/cli); carried over, it reaches that recover.
type Panic struct {
	Value any    // what the goroutine panicked with
	Stack []byte // the goroutine's stack when it panicked
}

func (p *Panic) Error() string { return fmt.Sprint(p.Value) }

// GoroutineStack returns the stack of the goroutine that panicked, for a
// trace at debug level.
func (p *Panic) GoroutineStack() []byte { return p.Stack }

// Go runs fn in a new goroutine. The returned channel receives nil when fn
// returns, or the *Panic it raised; the waiter raises it again with
// panic(p). The channel is buffered, so an abandoned goroutine still ends.
func Go(fn func()) <-chan *Panic {
	done := make(chan *Panic, 1)
	go func() {
		var p *Panic
		defer func() { done <- p }()
		defer func() {
			if v := recover(); v != nil {
				p = &Panic{Value: v, Stack: debug.Stack()}
			}
		}()
		fn()
	}()
	return done
}

// ParallelFor calls fn(worker, i) for every i < count on min(workers, count)
// goroutines (worker < workers identifies the goroutine, for scratch
// buffers). Items are handed out in increasing order, each exactly once; the
// order of completion is not fixed, so fn must write disjoint outputs. A
// panic of fn in a worker is raised again in the caller (as a *Panic) once
// every worker has stopped.
func ParallelFor(count, workers int, fn func(worker, i int)) {
	nw := min(workers, count)
	if nw <= 1 {
		for i := range count {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	done := make([]<-chan *Panic, nw)
	for w := range nw {
		done[w] = Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				fn(w, i)
			}
		})
	}
	var first *Panic
	for _, d := range done {
		if p := <-d; p != nil && first == nil {
			first = p
		}
	}
	if first != nil {
		panic(first)
	}
}
