package main

import (
	"log/slog"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/pinn"
	"github.com/eandarn/eandarn/solver/reg"
)

// pinnUnits wraps a PINN method in the units rule (pinn.Units): on a run
// file in mV or uV it trains on the data mapped into the model's normalized
// units by an affine link estimated from a Tikhonov-2 reconstruction with
// the default λ rule, and writes the reconstruction back in the file's
// units; on normalized data it is the method itself. The baseline's
// warnings (its λ rules) go to log, marked as the baseline's, at the job's
// -log-level.
func pinnUnits(m inverse.Method, log *slog.Logger) (inverse.Method, error) {
	base, err := reg.NewTikhonov(2, reg.Options{Logger: log.With("step", "units link baseline (tikhonov2)")})
	if err != nil {
		return nil, err
	}
	return &pinn.Units{Method: m, Baseline: base, Logger: log}, nil
}
