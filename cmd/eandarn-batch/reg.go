package main

import (
	"log/slog"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/reg"
)

// regOptions maps the flags to the regularization options: a fixed λ or
// the -select rule (the discrepancy principle gets σ = -noise, the noise
// this job adds), and fixed or GCV-chosen STRE weights and window.
func regOptions(c *config) reg.Options {
	return reg.Options{
		Lambda:  c.lambda,
		Select:  c.Select,
		Sigma:   c.Noise,
		LambdaS: c.LambdaS,
		LambdaT: c.LambdaT,
		Window:  c.Window,
	}
}

// tikhonov returns the constructor of Tikhonov regularization of an order.
func tikhonov(order int) func(*config, *slog.Logger) (inverse.Method, error) {
	return func(c *config, _ *slog.Logger) (inverse.Method, error) {
		return reg.NewTikhonov(order, regOptions(c))
	}
}

func stre(c *config, _ *slog.Logger) (inverse.Method, error) {
	return reg.NewSTRE(regOptions(c))
}
