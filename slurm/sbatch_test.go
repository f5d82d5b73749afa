package slurm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sbatchWords splits the text after #SBATCH into arguments the way sbatch
// does (src/sbatch/opt.c, _get_argument, Slurm 22.05): whitespace
// separates, ' and " group, a backslash takes the next character
// literally, an unquoted # ends the line, and an argument may not start
// with ':'.
func sbatchWords(line string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i < len(line) && line[i] == ':' {
			return nil, fmt.Errorf("sbatch: unexpected ':' in %q", line)
		}
		if i == len(line) {
			return words, nil
		}
		var w []byte
		var q byte
		escape, comment := false, false
		for i < len(line) && (q != 0 || !isSpace(line[i])) {
			c := line[i]
			switch {
			case escape:
				escape = false
			case c == '\\':
				escape = true
				i++
				continue
			case q != 0:
				if c == q {
					q = 0
					i++
					continue
				}
			case c == '"' || c == '\'':
				q = c
				i++
				continue
			case c == '#':
				comment = true
			}
			if comment {
				break
			}
			w = append(w, c)
			i++
		}
		if len(w) > 0 {
			words = append(words, string(w))
		}
		if comment {
			return words, nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' }

// unquoteShell decodes a bash word made of single-quoted strings and \'
// only (what shellWord writes); ok is false for anything bash would
// expand or split.
func unquoteShell(w string) (string, bool) {
	var b strings.Builder
	if w == "" {
		return "", false
	}
	for len(w) > 0 {
		switch {
		case w[0] == '\'':
			k := strings.IndexByte(w[1:], '\'')
			if k < 0 {
				return "", false
			}
			b.WriteString(w[1 : 1+k])
			w = w[k+2:]
		case strings.HasPrefix(w, `\'`):
			b.WriteByte('\'')
			w = w[2:]
		default:
			return "", false
		}
	}
	return b.String(), true
}

// referenceCode is the code (non-comment) lines of a script with plain
// values: what every script must run, whatever its values.
func referenceCode(t testing.TB) []string {
	j := &Job{Name: "x", Tasks: []int{0}, N: 1, Concurrency: 1, LogDir: "/l", Batch: "/b", Spec: "/s"}
	var b bytes.Buffer
	if err := j.Write(&b); err != nil {
		t.Fatal(err)
	}
	_, code := splitScript(b.String())
	return code
}

// splitScript returns the #SBATCH lines and the code lines of a script.
func splitScript(script string) (directives, code []string) {
	for _, l := range strings.Split(script, "\n") {
		switch {
		case strings.HasPrefix(l, "#SBATCH"):
			directives = append(directives, l)
		case strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#"):
		default:
			code = append(code, l)
		}
	}
	return directives, code
}

// checkScript verifies what sbatch and bash will make of a rendered
// script: the #SBATCH lines, as sbatch splits them, are exactly the
// options of j with exactly its values, all before the first command;
// #SLURM lines (which sbatch also reads) are absent; and the code is the
// reference code, with the binary and the spec as single-quoted words that
// decode to j's values. So no value can add a line, an option or a
// command.
func checkScript(script string, j *Job, ref []string) error {
	want := map[string]string{
		"--job-name": j.JobName(), "--array": j.Array(),
		"--output":    strings.ReplaceAll(j.LogDir, "%", "%%") + "/%A_%a.log",
		"--signal":    "B:TERM@120",
		"--requeue":   "",
		"--open-mode": "append",
		"--partition": j.Partition,
		"--account":   j.Account,
		"--qos":       j.QOS,
		"--time":      j.Time,
		"--mem":       j.Mem,
		"--cpus-per-task": func() string {
			if j.CPUs > 0 {
				return strconv.Itoa(j.CPUs)
			}
			return ""
		}(),
		"--gres": func() string {
			if j.GPUs > 0 {
				return "gpu:" + strconv.Itoa(j.GPUs)
			}
			return ""
		}(),
	}
	valued := map[string]bool{"--requeue": false}
	for k, v := range want {
		if _, ok := valued[k]; !ok {
			valued[k] = true
			if v == "" {
				delete(want, k) // an unset option writes no line
			}
		}
	}
	got := map[string]string{}
	lines := strings.Split(script, "\n")
	commandSeen := false
	var code []string
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		switch {
		case strings.HasPrefix(l, "#SLURM"):
			return fmt.Errorf("a #SLURM line: %q", l)
		case strings.HasPrefix(l, "#SBATCH"):
			if commandSeen {
				return fmt.Errorf("#SBATCH after the first command (sbatch ignores it): %q", l)
			}
			words, err := sbatchWords(l[len("#SBATCH"):])
			if err != nil {
				return err
			}
			if len(words) != 1 {
				return fmt.Errorf("%q: sbatch reads %d arguments %q, want 1", l, len(words), words)
			}
			if low := strings.ToLower(l); strings.Contains(low, "hetjob") || strings.Contains(low, "packjob") {
				return fmt.Errorf("%q: sbatch would start another job component", l)
			}
			opt, val, hasVal := strings.Cut(words[0], "=")
			if _, dup := got[opt]; dup {
				return fmt.Errorf("%s twice", opt)
			}
			if hasVal != valued[opt] {
				return fmt.Errorf("%q: unexpected option or value", l)
			}
			got[opt] = val
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		default:
			commandSeen = true
			code = append(code, l)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("#SBATCH options\n%v\nwant\n%v", got, want)
	}
	if len(code) != len(ref) {
		return fmt.Errorf("%d code lines, want %d:\n%s", len(code), len(ref), strings.Join(code, "\n"))
	}
	for i := range code {
		for _, v := range []struct{ name, value string }{{"batch=", j.Batch}, {"spec=", j.Spec}} {
			if strings.HasPrefix(ref[i], v.name) {
				dec, ok := unquoteShell(strings.TrimPrefix(code[i], v.name))
				if !strings.HasPrefix(code[i], v.name) || !ok || dec != v.value {
					return fmt.Errorf("code line %q: want %s with %q single-quoted", code[i], v.name, v.value)
				}
				goto next
			}
		}
		if code[i] != ref[i] {
			return fmt.Errorf("code line %q, want %q", code[i], ref[i])
		}
	next:
	}
	return nil
}

// TestSbatchOverrides: settings given at generation (flags, environment)
// win over the spec's [slurm] table, "none" removes a line, the spec fills
// the rest, and the notes say where each came from.
func TestSbatchOverrides(t *testing.T) {
	p := writeSpec(t, goodSpec+`
[slurm]
partition = "cpu"
account = "specacct"
time = "01:00:00"
mem = "2G"
cpus = 4
concurrency = 3
`)
	over := map[string]Setting{
		"partition": {"debug", "-partition"},
		"qos":       {"high", "$SBATCH_QOS"},
		"time":      {"none", "$SBATCH_TIMELIMIT"},
		"mem":       {"500M", "-mem"},
	}
	scripts := render(t, p, testPlan(over))
	got := scripts[0]
	for _, w := range []string{"#SBATCH --partition=debug\n", "#SBATCH --qos=high\n", "#SBATCH --account=specacct\n",
		"#SBATCH --mem=500M\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --array=0-11%3\n",
		"# --partition=debug: from -partition\n", "# --qos=high: from $SBATCH_QOS\n",
		"# --time not set: $SBATCH_TIMELIMIT says none\n", "# --account=specacct: from the spec\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("script lacks %q:\n%s", w, got)
		}
	}
	for _, w := range []string{"--time=", "--partition=cpu", "--mem=2G", "--mem=210M"} {
		if strings.Contains(got, "#SBATCH "+w) {
			t.Errorf("script has %q, which an override replaced:\n%s", w, got)
		}
	}
	// Without overrides the spec's values stand.
	got = render(t, p, testPlan(nil))[0]
	for _, w := range []string{"--partition=cpu\n", "--time=01:00:00\n", "--mem=2G\n", "--account=specacct\n"} {
		if !strings.Contains(got, "#SBATCH "+w) {
			t.Errorf("script without overrides lacks %q", w)
		}
	}
	// An override that is not a Slurm value is refused, naming its source.
	s, err := Load(p, known)
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{"partition": "a b", "time": "01:00:00\ntouch F", "mem": "4Q", "account": "x;y", "qos": "$(id)"} {
		_, err := s.Jobs(testPlan(map[string]Setting{key: {v, "-" + key}}))
		if err == nil || !strings.Contains(err.Error(), "-"+key) || strings.Contains(err.Error(), "\n") {
			t.Errorf("override %s=%q: error %v, want one line naming -%s", key, v, err, key)
		}
	}
}

// TestGPUPartition (issue 11 item 6): with [slurm] gpu_partition, the
// tasks whose method can use a GPU become a second job array on that
// partition with --gres=gpu:1, the others stay on the default partition;
// device = "cpu" keeps every task on the CPU array, device = "cuda" puts
// every task on a GPU.
func TestGPUPartition(t *testing.T) {
	mixed := `
name = "mixed"
input = "run.h5"
output = "res"
[[axis]]
name = "seed"
values = [1, 2, 3]
[[axis]]
name = "method"
values = ["tikhonov2", "eandarn"]
[slurm]
gpu_partition = "gpu"
`
	dir := t.TempDir()
	p := filepath.Join(dir, "mixed.toml")
	if err := os.WriteFile(p, []byte(mixed), 0o644); err != nil {
		t.Fatal(err)
	}
	scripts := render(t, p, testPlan(nil))
	if len(scripts) != 2 {
		t.Fatalf("%d scripts, want one CPU and one GPU array", len(scripts))
	}
	golden(t, "mixed-cpu.sbatch", scripts[0])
	golden(t, "mixed-gpu.sbatch", scripts[1])
	cpu, gpu := scripts[0], scripts[1]
	for _, w := range []string{"#SBATCH --job-name=eandarn-mixed-cpu\n", "#SBATCH --array=0-4:2%3\n", "#SBATCH --mem=140M\n"} {
		if !strings.Contains(cpu, w) {
			t.Errorf("CPU script lacks %q:\n%s", w, cpu)
		}
	}
	if strings.Contains(cpu, "--gres") || strings.Contains(cpu, "#SBATCH --partition") {
		t.Errorf("CPU script asks for a GPU or a partition:\n%s", cpu)
	}
	for _, w := range []string{"#SBATCH --job-name=eandarn-mixed-gpu\n", "#SBATCH --array=1-5:2%3\n", "#SBATCH --partition=gpu\n", "#SBATCH --gres=gpu:1\n", "#SBATCH --mem=150M\n"} {
		if !strings.Contains(gpu, w) {
			t.Errorf("GPU script lacks %q:\n%s", w, gpu)
		}
	}

	// A -partition override moves the CPU array only; -gpu-partition the GPU one.
	scripts = render(t, p, testPlan(map[string]Setting{"partition": {"short", "-partition"}, "gpu_partition": {"a100", "-gpu-partition"}}))
	if !strings.Contains(scripts[0], "#SBATCH --partition=short\n") || !strings.Contains(scripts[1], "#SBATCH --partition=a100\n") {
		t.Errorf("overridden partitions:\n%s\n%s", scripts[0], scripts[1])
	}

	for _, tc := range []struct {
		name, extra string
		gres        bool
		partition   string
	}{
		{"device cpu", "[fixed]\ndevice = \"cpu\"\n", false, ""},
		{"device cuda", "[fixed]\ndevice = \"cuda\"\n", true, ""},
		{"device cuda with gpu_partition", "[fixed]\ndevice = \"cuda\"\n[slurm]\ngpu_partition = \"gpu\"\n", true, "gpu"},
		{"no gpu_partition", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSpec(t, "input = 'run.h5'\noutput = 'res'\n[[axis]]\nname = 'method'\nvalues = ['tikhonov2', 'eandarn']\n"+tc.extra)
			scripts := render(t, p, testPlan(nil))
			if len(scripts) != 1 {
				t.Fatalf("%d scripts, want 1", len(scripts))
			}
			if got := strings.Contains(scripts[0], "#SBATCH --gres=gpu:1\n"); got != tc.gres {
				t.Errorf("--gres=gpu:1 present %v, want %v", got, tc.gres)
			}
			hasPart := strings.Contains(scripts[0], "#SBATCH --partition=")
			if hasPart != (tc.partition != "") || tc.partition != "" && !strings.Contains(scripts[0], "#SBATCH --partition="+tc.partition+"\n") {
				t.Errorf("partition line wrong, want %q:\n%s", tc.partition, scripts[0])
			}
		})
	}
}

