package hostile

import (
	"math"
	"os"
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
	ensemble := func(in, out string) []string {
		return append([]string{"-in", in, "-out", out, "-checkpoint", "ck", "-ensemble", "2"}, pinnArgs...)
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
		// Only -checkpoint ck itself was checked, but an ensemble writes
		// ck.member<k>: member 1's checkpoint replaced the input, exit
		// status 0; the result replaced member 1's checkpoint; a folder
		// there failed after the training, exit status 1.
		{name: "ensemble_member_checkpoint_is_input", prog: "batch", want: "ensemble member 1's checkpoint ck.member1 is the same file as the input -in ck.member1",
			setup: func(w *work) []string {
				b, err := os.ReadFile(w.path("run.h5"))
				must(w.t, err)
				must(w.t, os.WriteFile(w.path("ck.member1"), b, 0o644))
				return ensemble("ck.member1", "r.h5")
			}},
		{name: "ensemble_member_checkpoint_is_out", prog: "batch", want: "-out ck.member1 and ensemble member 1's checkpoint ck.member1 are the same file",
			setup: func(w *work) []string { return ensemble("run.h5", "ck.member1") }},
		{name: "ensemble_member_checkpoint_folder", prog: "batch", want: "ensemble member 0's checkpoint ck.member0 is a folder, want a file name",
			setup: func(w *work) []string {
				must(w.t, os.Mkdir(w.path("ck.member0"), 0o755))
				return ensemble("run.h5", "r.h5")
			}},
	}
}
