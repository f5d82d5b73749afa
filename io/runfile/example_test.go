package runfile_test

import (
	"fmt"

	"github.com/eandarn/eandarn/io/runfile"
)

// Load reads a run file (HDF5 here; a folder of .npy files works the same)
// and validates it against the schema.
func ExampleLoad() {
	p, err := runfile.Load("../../testdata/io/tiny_run.h5")
	if err != nil {
		fmt.Println(err) // one line; a *runfile.SchemaError for bad input
		return
	}
	m, n := p.R.Dims()
	_, T := p.BSPM.Dims()
	fmt.Printf("heart %d nodes, torso %d nodes, %d leads, R %dx%d, %d frames, units %s\n",
		len(p.Heart.Nodes), len(p.Torso.Nodes), len(p.Leads), m, n, T, p.Attrs["units"])
	// Output:
	// heart 42 nodes, torso 162 nodes, 33 leads, R 33x42, 12 frames, units normalized
}