// TestMemoryEstimateAndNodes: the job asks for the largest estimate of its
// tasks; where the partition's nodes report no memory (RealMemory unset:
// Slurm refuses any --mem there) it asks for none, and where the estimate
// exceeds every node it warns.
func TestMemoryEstimateAndNodes(t *testing.T) {
	p := writeSpec(t, goodSpec)
	s, err := Load(p, known)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		node    int
		known   bool
		mem     string
		warning bool
	}{
		{"no sinfo", 0, false, "210M", false},
		{"roomy nodes", 64000, true, "210M", false},
		{"RealMemory unset", 1, true, "", false},
		{"small nodes", 200, true, "210M", true},
	} {
		plan := testPlan(nil)
		plan.NodeMem = func(string) (int, bool) { return tc.node, tc.known }
		jobs, err := s.Jobs(plan)
		if err != nil {
			t.Fatal(err)
		}
		if j := jobs[0]; j.Mem != tc.mem || (len(j.Warnings) > 0) != tc.warning {
			t.Errorf("%s: mem %q warnings %q, want %q and warning %v", tc.name, j.Mem, j.Warnings, tc.mem, tc.warning)
		}
	}
	plan := testPlan(nil)
	plan.Mem = func(t Task) (Estimate, bool) { return Estimate{}, t.Index != 5 }
	jobs, err := s.Jobs(plan)
	if err != nil {
		t.Fatal(err)
	}
	if jobs[0].Mem != "" {
		t.Errorf("mem %q with a task without an estimate, want none", jobs[0].Mem)
	}
}

