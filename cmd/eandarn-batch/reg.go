package main

import (
	"log/slog"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/reg"
)

// regOptions maps the flags to the regularization options: a fixed λ or
// the -select rule (the discrepancy principle gets σ = √(sigma² + noise²):
// the known noise of the data plus the noise this job adds), and fixed or
// automatically chosen STRE weights and window.
func regOptions(c *config, log *slog.Logger) reg.Options {
	return reg.Options{
		Lambda:  c.lambda,
		Select:  c.Select,
		Sigma:   c.noiseLevel(),
		LambdaS: c.LambdaS,
		LambdaT: c.LambdaT,
		Window:  c.Window,
		Logger:  log,
	}
}

// tikhonov returns the constructor of Tikhonov regularization of an order.
func tikhonov(order int) func(*config, *slog.Logger) (inverse.Method, error) {
	return func(c *config, log *slog.Logger) (inverse.Method, error) {
		return reg.NewTikhonov(order, regOptions(c, log))
	}
}

func stre(c *config, log *slog.Logger) (inverse.Method, error) {
	return reg.NewSTRE(regOptions(c, log))
}
