package progress

import "sync"

// Record is a Reporter that keeps every Update, for tests of the code that
// reports.
type Record struct {
	mu      sync.Mutex
	Updates []Update
}

// Report implements Reporter.
func (r *Record) Report(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Updates = append(r.Updates, u)
}
