package slurm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets of issue 12: `make fuzz` (or go test -run '^$' -fuzz
// FuzzParse ./slurm) explores beyond the seeds, which every go test runs:
// the specs of slurm/experiments and testdata/slurm/specs (valid, hostile,
// oversized).

// addSpecSeeds adds every seed spec as a fuzz input.
func addSpecSeeds(f *testing.F) {
	for _, pattern := range []string{"experiments/*.toml", "../testdata/slurm/specs/*.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzParse: any spec text is a spec or a one-line *SpecError, never a
// panic; an accepted spec has 1..MaxTasks tasks, each of which exists, and
// its sbatch scripts are either refused (a *SpecError, nothing written) or
// pass checkScript: exactly the job's #SBATCH options and values as sbatch
// reads them, and the fixed code with its values single-quoted.
func FuzzParse(f *testing.F) {
	addSpecSeeds(f)
	ref := referenceCode(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse(data, "/sweeps/a b/spec.toml", known)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("error %T %q: want a one-line *SpecError", err, err)
			}
			return
		}
		if n := s.Len(); n < 1 || n > MaxTasks {
			t.Fatalf("%d tasks", n)
		}
		for _, i := range []int{0, s.Len() - 1} {
			if _, err := s.Task(i); err != nil {
				t.Fatalf("task %d: %v", i, err)
			}
		}
		jobs, err := s.Jobs(testPlan(nil))
		if err != nil {
			return
		}
		for _, j := range jobs {
			var b bytes.Buffer
			if err := j.Write(&b); err != nil {
				var se *SpecError
				if !errors.As(err, &se) || b.Len() > 0 {
					t.Fatalf("Write: %T %v with %d bytes written", err, err, b.Len())
				}
				continue
			}
			if err := checkScript(b.String(), j, ref); err != nil {
				t.Fatalf("%v\nscript:\n%s", err, b.String())
			}
		}
	})
}

// FuzzSbatch: whatever the values of a job, Write refuses it (a one-line
// *SpecError, nothing written) or renders a script that passes
// checkScript.
func FuzzSbatch(f *testing.F) {
	f.Add("demo", "", "cpu", "", "", "01:00:00", "4G", "/res/logs", "/opt/eb", "/s/spec.toml", "# note", 2, 0, 8, []byte{0, 1, 1})
	f.Add("x", "gpu", "gpu,a100", "acct", "high", "none", "", "/dir with space $(touch F)/logs", "eandarn-batch; touch F", "/d/`touch F`.toml", "a\nb", 0, 1, 1, []byte{3, 2})
	f.Add("y", "cpu", "a b", "x\"y", "q'q", "1:00\ntouch F", "1G #c", "/l/%A \\x", "it's", "'", "", -1, -1, 0, []byte{})
	f.Add("hetjob", "", "", "", "PackJob", "", "", "/a:b", "/b", "/s", "#SBATCH --x", 1, 1, 1, []byte{0})
	ref := referenceCode(f)
	f.Fuzz(func(t *testing.T, name, group, partition, account, qos, tm, mem, logDir, batch, spec, note string, cpus, gpus, conc int, steps []byte) {
		j := &Job{Name: name, Group: group, Partition: partition, Account: account, QOS: qos, Time: tm, Mem: mem,
			LogDir: logDir, Batch: batch, Spec: spec, Notes: []string{note}, CPUs: cpus, GPUs: gpus, Concurrency: conc}
		next := 0
		for _, d := range steps {
			next += int(d)%7 + 1
			j.Tasks = append(j.Tasks, next-1)
		}
		j.N = next
		var b bytes.Buffer
		if err := j.Write(&b); err != nil {
			var se *SpecError
			if !errors.As(err, &se) || b.Len() > 0 || bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("Write: %T %q with %d bytes written", err, err, b.Len())
			}
			return
		}
		if err := checkScript(b.String(), j, ref); err != nil {
			t.Fatalf("%v\nscript:\n%s", err, b.String())
		}
	})
}
