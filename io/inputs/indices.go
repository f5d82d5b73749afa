package inputs

import (
	"fmt"
	"slices"
)

// IndexError is an index outside [0, N) in a list of 0-based indices (the
// triangles of a mesh, the torso nodes of the leads). Callers add the file
// and where At falls in it (a triangle's row, a lead's line).
type IndexError struct {
	At, Got, N int
	// OneBased is set when the indices run from 1 to N: the list is most
	// likely 1-based, as MATLAB writes indices.
	OneBased bool
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("want 0-based indices in [0, %d), got %d%s", e.N, e.Got, e.Hint())
}

// Hint is "" or, for a 1-based list, what to do about it ("; the indices
// run 1..N: …"), for callers that word the rest themselves.
func (e *IndexError) Hint() string {
	if !e.OneBased {
		return ""
	}
	return fmt.Sprintf("; the indices run 1..%d: 1-based (as MATLAB writes them)? subtract 1 from every index", e.N)
}

// BadIndex returns the first value of idx outside [0, n) as an
// *IndexError, or nil. An index equal to n in a list whose smallest value
// is 1 and largest n is the signature of a 1-based list; the error says so.
func BadIndex(idx []int, n int) *IndexError {
	for k, v := range idx {
		if v < 0 || v >= n {
			return &IndexError{At: k, Got: v, N: n, OneBased: slices.Min(idx) == 1 && slices.Max(idx) == n}
		}
	}
	return nil
}

// ExtraColumnHint explains a mesh table (node coordinates, or triangles
// when triangles is set) of cols columns where 3 were expected, from the
// values of its first column: row numbers 0..rows−1 or 1..rows (an index
// column, as MATLAB tables and pandas' to_csv write), or, for triangles,
// the vertex count 3 in every row (a VTK or PLY polygon list); 4 columns
// of triangles that are neither are taken for quadrilaterals. It returns
// "" when nothing fits.
func ExtraColumnHint(first []float64, cols int, triangles bool) string {
	if cols != 4 || len(first) == 0 {
		return ""
	}
	counts := func(from float64) bool {
		for i, x := range first {
			if x != from+float64(i) {
				return false
			}
		}
		return true
	}
	switch {
	case counts(0):
		return fmt.Sprintf("; column 1 counts the rows 0..%d: a row-number column? delete it", len(first)-1)
	case counts(1):
		return fmt.Sprintf("; column 1 counts the rows 1..%d: a row-number column? delete it", len(first))
	case !triangles:
		return ""
	case !slices.ContainsFunc(first, func(x float64) bool { return x != 3 }):
		return "; column 1 is 3 in every row: the vertex counts of a polygon list (VTK, PLY)? delete that column"
	}
	return "; quadrilaterals? split each into two triangles"
}
