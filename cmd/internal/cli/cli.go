// Package cli holds what the eandarn binaries share: the build version, the
// exit-status convention, the checks of input and output paths that let a
// binary refuse a bad invocation before any work (files.go), the memory
// budget flag, the slog logger, the one-line JSON summary on stdout, and
// the guards that keep a user from ever seeing a panic or a job that
// ignores SIGTERM.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/progressview"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/solver/progress"
)

// Exit statuses of every eandarn binary.
const (
	ExitOK       = 0 // success
	ExitInternal = 1 // internal failure (a bug, an I/O error after the checks)
	ExitBadInput = 2 // bad input or usage: the binary refused before writing anything
	// ExitInterrupted: SIGTERM or SIGINT stopped the job before its result
	// was written; a PINN method wrote its checkpoint first, so rerunning
	// the same command with -resume continues. The sbatch script of a sweep
	// requeues a task that exits with it (slurm.InterruptedStatus).
	ExitInterrupted = 3
)

// interruptedError marks a job stopped by a signal (exit status 3).
type interruptedError struct{ err error }

func (e interruptedError) Error() string { return e.err.Error() }
func (e interruptedError) Unwrap() error { return e.err }

// Interrupted marks err as an interruption by SIGTERM or SIGINT, so
// ExitCode maps it to ExitInterrupted. A nil err stays nil.
func Interrupted(err error) error {
	if err == nil {
		return nil
	}
	return interruptedError{err}
}

// Version is the build version, set at link time by
//
//	go build -ldflags "-X github.com/eandarn/eandarn/cmd/internal/cli.Version=$(git describe --tags --always --dirty)"
//
// (the Makefile does this). When it is empty, BuildVersion falls back to the
// VCS revision the Go toolchain stamps into the binary.
var Version string

// BuildVersion returns Version, else "devel+<vcs revision>[-dirty]" from the
// build information, else "devel".
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel+" + rev[:min(12, len(rev))] + dirty
}

// inputError marks an error as the caller's fault (exit status 2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// BadInput marks err as bad input or usage, so ExitCode maps it to
// ExitBadInput. A nil err stays nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return inputError{err}
}

// BadInputf is BadInput(fmt.Errorf(format, args...)).
func BadInputf(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

// ExitCode maps an error to the exit status: nil -> 0, BadInput -> 2,
// Interrupted -> 3, anything else -> 1.
func ExitCode(err error) int {
	var in inputError
	var intr interruptedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &in):
		return ExitBadInput
	case errors.As(err, &intr):
		return ExitInterrupted
	default:
		return ExitInternal
	}
}

// Report prints err as one line on w, prefixed with the program name, and
// returns its exit status. Multi-line messages are joined with "; " so that
// a caller always reads exactly one line.
func Report(w io.Writer, prog string, err error) int {
	if err == nil {
		return ExitOK
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	fmt.Fprintf(w, "%s: %s\n", prog, msg)
	return ExitCode(err)
}

// Logger returns a text slog logger on w at the named level
// (debug, info, warn, error). At debug, Recover prints the stack trace of
// a panic too.
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, BadInputf("-log-level %q: want debug, info, warn or error", level)
	}
	traceOnPanic.Store(l <= slog.LevelDebug)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// traceOnPanic is set by Logger at level debug.
var traceOnPanic atomic.Bool

// Recover turns a panic of the calling goroutine into one line on stderr
// and exit status 1 (*code), so that no stack trace reaches a user: a
// binary's run function defers it first,
//
//	defer cli.Recover(stderr, prog, &code)
//
// The trace is printed too when the log level is debug. A panic of another
// goroutine reaches it only when carried over (kernels.Go, ParallelFor):
// every goroutine the programs start is started that way.
func Recover(stderr io.Writer, prog string, code *int) {
	p := recover()
	if p == nil {
		return
	}
	msg := fmt.Sprintf("internal error: %v (a bug; rerun with -log-level debug for the stack trace)", p)
	if traceOnPanic.Load() {
		msg = fmt.Sprintf("internal error: %v; stack trace:\n%s", p, debug.Stack())
		// A worker's panic carried over (kernels.Go): where it happened.
		if g, ok := p.(interface{ GoroutineStack() []byte }); ok {
			msg += fmt.Sprintf("panicked in another goroutine; its stack trace:\n%s", g.GoroutineStack())
		}
		fmt.Fprintf(stderr, "%s: %s", prog, msg)
		*code = ExitInternal
		return
	}
	*code = Report(stderr, prog, errors.New(msg))
}

// AddMemoryFlag declares -max-memory on fs, which sets the memory budget of
// io/inputs: the most bytes of array data one input file may declare (and,
// for eandarn-synth, the arrays a generation would make), checked before
// anything is allocated. Declaring it resets the budget to the default, so
// each parse starts from the default.
func AddMemoryFlag(fs *flag.FlagSet) {
	inputs.SetBudget(inputs.DefaultBudget)
	fs.Var(memoryFlag{}, "max-memory", "memory budget for the array data an input declares (8 bytes per value), checked before reading; a size such as 4GiB, 512MiB or 8GB")
}

// memoryFlag is the flag.Value of -max-memory.
type memoryFlag struct{}

func (memoryFlag) String() string {
	b := inputs.Budget()
	if b%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", b>>30)
	}
	return fmt.Sprint(b)
}

