package kernels

import (
	"sync"
	"sync/atomic"
)

// ParallelFor calls fn(worker, i) for every i < count on min(workers, count)
// goroutines (worker < workers identifies the goroutine, for scratch
// buffers). Items are handed out in increasing order, each exactly once; the
// order of completion is not fixed, so fn must write disjoint outputs.
func ParallelFor(count, workers int, fn func(worker, i int)) {
	nw := min(workers, count)
	if nw <= 1 {
		for i := range count {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}
