package hostile

import (
	"math"
)

// This file holds the classes of a fourth audit: files edited by hand or
// damaged where a load cannot tell (a checkpoint whose hash still matches
// but whose numbers no run writes), and the files an ensemble writes
// beside the ones named on the command line. Each failed on the code
// before its fix (as its comment says).

// editedCases are the refusals of the fourth audit; TestCorpus runs them
// with the others.
func editedCases() []hostileCase {
	resume := func(extra ...string) []string {
		return append(append([]string{"-in", "run.h5", "-out", "res.h5", "-checkpoint", "ck.gob", "-resume"}, pinnArgs...), extra...)
	}
	return []hostileCase{
		// A NaN loss and an infinite ratio0 from the checkpoint were
		// written into the result (ratio0 +Inf also made it a bad
		// initialization), exit status 0.
		{name: "checkpoint_loss_history_NaN", prog: "batch", want: "resume ck.gob: checkpoint state: data-loss history: want finite values ≥ 0, got NaN at [0]",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(c *ck) { c.LossData[0] = math.NaN() })
				return resume()
			}},
		{name: "checkpoint_ratio0_Inf", prog: "batch", want: "checkpoint state: initial loss ratio +Inf: want a finite value ≥ 0",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(c *ck) { c.Ratio0 = math.Inf(1) })
				return resume()
			}},
		// Trained from NaN weights into a rollback, exit status 0.
		{name: "checkpoint_weights_NaN", prog: "batch", want: "checkpoint state: network weights: want finite values, got NaN at [3]",
			setup: func(w *work) []string {
				craftCheckpoint(w, func(c *ck) { c.Params[3] = math.NaN() })
				return resume()
			}},
	}
}
