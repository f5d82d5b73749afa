package pinn

import (
	"context"
	"math"

	"github.com/eandarn/eandarn/solver/progress"
)

// report tells the context's progress.Reporter how far training is: the
// optimizer steps done of epochs × ⌈T/B⌉ (reportEpochs), the epoch (1-based), the running
// means of the epoch's L_D and L_EP so far, the learning rate of the step
// and the last RE monitor (NaN, not shown, before the first or without
// truth). It allocates the Values of the Update (a Reporter may keep
// them) and nothing else.
func (tr *trainer) report(ctx context.Context, lr float64) {
	st := tr.st
	T, B := tr.obj.T, tr.cfg.BatchFrames
	n := float64(max(st.EpN, 1))
	re := math.NaN()
	if k := len(st.REMonitor); k > 0 {
		re = st.REMonitor[k-1]
	}
	progress.FromContext(ctx).Report(progress.Update{
		Stage: tr.stage,
		Done:  int64(st.Step),
		Total: int64(tr.reportEpochs()) * int64((T+B-1)/B),
		Unit:  "step",
		Values: []progress.Value{
			{Name: "epoch", Value: float64(st.Epoch + 1)},
			{Name: "loss_data", Value: st.EpLD / n},
			{Name: "loss_ep", Value: st.EpLEP / n},
			{Name: "lr", Value: lr},
			{Name: "re_monitor", Value: re},
		},
	})
}

// reportEpochs is the number of epochs progress counts towards: the run's,
// or, in epoch 0 of a run whose time budget has yet to plan its horizon,
// that one epoch (the budget's cap on epochs is no estimate).
func (tr *trainer) reportEpochs() int {
	if !tr.run.Deadline.IsZero() && tr.st.Horizon == 0 && tr.cfg.LRHorizon == 0 && tr.st.Epoch == 0 {
		return 1
	}
	return tr.epochs()
}
