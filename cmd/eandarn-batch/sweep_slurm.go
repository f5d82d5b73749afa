package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/slurm"
	"github.com/eandarn/eandarn/solver/pinn"
)

// sbatchOverrides are the sbatch settings -sbatch and -submit take as
// flags or from the environment variables sbatch itself reads (a flag wins
// over the variable, both over the spec's [slurm] table).
var sbatchOverrides = []struct{ key, flag, env, usage string }{
	{"partition", "partition", "SBATCH_PARTITION", "with -sbatch/-submit: --partition of the tasks, or none (default $SBATCH_PARTITION, else [slurm] partition, else the cluster's default)"},
	{"gpu_partition", "gpu-partition", "", "with -sbatch/-submit: --partition of the tasks that use a GPU (default [slurm] gpu_partition)"},
	{"account", "account", "SBATCH_ACCOUNT", "with -sbatch/-submit: --account, or none (default $SBATCH_ACCOUNT, else [slurm] account)"},
	{"qos", "qos", "SBATCH_QOS", "with -sbatch/-submit: --qos, or none (default $SBATCH_QOS, else [slurm] qos)"},
	{"time", "time", "SBATCH_TIMELIMIT", "with -sbatch/-submit: --time, or none (default $SBATCH_TIMELIMIT, else [slurm] time, else the partition's limit)"},
	{"mem", "mem", "SBATCH_MEM_PER_NODE", "with -sbatch/-submit: --mem, or none (default $SBATCH_MEM_PER_NODE, else [slurm] mem, else the estimate)"},
}

// overrides collects the sbatch settings given as flags or environment
// variables.
func (f *sweepFlags) overrides() map[string]slurm.Setting {
	o := map[string]slurm.Setting{}
	for _, s := range sbatchOverrides {
		if v := *f.settings[s.key]; v != "" {
			o[s.key] = slurm.Setting{Value: v, From: "-" + s.flag}
		} else if v := os.Getenv(s.env); s.env != "" && v != "" {
			o[s.key] = slurm.Setting{Value: v, From: "$" + s.env}
		}
	}
	return o
}

// generate is -sbatch and -submit. It loads the run file (checking it once
// for every task, and giving the sizes of the memory estimate), plans the
// job arrays and renders their scripts, and only then creates OUTPUT/logs
// (Slurm does not create log folders) and prints the script or submits.
func generate(f *sweepFlags, sw *sweep, stdout io.Writer, log *slog.Logger) error {
	s := sw.spec
	if err := checkInput(s); err != nil {
		return err
	}
	p, err := runfile.Load(s.InputPath())
	if err != nil {
		return cli.BadInputf("sweep %s: input: %w", s.Path(), err)
	}
	sz := sizesOf(p)
	cpus := 1
	if s.Slurm.CPUs != nil {
		cpus = *s.Slurm.CPUs
	}
	self, err := os.Executable()
	if err != nil {
		log.Debug("path of this binary unknown", "err", err)
		self = ""
	}
	jobs, err := s.Jobs(slurm.Plan{
		Overrides:  f.overrides(),
		Self:       self,
		GPUCapable: func(t slurm.Task) bool { return slices.Contains(pinn.Names, sw.work[t.Index].method) },
		Mem: func(t slurm.Task) (slurm.Estimate, bool) {
			return sw.work[t.Index].estimate(sz, cpus), true
		},
		NodeMem: sinfoNodeMem,
	})
	if err != nil {
		return cli.BadInput(err)
	}
	if f.sbatch {
		j, err := pickGroup(s, jobs, f.group)
		if err != nil {
			return err
		}
		jobs = []*slurm.Job{j}
	}
	scripts := make([][]byte, len(jobs))
	for i, j := range jobs {
		var b bytes.Buffer
		if err := j.Write(&b); err != nil {
			return cli.BadInput(err)
		}
		scripts[i] = b.Bytes()
	}
	for _, j := range jobs {
		for _, w := range j.Warnings {
			log.Warn(w)
		}
	}
	// The script checks its binary on the node; one missing here too is
	// worth a word now.
	if _, err := exec.LookPath(jobs[0].Batch); err != nil {
		log.Warn("the tasks' eandarn-batch is not an executable here; the script checks again on the node", "batch", jobs[0].Batch)
	}
	var sbatch string
	if f.submit {
		if sbatch, err = exec.LookPath("sbatch"); err != nil {
			return cli.BadInputf("-submit: no sbatch on PATH (no Slurm client here): write the script with -sbatch and submit it where Slurm runs")
		}
	}
	if err := s.MakeOutput("logs"); err != nil {
		return cli.BadInput(err)
	}
	if f.sbatch {
		_, err := stdout.Write(scripts[0])
		return err
	}
	return submit(sbatch, s, jobs, scripts, stdout, log)
}

