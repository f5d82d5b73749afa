package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
