// Command eandarn-report aggregates the result files of a sweep into the
// paper's tables, writes a self-contained HTML report with the figures, and
// exports a reconstruction as heart maps for ParaView.
//
// Table mode reads every result file (*.h5) in a folder, groups the runs by
// the configuration that varies across them (or by -by keys) and prints one
// row per group: the group's keys, the number of runs n, RE, CC and MSE
// (Eq. 19–21) as mean ± sample standard deviation over the runs, the mean
// solve time, and the bad-initialization rate when the runs record one
// (paper Table II). Markdown goes to stdout, or CSV with -format csv; -out
// writes the table to a file atomically instead.
//
// HTML mode (-html DIR or -html A.h5,B.h5,...) writes one HTML file with
// every figure inlined (io/htmlreport): the table, the paper's Figs. 6–9 as
// grouped bar charts (mean ± std), electrograms of every method at chosen
// nodes, and per run heart maps of truth, reconstruction and error
// (io/heartmap, io/figure), the activation-time map and the diagnostic
// curves (losses and RE monitor, L-curve and GCV with the chosen λ), with
// the configuration and versions of what it shows; -png writes the figures
// as PNG files too. stdout gets one JSON line naming the report.
//
// VTK mode (-vtk OUTDIR) writes the reconstructed u of one result file, the
// true u of its run file (when it has one) and their absolute difference on
// the heart mesh as a ParaView series: one .vtp per chosen frame and a .pvd
// collection (paper Fig. 10).
//
// Exit status: 0 success, 2 bad input or usage (one line on stderr; nothing
// written), 1 internal failure.
package main

import (
	"io"
	"os"

	"github.com/eandarn/eandarn/cmd/internal/cli"
)

const prog = "eandarn-report"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, callable in-process from tests: it parses
// args, runs the chosen mode and returns the exit status. The table goes to
// stdout (or -out); unreadable files and errors go to stderr.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer cli.Recover(stderr, prog, &code)
	c, help, err := parseArgs(args, stdout)
	if help {
		return cli.ExitOK
	}
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	log, err := cli.Logger(stderr, c.LogLevel)
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	switch {
	case c.VTK != "":
		err = exportVTK(c, log)
	case c.HTML != "":
		err = writeHTML(c, stdout, log)
	default:
		err = report(c, stdout, log)
	}
	return cli.Report(stderr, prog, err)
}
