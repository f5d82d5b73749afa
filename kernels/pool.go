package kernels

import (
	"runtime/debug"
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
// A panic in a task is carried to the caller of run, as ParallelFor does,
// and the helpers live on.
type pool struct {
	workers int
	wake    []chan struct{}
	done    chan *Panic
	stop    sync.Once

	t     task
	count int
	next  atomic.Int64
}

func newPool(workers int) *pool {
	p := &pool{workers: workers, done: make(chan *Panic, workers)}
	for w := 1; w < workers; w++ {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.helper(w, ch)
	}
	return p
}

func (p *pool) helper(w int, wake chan struct{}) {
	for range wake {
		p.done <- p.safeWork(w)
	}
}

// safeWork runs work and returns the panic it raised, if any (after which
// the remaining items are skipped).
func (p *pool) safeWork(w int) (pn *Panic) {
	defer func() {
		if v := recover(); v != nil {
			pn = &Panic{Value: v, Stack: debug.Stack()}
			p.next.Store(int64(p.count))
		}
	}()
	p.work(w)
	return nil
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
// goroutines and returns when all are done. A panic of t is raised again
// here (as a *Panic when it happened on a helper) once every worker has
// stopped.
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
	first := p.safeWork(0)
	for w := 1; w < nw; w++ {
		if pn := <-p.done; pn != nil && first == nil {
			first = pn
		}
	}
	p.t = nil
	if first != nil {
		panic(first)
	}
}

// close ends the helpers.
func (p *pool) close() {
	p.stop.Do(func() {
		for _, ch := range p.wake {
			close(ch)
		}
	})
}
