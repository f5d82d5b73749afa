package inputs

import (
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestElementsOverflow(t *testing.T) {
	for _, dims := range [][]int{
		nil, {0}, {3}, {42, 1 << 58}, {64, 1 << 58}, {1 << 31, 1 << 31}, {1 << 32, 1 << 31},
		{math.MaxInt, 1}, {math.MaxInt, 2}, {-1, 42}, {1e9, 1e9, 10}, {0, math.MaxInt, math.MaxInt},
	} {
		want := big.NewInt(1)
		neg := false
		for _, d := range dims {
			want.Mul(want, big.NewInt(int64(d)))
			neg = neg || d < 0
		}
		n, err := Elements(dims)
		fits := !neg && want.IsInt64()
		switch {
		case fits && (err != nil || int64(n) != want.Int64()):
			t.Errorf("Elements(%v) = %d, %v; want %v", dims, n, err, want)
		case !fits && !errors.Is(err, ErrSize):
			t.Errorf("Elements(%v) = %d, %v; want ErrSize", dims, n, err)
		}
	}
	if _, err := Bytes(math.MaxInt/4, 8); !errors.Is(err, ErrSize) {
		t.Errorf("Bytes(MaxInt/4, 8): %v, want ErrSize", err)
	}
}

func TestTallyBudget(t *testing.T) {
	defer SetBudget(DefaultBudget)
	SetBudget(1 << 20)
	var tl Tally
	if _, err := tl.Add("a", []int{128, 512}); err != nil { // 512 KiB
		t.Fatal(err)
	}
	_, err := tl.Add("b", []int{128, 512}) // another 512 KiB: exactly the budget
	if err != nil {
		t.Fatalf("exactly at the budget: %v", err)
	}
	_, err = tl.Add("dataset c", []int{1})
	if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "dataset c") || !strings.Contains(err.Error(), "-max-memory") {
		t.Errorf("over the budget: %v", err)
	}
	if _, err := tl.Add("d", []int{1 << 40, 1 << 40}); !errors.Is(err, ErrSize) {
		t.Errorf("overflowing shape: %v, want ErrSize", err)
	}
}

func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo, file := filepath.Join(dir, "fifo"), filepath.Join(dir, "file")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := Open(fifo) // a blocking open would wait for a writer forever
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("Open(fifo): %v, want a named-pipe ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open(fifo) blocked")
	}
	for _, p := range []string{fifo, dir, "/dev/null"} {
		if _, err := Regular(p); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Regular(%s): %v, want ErrNotRegular", p, err)
		}
		if _, err := ReadFile(p, 10); err == nil {
			t.Errorf("ReadFile(%s) succeeded", p)
		}
	}
	if b, err := ReadFile(file, 3); err != nil || string(b) != "abc" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	if _, err := ReadFile(file, 2); !errors.Is(err, ErrSize) {
		t.Errorf("ReadFile over the limit: %v, want ErrSize", err)
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"4GiB", 4 << 30}, {"512MiB", 512 << 20}, {"512M", 512 << 20}, {"8GB", 8e9}, {"1000", 1000},
		{"16 KiB", 16 << 10}, {"1B", 1}, {"2T", 2 << 40},
	} {
		if got, err := ParseSize(c.in); err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0", "-1GiB", "1.5GiB", "GiB", "10000000000TiB", "4 gib", "NaN"} {
		if got, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, got)
		}
	}
	for _, c := range []struct {
		b    int64
		want string
	}{{100, "100 B"}, {2048, "2 KiB"}, {4 << 30, "4 GiB"}, {4032000000, "3.76 GiB"}, {math.MaxInt64, "8 EiB"}} {
		if got := FormatSize(c.b); got != c.want {
			t.Errorf("FormatSize(%d) = %q, want %q", c.b, got, c.want)
		}
	}
}

// TestInt: a float holds an index when it is a whole number that float64
// represents exactly; anything else is refused with a message saying which.
func TestInt(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want int
		err  string
	}{
		{0, 0, ""}, {math.Copysign(0, -1), 0, ""}, {-7, -7, ""}, {1 << 53, 1 << 53, ""},
		{2.5, 0, "want an integer, got 2.5"},
		{math.NaN(), 0, "want an integer, got NaN"},
		{1 << 60, 0, "magnitude at most 2^53"},
		{math.Inf(-1), 0, "magnitude at most 2^53"},
	} {
		got, err := Int(c.x)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("Int(%v) = %d, %v; want %d", c.x, got, err, c.want)
		case c.err != "" && (err == nil || !errors.Is(err, ErrNotInteger) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Int(%v): %v, want ErrNotInteger containing %q", c.x, err, c.err)
		}
	}
}

// TestBadIndex: the first index outside [0, n) is reported, and a list
// running 1..n is named 1-based.
func TestBadIndex(t *testing.T) {
	for _, c := range []struct {
		idx  []int
		n    int
		want string // "" for none
	}{
		{[]int{0, 3, 1}, 4, ""},
		{[]int{0, 4, 1}, 4, "want 0-based indices in [0, 4), got 4"},
		{[]int{1, 4, 2, 3}, 4, "want 0-based indices in [0, 4), got 4; the indices run 1..4: 1-based (as MATLAB writes them)? subtract 1 from every index"},
		{[]int{2, 4}, 4, "want 0-based indices in [0, 4), got 4"}, // max n but min 2: not 1..n
		{[]int{1, -1}, 4, "want 0-based indices in [0, 4), got -1"},
	} {
		e := BadIndex(c.idx, c.n)
		switch {
		case c.want == "" && e != nil:
			t.Errorf("BadIndex(%v, %d) = %v, want nil", c.idx, c.n, e)
		case c.want != "" && (e == nil || e.Error() != c.want):
			t.Errorf("BadIndex(%v, %d) = %v, want %q", c.idx, c.n, e, c.want)
		}
	}
}

// TestExtraColumnHint: a fourth column is named a row-number column, a
// polygon list's vertex counts or (triangles only) quadrilaterals.
func TestExtraColumnHint(t *testing.T) {
	for _, c := range []struct {
		first     []float64
		cols      int
		triangles bool
		want      string
	}{
		{[]float64{0, 1, 2}, 4, false, "column 1 counts the rows 0..2"},
		{[]float64{1, 2, 3}, 4, true, "column 1 counts the rows 1..3"},
		{[]float64{3, 3, 3}, 4, true, "vertex counts of a polygon list"},
		{[]float64{3, 3, 3}, 4, false, ""},
		{[]float64{5, 0, 9}, 4, true, "quadrilaterals?"},
		{[]float64{5, 0, 9}, 4, false, ""},
		{[]float64{0, 1, 2}, 5, false, ""},
	} {
		if got := ExtraColumnHint(c.first, c.cols, c.triangles); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("ExtraColumnHint(%v, %d, %v) = %q, want %q", c.first, c.cols, c.triangles, got, c.want)
		}
	}
}