// pickGroup returns the job -sbatch prints: the only one, or the one of
// -group (cpu or gpu) when the sweep has both kinds of tasks.
func pickGroup(s *slurm.Spec, jobs []*slurm.Job, group string) (*slurm.Job, error) {
	kind := func(j *slurm.Job) string {
		if j.GPUs > 0 {
			return "gpu"
		}
		return "cpu"
	}
	if len(jobs) == 1 && (group == "" || group == kind(jobs[0])) {
		return jobs[0], nil
	}
	if group == "" {
		return nil, cli.BadInputf("sweep %s: %d CPU tasks and %d GPU tasks need two job arrays: -sbatch -group cpu, -sbatch -group gpu, or -submit for both",
			s.Path(), len(jobs[0].Tasks), len(jobs[1].Tasks))
	}
	for _, j := range jobs {
		if kind(j) == group {
			return j, nil
		}
	}
	return nil, cli.BadInputf("sweep %s: -group %s: the sweep has no %s tasks", s.Path(), group, group)
}

// submitTimeout bounds one sbatch call (a controller that does not answer
// makes sbatch retry for minutes).
const submitTimeout = 2 * time.Minute

// submitted is one job array of -submit's JSON line.
type submitted struct {
	JobID  string `json:"job_id"`
	Group  string `json:"group"`
	Tasks  int    `json:"tasks"`
	Script string `json:"script"`
}

// submit writes each job's script to OUTPUT/NAME[-GROUP].sbatch, submits
// it with the sbatch binary and --parsable, and prints one JSON line with
// the job ids.
// sbatch runs without the SBATCH_* variables of sbatchOverrides: the
// scripts hold them already, and sbatch would otherwise let them override
// the GPU array's partition.
func submit(sbatch string, s *slurm.Spec, jobs []*slurm.Job, scripts [][]byte, stdout io.Writer, log *slog.Logger) error {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.ContainsFunc(sbatchOverrides, func(o struct{ key, flag, env, usage string }) bool { return o.env != "" && o.env == name })
	})
	var done []submitted
	for i, j := range jobs {
		name := j.JobName() + ".sbatch"
		path := filepath.Join(s.OutputDir(), strings.TrimPrefix(name, "eandarn-"))
		err := atomicfile.WriteFile(path, func(tmp string) error { return os.WriteFile(tmp, scripts[i], 0o644) })
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), submitTimeout)
		cmd := exec.CommandContext(ctx, sbatch, "--parsable", path)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		cancel()
		if err != nil {
			if len(done) > 0 {
				log.Warn("submitted before the failure", "jobs", done)
			}
			err = fmt.Errorf("sbatch %s: %w: %s", path, err, strings.TrimSpace(errOut.String()))
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.Exited() {
				// sbatch refused the job as asked (partition, account,
				// memory, time): the user's settings, exit status 2.
				return cli.BadInput(err)
			}
			return err
		}
		id, _, _ := strings.Cut(strings.TrimSpace(out.String()), ";")
		if !jobID.MatchString(id) {
			return fmt.Errorf("sbatch %s: no job id in its output %q", path, out.String())
		}
		group := j.Group
		if group == "" {
			group = "all"
		}
		done = append(done, submitted{JobID: id, Group: group, Tasks: len(j.Tasks), Script: path})
		log.Info("submitted", "job", id, "tasks", len(j.Tasks), "script", path)
	}
	return cli.PrintJSON(stdout, map[string]any{"sweep": s.Path(), "jobs": done})
}

var jobID = regexp.MustCompile(`^[0-9]+$`)

// sinfoTimeout bounds the sinfo call of sinfoNodeMem.
const sinfoTimeout = 10 * time.Second

// sinfoNodeMem asks sinfo for the largest memory (MiB) configured for a
// node of partition (a comma-separated list, or "" for the default
// partition, which sinfo marks with *). ok is false where there is no
// Slurm client or it does not answer.
func sinfoNodeMem(partition string) (mib int, ok bool) {
	path, err := exec.LookPath("sinfo")
	if err != nil {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), sinfoTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-h", "-N", "-o", "%P %m").Output()
	if err != nil {
		return 0, false
	}
	return parseNodeMem(out, partition)
}

// parseNodeMem reads `sinfo -h -N -o "%P %m"` lines (partition, * for the
// default, and the node's memory in MiB) and returns the largest memory of
// a node of partition.
func parseNodeMem(out []byte, partition string) (mib int, ok bool) {
	want := strings.Split(partition, ",")
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		name, def := strings.CutSuffix(fields[0], "*")
		m, err := strconv.Atoi(strings.TrimSuffix(fields[1], "+"))
		if err != nil {
			continue
		}
		if (partition == "" && def || partition != "" && slices.Contains(want, name)) && (!ok || m > mib) {
			mib, ok = m, true
		}
	}
	return mib, ok
}
