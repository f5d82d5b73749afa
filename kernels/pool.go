package kernels

import (
	"sync"
	"sync/atomic"
)

// task is a parallel loop body: run(worker, i) handles item i on worker
// worker (< the pool's workers, for per-worker scratch). The CPU backend
// keeps one task value per op and pass object and reuses it, so issuing a
// parallel loop allocates nothing.
type task interface {
	run(worker, i int)
}

// pool runs tasks on a fixed set of goroutines started once: the caller is
// worker 0 and workers−1 helpers wait on their channels between runs. Items
// are handed out in increasing order, each exactly once; the order of
// completion is not fixed, so a task must write disjoint outputs. A pool
// runs one task at a time (a Backend is used from one goroutine at a time).
type pool struct {
	workers int
	wake    []chan struct{}
	done    chan struct{}
	stop    sync.Once

	t     task
	count int
	next  atomic.Int64
}

func newPool(workers int) *pool {
	p := &pool{workers: workers, done: make(chan struct{}, workers)}
	for w := 1; w < workers; w++ {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.helper(w, ch)
	}
	return p
}

func (p *pool) helper(w int, wake chan struct{}) {
	for range wake {
		p.work(w)
		p.done <- struct{}{}
	}
}

func (p *pool) work(w int) {
	for {
		i := int(p.next.Add(1) - 1)
		if i >= p.count {
			return
		}
		p.t.run(w, i)
	}
}

// run calls t.run(worker, i) for every i < count on min(workers, count)
// goroutines and returns when all are done.
func (p *pool) run(count int, t task) {
	nw := min(p.workers, count)
	if nw <= 1 {
		for i := range count {
			t.run(0, i)
		}
		return
	}
	p.t, p.count = t, count
	p.next.Store(0)
	for w := 1; w < nw; w++ {
		p.wake[w-1] <- struct{}{}
	}
	p.work(0)
	for w := 1; w < nw; w++ {
		<-p.done
	}
	p.t = nil
}

// close ends the helpers.
func (p *pool) close() {
	p.stop.Do(func() {
		for _, ch := range p.wake {
			close(ch)
		}
	})
}