// TestBatchBinary: the script runs the generating binary by its absolute
// path, unless the spec's batch names another: a name is looked up on the
// task's PATH, a relative path is resolved against the spec's folder.
func TestBatchBinary(t *testing.T) {
	for _, tc := range []struct{ batch, want string }{
		{"", "/opt/eandarn/bin/eandarn-batch"},
		{"eandarn-batch", "eandarn-batch"},
		{"bin/eandarn-batch", "SPECDIR/bin/eandarn-batch"},
		{"/usr/local/bin/eb", "/usr/local/bin/eb"},
	} {
		body := goodSpec
		if tc.batch != "" {
			body += fmt.Sprintf("[slurm]\nbatch = %q\n", tc.batch)
		}
		got := render(t, writeSpec(t, body), testPlan(nil))[0]
		if !strings.Contains(got, "\nbatch='"+tc.want+"'\n") {
			t.Errorf("batch %q: script lacks batch='%s'", tc.batch, tc.want)
		}
	}
}

// TestArrayRanges: task indices become the shortest plain Slurm ranges.
func TestArrayRanges(t *testing.T) {
	for _, tc := range []struct {
		idx  []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 2}, "0,2"},
		{[]int{0, 2, 4, 6}, "0-6:2"},
		{[]int{1, 3, 5, 6, 7, 9}, "1-5:2,6-7,9"},
		{[]int{0, 1, 2, 4, 5, 6, 8}, "0-2,4-6,8"},
	} {
		if got := arrayRanges(tc.idx); got != tc.want {
			t.Errorf("arrayRanges(%v) = %q, want %q", tc.idx, got, tc.want)
		}
		// The ranges expand back to the indices.
		var back []int
		for _, part := range strings.Split(tc.want, ",") {
			r, step, _ := strings.Cut(part, ":")
			a, b, isRange := strings.Cut(r, "-")
			lo, _ := strconv.Atoi(a)
			hi := lo
			if isRange {
				hi, _ = strconv.Atoi(b)
			}
			st := 1
			if step != "" {
				st, _ = strconv.Atoi(step)
			}
			for i := lo; i <= hi; i += st {
				back = append(back, i)
			}
		}
		if !slices.Equal(back, tc.idx) {
			t.Errorf("%q expands to %v, want %v", tc.want, back, tc.idx)
		}
	}
}

