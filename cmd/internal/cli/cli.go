// Package cli holds what the eandarn binaries share: the build version, the
// exit-status convention, the output-path checks that let a binary refuse a
// bad invocation before any work, the slog logger and the one-line JSON
// summary on stdout.
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
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
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

// CheckOutput refuses, as bad input, an output path that cannot be written
// at the end of a run: an empty path, a path whose folder does not exist or
// is not a folder, or a path that names an existing folder. It is called
// before any work so that a long solve never ends in an unwritable path.
func CheckOutput(path string) error {
	if path == "" {
		return BadInputf("no output path (-out)")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return BadInputf("output %s: folder %s does not exist", path, dir)
	}
	if !st.IsDir() {
		return BadInputf("output %s: %s is not a folder", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return BadInputf("output %s is a folder, want a file name", path)
	}
	return nil
}

// Logger returns a text slog logger on w at the named level
// (debug, info, warn, error).
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, BadInputf("-log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
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
	// Run does the work and returns the summary printed as one JSON line.
	Run func(ctx context.Context, cfg C, log *slog.Logger) (summary any, err error)
}

// Main runs the program on args and returns its exit status; it never calls
// os.Exit, so tests call it in-process. SIGINT and SIGTERM cancel the
// context handed to Run while Main is running.
func (p Program[C]) Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, help, err := p.Parse(args, stdout)
	if help {
		return ExitOK
	}
	if err != nil {
		return Report(stderr, p.Name, err)
	}
	log, err := Logger(stderr, p.LogLevel(cfg))
	if err != nil {
		return Report(stderr, p.Name, err)
	}
	sum, err := p.Run(ctx, cfg, log)
	if err == nil {
		err = PrintJSON(stdout, sum)
	}
	return Report(stderr, p.Name, err)
}
