package main

import (
	"log/slog"
	"slices"

	"github.com/eandarn/eandarn/solver/inverse"
)

// method is one registry entry: a name for -method, one line of
// description for -methods, the method-specific flags it accepts, and the
// constructor from a validated config. Adding a method to eandarn-batch is
// one line in registry.
type method struct {
	name  string
	doc   string
	flags []string
	build func(c *config, log *slog.Logger) (inverse.Method, error)
}

// Method-specific flags; a flag of one family given with a method of
// another is refused rather than silently ignored.
var (
	tikhonovFlags = []string{"lambda", "select", "sigma"}
	streFlags     = []string{"lambda-s", "lambda-t", "window", "select"}
	pinnFlagNames = func() []string {
		names := []string{"resume"}
		for _, f := range pinnFlags() {
			names = append(names, f.name)
		}
		return names
	}()
)

// registry lists every method eandarn-batch knows, in -methods order.
var registry = []method{
	{"tikhonov0", "Tikhonov order 0 (Γ = I), one λ for the recording by -select, SVD", tikhonovFlags, tikhonov(0)},
	{"tikhonov1", "Tikhonov order 1 (Γ = surface gradient), one λ by -select, GSVD", tikhonovFlags, tikhonov(1)},
	{"tikhonov2", "Tikhonov order 2 (Γ = mesh Laplacian, Eq. 15), one λ by -select, GSVD", tikhonovFlags, tikhonov(2)},
	{"stre", "spatio-temporal regularization: Laplacian in space + window in time, (λs, λt, w) by -select (guarded or gcv)", streFlags, stre},
	{"epdl-ad", "EP-DL_AD: FNN 10x10, physics loss with AD Laplacian and time derivative, r_b on", pinnFlagNames, pinnMethod},
	{"epdl-dnd", "EP-DL_ΔND: FNN 10x10, ND Laplacian (Eq. 15), AD time derivative", pinnFlagNames, pinnMethod},
	{"epdl-nd", "EP-DL_ND: FNN 10x10, ND Laplacian (Eq. 15) and time derivative (Eq. 17–18)", pinnFlagNames, pinnMethod},
	{"eandarn", "EAND-ARN: ARN NN6 (10 layers x 15, 3 blocks), ND Laplacian and time derivative, λ = 0.1", pinnFlagNames, pinnMethod},
}

// lookupMethod returns the registry entry of name, or nil.
func lookupMethod(name string) *method {
	for i := range registry {
		if registry[i].name == name {
			return &registry[i]
		}
	}
	return nil
}

// methodNames lists the registered names in registry order.
func methodNames() []string {
	names := make([]string, len(registry))
	for i, m := range registry {
		names[i] = m.name
	}
	return names
}

// flagOwners returns the methods that accept a method-specific flag, or
// nil for a flag every method accepts.
func flagOwners(flag string) []string {
	var owners []string
	for _, m := range registry {
		if slices.Contains(m.flags, flag) {
			owners = append(owners, m.name)
		}
	}
	return owners
}