// hostileDir is a folder name that runs commands wherever a shell
// evaluates it unquoted.
const hostileDir = "dir with space $(touch F) `touch F`; touch F & 'q' \"dq\" %A #c \\x"

// TestHostileValuesExecuteNothing (issue 12 defect 2): a spec in a folder
// named with shell syntax, output and binary paths with it, run by bash:
// nothing in them is executed, the #SBATCH lines are what sbatch must
// read, a missing binary is exit status 2 with one message, and a binary
// at such a path receives exactly its arguments.
func TestHostileValuesExecuteNothing(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	root := t.TempDir()
	dir := filepath.Join(root, strings.ReplaceAll(hostileDir, `\`, "")) // a backslash in the log path is refused (below)
	binDir := filepath.Join(dir, "bin $(touch F)")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The fake eandarn-batch writes its arguments, one per line, to $ARGS.
	fake := filepath.Join(binDir, `it's "batch"; touch F`)
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, batch string
		status      int
	}{
		{"binary with a command", "eandarn-batch; touch F", MissingBinaryStatus},
		{"command substitution", "$(touch F)", MissingBinaryStatus},
		{"hostile path of a real binary", fake, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := filepath.Join(dir, "spec $(touch F).toml")
			body := fmt.Sprintf("input = 'run.h5'\noutput = \"out $(touch F) '\\\"%%a\"\n[[axis]]\nname = 'seed'\nvalues = [1, 2]\n[slurm]\nbatch = %q\n", tc.batch)
			if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			jobs := loadJobs(t, spec, testPlan(nil))
			var b bytes.Buffer
			if err := jobs[0].Write(&b); err != nil {
				t.Fatal(err)
			}
			if err := checkScript(b.String(), jobs[0], referenceCode(t)); err != nil {
				t.Fatal(err)
			}
			args := filepath.Join(root, "args")
			os.Remove(args)
			cmd := exec.Command(bash, "-c", b.String())
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=1", "ARGS="+args)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.status {
				t.Errorf("script exit %d, want %d: %s", code, tc.status, out)
			}
			if tc.status == MissingBinaryStatus {
				if msg := strings.TrimSpace(string(out)); strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "not found or not executable") {
					t.Errorf("missing binary: output %q, want one line naming it", out)
				}
			} else {
				got, err := os.ReadFile(args)
				abs, _ := filepath.Abs(spec)
				if want := "-sweep\n" + abs + "\n-task\n1\n"; err != nil || string(got) != want {
					t.Errorf("the binary got arguments %q (%v), want %q", got, err, want)
				}
			}
			if found := findF(t, root); found != "" {
				t.Fatalf("a command from a value ran: %s exists", found)
			}
		})
	}
	// A backslash in the output folder would turn off Slurm's %A/%a log
	// names: refused at generation.
	spec := filepath.Join(root, "bs.toml")
	if err := os.WriteFile(spec, []byte("input = 'run.h5'\noutput = 'a\\b'\n[[axis]]\nname = 'seed'\nvalues = [1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadJobs(t, spec, testPlan(nil))[0].Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "backslash") {
		t.Errorf("log folder with a backslash: %v, want refused", err)
	}
}

