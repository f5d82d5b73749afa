package resultfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/resultfile"
)

func ExampleSave() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "result.h5")

	r := resultfile.New()
	r.Matrices["reconstruction/u"] = mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	r.Vectors["metrics/re_frame"] = []float64{0.1, 0.2, 0.3}
	r.Scalars["metrics/re"] = 0.2
	r.Attrs["config"] = `{"method":"tikhonov0"}`
	if err := resultfile.Save(out, r); err != nil {
		fmt.Println(err)
		return
	}

	back, err := resultfile.Read(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, cols := back.Matrices["reconstruction/u"].Dims()
	fmt.Println(rows, cols, back.Vectors["metrics/re_frame"], back.Scalars["metrics/re"], back.Attrs["config"])
	// Output:
	// 2 3 [0.1 0.2 0.3] 0.2 {"method":"tikhonov0"}
}
