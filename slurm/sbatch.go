package slurm

import (
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"text/template"
)

//go:embed sbatch.tmpl
var sbatchText string

var sbatchTemplate = template.Must(template.New("sbatch").Parse(sbatchText))

// InterruptedStatus is the exit status of an eandarn-batch task that caught
// SIGTERM, wrote its checkpoint and stopped early; the sbatch script requeues
// such a task.
const InterruptedStatus = 3

// WriteSbatch renders the sbatch script of the sweep: an array of Len tasks,
// at most Concurrency running at once, one log per task under
// <output>/logs, TERM 120 s before the time limit, and requeue on
// interruption. specPath is the path the script passes back to eandarn-batch.
func (s *Spec) WriteSbatch(w io.Writer, specPath string) error {
	o := s.Slurm
	gpu := format(s.Fixed["device"]) == "cuda"
	part := o.Partition
	if gpu {
		part = o.GPUPartition
		if part == "" {
			part = "gpu"
		}
	}
	abs, err := filepath.Abs(specPath)
	if err != nil {
		return fmt.Errorf("sbatch %s: %w", specPath, err)
	}
	logDir, err := filepath.Abs(filepath.Join(s.OutputDir(), "logs"))
	if err != nil {
		return fmt.Errorf("sbatch %s: %w", specPath, err)
	}
	data := map[string]any{
		"Name":        s.Name,
		"N":           s.Len(),
		"Last":        s.Len() - 1,
		"Spec":        abs,
		"Concurrency": orInt(o.Concurrency, 8),
		"Partition":   orString(part, "cpu"),
		"Time":        orString(o.Time, "02:00:00"),
		"CPUs":        orInt(o.CPUs, 2),
		"Mem":         orString(o.Mem, "4G"),
		"GPU":         gpu,
		"LogDir":      logDir,
		"Batch":       orString(o.Batch, "eandarn-batch"),
	}
	if err := sbatchTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("sbatch %s: %w", specPath, err)
	}
	return nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
