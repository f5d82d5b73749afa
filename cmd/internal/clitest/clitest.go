// Package clitest holds the test helpers the eandarn binaries' tests share:
// running a binary in-process and checking the bad-input contract of
// cmd/internal/cli (exit status 2, one line on stderr, nothing on stdout,
// no output written and an existing output left as it was).
package clitest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/cmd/internal/cli"
)

// Call runs a binary's in-process entry point run (its main without
// os.Exit) on args and returns the exit status, stdout and stderr.
func Call(run func(args []string, stdout, stderr io.Writer) int, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// CheckRefused asserts a refusal: exit status 2, nothing on stdout and
// exactly one stderr line "prog: …" containing want.
func CheckRefused(t testing.TB, prog string, code int, stdout, stderr, want string) {
	t.Helper()
	if code != cli.ExitBadInput {
		t.Errorf("exit status %d, want %d (stderr %q)", code, cli.ExitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, prog+": ") || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want one line %q containing %q", stderr, prog+": ...", want)
	}
}

// kept is what RefusalKeepsOutput writes into an existing output.
const kept = "keep me"

// CheckOutput asserts that out still holds "keep me" when it existed, and
// does not exist otherwise; and that no temporary file was left beside it.
func CheckOutput(t testing.TB, out string, existed bool) {
	t.Helper()
	b, err := os.ReadFile(out)
	switch {
	case existed && (err != nil || string(b) != kept):
		t.Errorf("existing output changed: %q, %v", b, err)
	case !existed && err == nil:
		t.Errorf("output %s was written", out)
	}
	if ents, err := os.ReadDir(filepath.Dir(out)); err == nil && len(ents) > map[bool]int{true: 1}[existed] {
		t.Errorf("files left in the output folder: %v", ents)
	}
}

// RefusalKeepsOutput runs call with the output path name in a fresh
// temporary folder, first absent and then holding "keep me", and asserts
// each time that the binary prog refused (CheckRefused with want) and left
// the output as it was (CheckOutput).
func RefusalKeepsOutput(t *testing.T, prog, name, want string, call func(out string) (code int, stdout, stderr string)) {
	t.Helper()
	for _, existing := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), name)
		if existing {
			if err := os.WriteFile(out, []byte(kept), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := call(out)
		CheckRefused(t, prog, code, stdout, stderr, want)
		CheckOutput(t, out, existing)
	}
}