// findF returns the path of any file named F under dir.
func findF(t *testing.T, dir string) string {
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "F" {
			found = p
		}
		return nil
	})
	return found
}

// TestJobRefusesUnquotable: every field of a job refuses control
// characters (a newline would end an #SBATCH or comment line and start a
// command), and #SBATCH values refuse hetjob/packjob.
func TestJobRefusesUnquotable(t *testing.T) {
	base := func() *Job {
		return &Job{Name: "x", Tasks: []int{0, 1}, N: 2, Concurrency: 1, LogDir: "/l", Batch: "/b", Spec: "/s"}
	}
	for _, tc := range []struct {
		name string
		set  func(*Job)
	}{
		{"name", func(j *Job) { j.Name = "x\ntouch F" }},
		{"partition", func(j *Job) { j.Partition = "cpu\ntouch F" }},
		{"time", func(j *Job) { j.Time = "01:00:00\ntouch F" }},
		{"mem", func(j *Job) { j.Mem = "1G\rtouch F" }},
		{"account", func(j *Job) { j.Account = "a\x00b" }},
		{"qos", func(j *Job) { j.QOS = "hetjob" }},
		{"log folder", func(j *Job) { j.LogDir = "/l\n/x" }},
		{"log folder hetjob", func(j *Job) { j.LogDir = "/my/HetJob/res" }},
		{"batch", func(j *Job) { j.Batch = "/b\ntouch F" }},
		{"spec", func(j *Job) { j.Spec = "/s\ntouch F" }},
		{"note", func(j *Job) { j.Notes = []string{"ok", "a\ntouch F"} }},
		{"no tasks", func(j *Job) { j.Tasks = nil }},
		{"concurrency", func(j *Job) { j.Concurrency = 0 }},
	} {
		j := base()
		tc.set(j)
		var b bytes.Buffer
		err := j.Write(&b)
		var se *SpecError
		if err == nil || !errors.As(err, &se) || strings.Contains(err.Error(), "\n") || b.Len() != 0 {
			t.Errorf("%s: error %v, %d bytes written: want a one-line *SpecError and nothing written", tc.name, err, b.Len())
		}
	}
}
