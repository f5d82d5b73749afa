package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/kernels"
)

func TestExitCodeAndReport(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		line string // what Report prints ("" for nothing)
	}{
		{nil, ExitOK, ""},
		{errors.New("disk full"), ExitInternal, "prog: disk full\n"},
		{BadInputf("-noise %v: want ≥ 0", -1), ExitBadInput, "prog: -noise -1: want ≥ 0\n"},
		{fmt.Errorf("load: %w", BadInput(errors.New("bad\nfile"))), ExitBadInput, "prog: load: bad; file\n"},
		{Interrupted(errors.New("eandarn interrupted")), ExitInterrupted, "prog: eandarn interrupted\n"},
	} {
		var b bytes.Buffer
		if code := Report(&b, "prog", tc.err); code != tc.code || ExitCode(tc.err) != tc.code || b.String() != tc.line {
			t.Errorf("%v: Report = %d, %q; want %d, %q", tc.err, code, b.String(), tc.code, tc.line)
		}
	}
	if BadInput(nil) != nil || Interrupted(nil) != nil {
		t.Error("BadInput(nil) or Interrupted(nil) != nil")
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "r.h5"), true},
		{file, true}, // an existing file is replaced at the end, atomically
		{"", false},
		{filepath.Join(dir, "missing", "r.h5"), false},
		{filepath.Join(file, "r.h5"), false},
		{dir, false},
	} {
		err := CheckOutput(tc.path)
		if (err == nil) != tc.ok || (err != nil && ExitCode(err) != ExitBadInput) {
			t.Errorf("CheckOutput(%q) = %v, want ok %v (bad input otherwise)", tc.path, err, tc.ok)
		}
	}
}

func TestParseAndUsage(t *testing.T) {
	fs := flag.NewFlagSet("p", flag.ContinueOnError)
	fs.String("name", "", "a name")
	fs.Int("n", 0, "a count")
	SetUsage(fs, "p [flags]")
	var out bytes.Buffer
	if help, err := Parse(fs, []string{"-h"}, &out); !help || err != nil {
		t.Fatalf("-h: help %v, err %v", help, err)
	}
	for _, want := range []string{"usage: p [flags]", `-name string (default "")`, "-n int (default 0)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{{"-nope"}, {"-n", "x"}, {"stray"}} {
		out.Reset()
		fs := flag.NewFlagSet("p", flag.ContinueOnError)
		fs.Int("n", 0, "")
		help, err := Parse(fs, args, &out)
		if help || ExitCode(err) != ExitBadInput || out.Len() != 0 || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: help %v, err %v, output %q: want one-line bad input, no output", args, help, err, out.String())
		}
	}
}