func (memoryFlag) Set(s string) error {
	b, err := inputs.ParseSize(s)
	if err != nil {
		return err
	}
	inputs.SetBudget(b)
	return nil
}

// TypeName names the argument in -h.
func (memoryFlag) TypeName() string { return "size" }

// ProgressLogger returns a progress view on stderr (a bar on a terminal,
// else a log line every period; 0: none) and the job's logger at the named
// level, which writes through the view so log lines never break into a
// bar. Close the view when the job ends.
func ProgressLogger(stderr io.Writer, level string, every time.Duration) (*progressview.View, *slog.Logger, error) {
	view := progressview.New(stderr, every)
	log, err := Logger(view.Writer(), level)
	if err != nil {
		return nil, nil, err
	}
	view.SetLogger(log)
	return view, log, nil
}

// ProgressFlag declares -progress on fs, bound to every: the period of the
// progress log lines on a stderr that is not a terminal.
func ProgressFlag(fs *flag.FlagSet, every *time.Duration) {
	fs.DurationVar(every, "progress", progressview.DefaultEvery,
		"progress on stderr: a live bar with rate and ETA when stderr is a terminal, else a log line this often (0: none; -log-level warn silences both)")
}

// PrintJSON writes v as one JSON line on w: the machine interface of every
// eandarn binary.
func PrintJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// SetUsage installs a usage text on fs that names the program, its synopsis
// and every flag with its default, including zero defaults (the flag
// package's own PrintDefaults leaves those out). A flag.Value with a
// TypeName() string method names its argument type.
func SetUsage(fs *flag.FlagSet, synopsis string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			if t, ok := f.Value.(interface{ TypeName() string }); ok {
				name = t.TypeName()
			}
			if name != "" {
				name = " " + name
			}
			def := f.DefValue
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(w, "  -%s%s (default %s)\n    \t%s\n", f.Name, name, def, strings.ReplaceAll(usage, "\n", "\n    \t"))
		})
	}
}

// Parse parses args into fs. After -h or -help it prints the usage on
// stdout and returns help = true (exit status 0). Any other parse failure, or
// a stray positional argument, is a BadInput error whose message is one line
// (the flag package's own message and usage dump are suppressed so that
// stderr carries exactly one line).
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err = fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return true, nil
	case err != nil:
		return false, BadInputf("%v (see -h)", err)
	case fs.NArg() > 0:
		return false, BadInputf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	return false, nil
}

// Program is one eandarn binary: a parser from arguments to a validated
// configuration C and the job that runs it. Main wires them to the exit
// statuses, the logger and the JSON summary, the same way for every binary.
type Program[C any] struct {
	Name string
	// Parse returns the configuration, or help = true when it printed help
	// on stdout and the program should exit 0.
	Parse func(args []string, stdout io.Writer) (cfg C, help bool, err error)
	// LogLevel returns the configured -log-level.
	LogLevel func(cfg C) string
	// Progress returns the configured period of the progress log lines
	// (-progress; 0: none). Nil: the program reports no progress.
	Progress func(cfg C) time.Duration
	// Run does the work and returns the summary printed as one JSON line.
	Run func(ctx context.Context, cfg C, log *slog.Logger) (summary any, err error)
}

// stopGrace is how long a job may take to stop after SIGTERM or SIGINT
// before Main's watchdog exits the process with ExitInterrupted: every
// phase of a job watches its context (a PINN method writes its checkpoint
// first, which takes well under a second), but a single library call (a
// BEM solve, one eigen-decomposition, reading a file from a slow disk)
// cannot be interrupted, and a job must never ignore the signal. Outputs are
// written atomically, so exiting mid-write leaves no partial file (a
// temporary is removed by the next run: io/atomicfile).
var stopGrace = 10 * time.Second

// exit ends the process; tests replace it.
var exit = os.Exit

// Main runs the program on args and returns its exit status; it does not
// call os.Exit except from the stop watchdog (see stopGrace), so tests call
// it in-process. SIGINT and SIGTERM cancel the context handed to Run while
// Main is running. A panic is one line on stderr and exit status 1
// (Recover). The context carries a progress view on stderr (a bar on a
// terminal, else log lines every Progress period) that the solvers report
// to.
func (p Program[C]) Main(args []string, stdout, stderr io.Writer) (code int) {
	defer Recover(stderr, p.Name, &code)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go watchdog(ctx, done, stderr, p.Name)
	cfg, help, err := p.Parse(args, stdout)
	if help {
		return ExitOK
	}
	if err != nil {
		return Report(stderr, p.Name, err)
	}
	var every time.Duration
	if p.Progress != nil {
		every = p.Progress(cfg)
	}
	view, log, err := ProgressLogger(stderr, p.LogLevel(cfg), every)
	if err != nil {
		return Report(stderr, p.Name, err)
	}
	sum, err := p.Run(progress.NewContext(ctx, view), cfg, log)
	view.Close() // a bar still drawn ends before the summary or the error line
	if err == nil {
		err = PrintJSON(stdout, sum)
	}
	return Report(stderr, p.Name, err)
}

// watchdog exits the process with ExitInterrupted when ctx is cancelled by
// a signal and the job has not returned (done) within stopGrace.
func watchdog(ctx context.Context, done <-chan struct{}, stderr io.Writer, prog string) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		fmt.Fprintf(stderr, "%s: interrupted: the job did not stop within %v of the signal (an uninterruptible step); exiting without writing a result\n", prog, stopGrace)
		exit(ExitInterrupted)
	}
}
