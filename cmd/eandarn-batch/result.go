package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/solver/inverse"
)

// writeResult writes the result file of one job atomically. Layout (h5py
// names; n heart nodes, T frames):
//
//	reconstruction/u        n x T   reconstructed heart-surface potential
//	reconstruction/v        n x T   recovery variable (PINN methods only)
//	reconstruction/time     T       frame times (AP units)
//	metrics/re, cc, mse     scalar  Eq. 19–21 against truth/u (only with truth)
//	metrics/frame_re        T       RE of each frame
//	metrics/frame_cc        T       CC of each frame
//	values/<name>           scalar  the method's chosen parameters and
//	                                diagnostics (lambda, lambda_gcv, lambda_s,
//	                                lambda_t, window, ratio0, bad_init, ...)
//	series/<name>           vector  its curves (lambda_grid, gcv,
//	                                lcurve_residual, lcurve_seminorm, loss_data,
//	                                loss_ep, re_monitor, alpha_<b>, ...)
//	timing/load_s, solve_s, metrics_s, total_s   scalar  wall seconds
//
// plus the activation map and the activation and region scores of
// clinical.write, and an ensemble's u_std and scores (ensembleScores.write).
//
// Root attributes (text): method, version, seed, noise, input (the run
// file), units, created (UTC, RFC 3339), config (JSON: {"batch": every flag,
// "method": the method's full configuration}) and input_attrs (JSON: the
// run file's provenance attributes).
func writeResult(c *config, p *inverse.Problem, res *inverse.Result, sc *scores, cl *clinical, ens *ensembleScores, tm *timings) error {
	f := resultfile.New()
	f.Matrices["reconstruction/u"] = res.U
	if res.V != nil {
		f.Matrices["reconstruction/v"] = res.V
	}
	f.Vectors["reconstruction/time"] = p.Time
	if sc != nil {
		f.Scalars["metrics/re"] = sc.re
		f.Scalars["metrics/cc"] = sc.cc
		f.Scalars["metrics/mse"] = sc.mse
		f.Vectors["metrics/frame_re"] = sc.frameRE
		f.Vectors["metrics/frame_cc"] = sc.frameCC
	}
	cl.write(f, p)
	ens.write(f, res)
	for k, v := range res.Values {
		f.Scalars["values/"+k] = v
	}
	for k, v := range res.Series {
		f.Vectors["series/"+k] = v
	}
	f.Scalars["timing/load_s"] = tm.load
	f.Scalars["timing/solve_s"] = tm.solve
	f.Scalars["timing/metrics_s"] = tm.metrics
	f.Scalars["timing/total_s"] = tm.total

	f.Attrs["method"] = c.Method
	f.Attrs["version"] = cli.BuildVersion()
	f.Attrs["seed"] = strconv.FormatUint(c.Seed, 10)
	f.Attrs["noise"] = strconv.FormatFloat(c.Noise, 'g', -1, 64)
	f.Attrs["input"] = c.In
	f.Attrs["units"] = p.Attrs["units"]
	f.Attrs["created"] = time.Now().UTC().Format(time.RFC3339)
	f.Attrs["config"] = jsonText(map[string]any{"batch": c, "method": res.Config})
	f.Attrs["input_attrs"] = jsonText(p.Attrs)
	f.Attrs["device"] = c.device.Device
	if c.device.Card != "" {
		f.Attrs["device_name"] = c.device.Card
	}
	return resultfile.Save(c.Out, f)
}

// jsonText renders v as JSON; a value JSON cannot hold (a NaN in a method's
// configuration) falls back to Go syntax rather than losing the record.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