func TestBuildVersion(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "v1.2.3"
	if v := BuildVersion(); v != "v1.2.3" {
		t.Errorf("BuildVersion = %q with Version set", v)
	}
	Version = ""
	if v := BuildVersion(); !strings.HasPrefix(v, "devel") {
		t.Errorf("BuildVersion = %q without -ldflags, want devel...", v)
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range []string{"in.h5", "old.h5"} {
		if err := os.WriteFile(path(name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(os.Symlink("in.h5", path("link.h5")), os.Link(path("in.h5"), path("hard.h5")),
		os.MkdirAll(path("run/forward"), 0o755), os.WriteFile(path("run/forward/R.npy"), nil, 0o644),
		os.MkdirAll(path("maps"), 0o755), os.WriteFile(path("maps/r.h5"), nil, 0o644), syscall.Mkfifo(path("fifo"), 0o644),
		os.Symlink("old.h5", path("other.h5")), os.Symlink("nowhere", path("dangling"))); err != nil {
		t.Fatal(err)
	}
	in := []File{{Flag: "-in", Path: path("in.h5")}}
	for _, c := range []struct {
		name string
		ins  []File
		outs []File
		want string // "" = accepted
	}{
		{"new output", in, []File{{Flag: "-out", Path: path("r.h5")}}, ""},
		{"existing output", in, []File{{Flag: "-out", Path: path("old.h5")}}, ""},
		{"optional output not given", in, []File{{Flag: "-out", Path: path("r.h5")}, {Flag: "-checkpoint"}}, ""},
		{"output is the input", in, []File{{Flag: "-out", Path: path("in.h5")}}, "same file as the input -in"},
		{"output is the input, another spelling", in, []File{{Flag: "-out", Path: dir + "/./in.h5"}}, "same file"},
		{"output is a symbolic link to the input", in, []File{{Flag: "-out", Path: path("link.h5")}}, "same file"},
		{"output is a hard link to the input", in, []File{{Flag: "-out", Path: path("hard.h5")}}, "same file"},
		{"output inside the input folder", []File{{Flag: "-in", Path: path("run")}}, []File{{Flag: "-out", Path: path("run/forward/R.npy")}}, "inside the input folder"},
		{"output folder holding the input", []File{{Flag: "-result", Path: path("maps/r.h5")}}, []File{{Flag: "-vtk", Path: path("maps"), Dir: true}}, "holding the input"},
		{"two outputs, one file", in, []File{{Flag: "-out", Path: path("r.h5")}, {Flag: "-checkpoint", Path: path("./r.h5")}}, "are the same file"},
		{"output in an output folder", in, []File{{Flag: "-vtk", Path: path("maps"), Dir: true}, {Flag: "-out", Path: path("maps/t.csv")}}, "inside the output folder"},
		{"output is a named pipe", in, []File{{Flag: "-out", Path: path("fifo")}}, "named pipe"},
		{"output is a device", in, []File{{Flag: "-out", Path: "/dev/null"}}, "character device"},
		{"output is a folder", in, []File{{Flag: "-out", Path: path("maps")}}, "is a folder"},
		{"missing folder", in, []File{{Flag: "-checkpoint", Path: path("nope/ck")}}, "does not exist"},
		{"unwritable folder", in, []File{{Flag: "-out", Path: "/proc/r.h5"}}, "not writable"},
		{"output is a symbolic link elsewhere", in, []File{{Flag: "-out", Path: path("other.h5")}}, "is a symbolic link (to old.h5)"},
		{"output is a dangling symbolic link", in, []File{{Flag: "-checkpoint", Path: path("dangling")}}, "is a symbolic link (to nowhere)"},
		{"output is /dev/stdout", in, []File{{Flag: "-out", Path: "/dev/stdout"}}, "symbolic link"},
		{"output name of 255 bytes", in, []File{{Flag: "-out", Path: path(strings.Repeat("x", 252) + ".h5")}}, ""},
		{"output name of 256 bytes", in, []File{{Flag: "-out", Path: path(strings.Repeat("x", 253) + ".h5")}}, "-out " + path(strings.Repeat("x", 253)+".h5") + ": file name too long"},
	} {
		err := CheckFiles(c.ins, c.outs)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (ExitCode(err) != ExitBadInput || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want bad input mentioning %q", c.name, err, c.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 9 {
		t.Errorf("CheckFiles left files behind: %v", ents)
	}
}

func TestRecover(t *testing.T) {
	defer traceOnPanic.Store(false)
	for _, debug := range []bool{false, true} {
		traceOnPanic.Store(debug)
		var b bytes.Buffer
		code := func() (code int) {
			defer Recover(&b, "prog", &code)
			var m map[string]int
			m["x"]++ // a nil-map panic
			return ExitOK
		}()
		lines := strings.Count(b.String(), "\n")
		if code != ExitInternal || !strings.HasPrefix(b.String(), "prog: internal error: assignment to entry in nil map") ||
			!debug && (lines != 1 || !strings.Contains(b.String(), "-log-level debug")) ||
			debug && (lines < 5 || !strings.Contains(b.String(), "goroutine")) {
			t.Errorf("debug %v: exit %d, stderr %q", debug, code, b.String())
		}
		// A panic of a worker goroutine, carried to the main one
		// (kernels.Go): one line, and at debug the worker's stack too.
		b.Reset()
		code = func() (code int) {
			defer Recover(&b, "prog", &code)
			kernels.ParallelFor(4, 2, func(_, i int) {
				if i == 3 {
					panic("worker panicked")
				}
			})
			return ExitOK
		}()
		lines = strings.Count(b.String(), "\n")
		if code != ExitInternal || !strings.HasPrefix(b.String(), "prog: internal error: worker panicked") ||
			!debug && lines != 1 || debug && !strings.Contains(b.String(), "panicked in another goroutine; its stack trace:") {
			t.Errorf("worker panic, debug %v: exit %d, stderr %q", debug, code, b.String())
		}
	}
}

func TestMemoryFlag(t *testing.T) {
	defer inputs.SetBudget(inputs.DefaultBudget)
	fs := flag.NewFlagSet("p", flag.ContinueOnError)
	AddMemoryFlag(fs)
	if err := fs.Parse([]string{"-max-memory", "512MiB"}); err != nil || inputs.Budget() != 512<<20 {
		t.Fatalf("-max-memory 512MiB: budget %d, %v", inputs.Budget(), err)
	}
	fs = flag.NewFlagSet("p", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	AddMemoryFlag(fs)
	if inputs.Budget() != inputs.DefaultBudget || fs.Lookup("max-memory").DefValue != "4GiB" {
		t.Errorf("a new parse starts from the default: budget %d, shown %q", inputs.Budget(), fs.Lookup("max-memory").DefValue)
	}
	if err := fs.Parse([]string{"-max-memory", "-1"}); err == nil {
		t.Error("-max-memory -1 accepted")
	}
}

// TestWatchdog: after a signal, a job that does not return within the
// grace period is ended with ExitInterrupted; one that returns is not.
func TestWatchdog(t *testing.T) {
	defer func(g time.Duration, e func(int)) { stopGrace, exit = g, e }(stopGrace, exit)
	stopGrace = 50 * time.Millisecond
	exited := make(chan int, 1)
	exit = func(code int) { exited <- code }
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal
	var b bytes.Buffer
	go watchdog(ctx, make(chan struct{}), &b, "prog")
	select {
	case code := <-exited:
		if code != ExitInterrupted {
			t.Errorf("exit %d, want %d", code, ExitInterrupted)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog did not end a job that ignored the signal")
	}
	done := make(chan struct{})
	close(done)
	watchdog(ctx, done, &b, "prog") // returned in time: must not exit
	select {
	case code := <-exited:
		t.Errorf("watchdog exited (%d) a job that had returned", code)
	case <-time.After(100 * time.Millisecond):
	}
}
