package slurm

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eandarn/eandarn/io/resultfile"
)

// TestSlurmIntegration runs sweeps on a real, private, single-node Slurm
// whose only partition is not called cpu and whose node has little memory
// (RealMemory=512): the setting of a fresh cluster (issue 16). Every spec
// has no [slurm] table and is submitted exactly as eandarn-batch generates
// it (-submit, or -sbatch then sbatch): no partition, no time, the
// estimated memory, the absolute path of the generating binary.
//
// A 4-task array must finish. A PINN task sent TERM mid-training with
// `scancel --batch --signal=TERM`, which the sbatch script forwards to
// eandarn-batch, checkpoints, exits with status 3, is requeued by the
// script and resumes; its result must equal an uninterrupted run's bit for
// bit (issue 6). A task ended by a plain scancel must stay cancelled. A
// sweep in a folder named with shell syntax runs and executes none of it
// (issue 12 defect 2).
//
// --batch signals only the batch shell, exactly as --signal=B:TERM@120 does
// before the time limit, so the test exercises the script's trap; a plain
// `scancel --signal=TERM` signals job steps only (there are none here).
//
// Slurm delays a requeued job by about 120 s (Reason=BeginTime); the test
// lifts that with `scontrol update JobId=… StartTime=now`.
//
// It needs root (the daemons, the munge user), Debian's slurmctld, slurmd,
// slurm-client and munge (`make deps` as root installs them) and skips with
// a message otherwise, or when the daemons do not come up.
func TestSlurmIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Slurm cluster test")
	}
	c := startCluster(t, "batch", "RealMemory=512")
	bin := buildBatch(t)
	dir := c.dir
	run := filepath.Join(dir, "tiny_run.h5")
	copyFile(t, filepath.Join("..", "testdata", "io", "tiny_run.h5"), run)

	// An uninterrupted reference for the interrupted PINN task, computed
	// while the cluster works.
	const epochs = "1000" // about 16 s of training with the defaults on a quiet 2-core machine
	ref := filepath.Join(dir, "reference.h5")
	refCmd := exec.Command(bin, "-in", run, "-out", ref, "-method", "eandarn", "-epochs", epochs, "-seed", "1", "-log-level", "warn")
	var refErr bytes.Buffer
	refCmd.Stderr = &refErr
	if err := refCmd.Start(); err != nil {
		t.Fatal(err)
	}

	// pinnSpec writes name.toml: one EAND-ARN task of the given seed, long
	// enough to be interrupted mid-training, its results in dir/name.
	pinnSpec := func(t *testing.T, name string, seed int) string {
		return writeFile(t, dir, name+".toml", fmt.Sprintf(`
input = "tiny_run.h5"
output = %q
[fixed]
method = "eandarn"
epochs = %s
[[axis]]
name = "seed"
values = [%d]
`, name, epochs, seed))
	}

	t.Run("array of 4 as generated", func(t *testing.T) {
		spec := writeFile(t, dir, "four.toml", fourSpec)
		id := c.submit(t, bin, spec)
		script, _ := os.ReadFile(filepath.Join(dir, "four", "four.sbatch"))
		c.checkFresh(t, string(script), bin)
		c.waitGone(t, id, 90*time.Second)
		c.checkFour(t, bin, spec)
	})

	t.Run("TERM, requeue, resume", func(t *testing.T) {
		spec := pinnSpec(t, "long", 1)
		id := c.sbatch(t, bin, spec)
		task := id + "_0"
		long := filepath.Join(dir, "long")
		// Training has begun (and eandarn-batch handles TERM) once the
		// initial loss ratio is logged.
		c.waitLog(t, long, "initial loss ratio", 60*time.Second)
		c.cmd(t, "scancel", "--batch", "--signal=TERM", task)
		c.waitLog(t, long, "no result written", 30*time.Second)
		c.waitState(t, task, "PENDING", 30*time.Second)
		ckpt := filepath.Join(long, "checkpoints", "task-00000.ckpt")
		if _, err := os.Stat(ckpt); err != nil {
			t.Fatalf("no checkpoint after TERM: %v (log: %s)", err, c.logs(long))
		}
		if _, err := os.Stat(filepath.Join(long, "task-00000.h5")); err == nil {
			t.Fatal("a result file exists after the interruption")
		}
		c.cmd(t, "scontrol", "update", "JobId="+task, "StartTime=now")
		c.waitGone(t, id, 90*time.Second)

		log := c.logs(long)
		m := regexp.MustCompile(`msg=resumed .* step=(\d+)`).FindStringSubmatch(log)
		if m == nil {
			t.Fatalf("the requeued task did not resume from its checkpoint; log:\n%s", log)
		}
		if step, _ := strconv.Atoi(m[1]); step == 0 {
			t.Errorf("resumed at step 0: the interruption came before any training")
		}
		if err := refCmd.Wait(); err != nil {
			t.Fatalf("reference run: %v: %s", err, refErr.String())
		}
		sameResult(t, ref, filepath.Join(long, "task-00000.h5"))
	})

	// A plain scancel also sends TERM (so the task checkpoints and exits
	// with 3), but the job is cancelled: the script must not requeue it.
	t.Run("scancel stays cancelled", func(t *testing.T) {
		spec := pinnSpec(t, "cancel", 2)
		id := c.sbatch(t, bin, spec)
		out := filepath.Join(dir, "cancel")
		c.waitLog(t, out, "initial loss ratio", 60*time.Second)
		c.cmd(t, "scancel", id+"_0")
		c.waitGone(t, id, 30*time.Second)
		time.Sleep(2 * time.Second)
		if q, _ := c.output("squeue", "-h", "-j", id, "-o", "%i %T %r"); strings.TrimSpace(q) != "" {
			t.Errorf("a cancelled task came back: %s\nlog:\n%s", q, c.logs(out))
		}
	})

	// Issue 12 defect 2 on a real cluster: the spec's folder and output
	// are named with shell syntax; sbatch and bash must take them as
	// names.
	t.Run("hostile folder", func(t *testing.T) {
		hostile := filepath.Join(dir, "dir with space $(touch F) `touch F`; touch F 'q' \"dq\" %A #c")
		if err := os.Mkdir(hostile, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, run, filepath.Join(hostile, "tiny_run.h5"))
		spec := writeFile(t, hostile, "spec $(touch F).toml", `
input = "tiny_run.h5"
output = "out $(touch F) %a"
[fixed]
method = "tikhonov2"
[[axis]]
name = "seed"
values = [1, 2]
`)
		id := c.submit(t, bin, spec)
		c.waitGone(t, id, 60*time.Second)
		out := filepath.Join(hostile, "out $(touch F) %a")
		for i := range 2 {
			if _, err := resultfile.Read(filepath.Join(out, fmt.Sprintf("task-%05d.h5", i))); err != nil {
				t.Errorf("task %d: %v (logs: %s)", i, err, c.logs(out))
			}
		}
		if logs, _ := filepath.Glob(filepath.Join(out, "logs", id+"_*.log")); len(logs) != 2 {
			t.Errorf("task logs %v: want one per task, named by job and task", logs)
		}
		if f := findF(t, dir); f != "" {
			t.Errorf("a command from a path ran: %s exists", f)
		}
	})
}

// fourSpec is a 4-task sweep without a [slurm] table.
const fourSpec = `
input = "tiny_run.h5"
output = "four"
[[axis]]
name = "run"
labels = ["tikhonov2", "eandarn"]
values = [{method = "tikhonov2"}, {method = "eandarn", epochs = 20}]
[[axis]]
name = "seed"
values = [1, 2]
`

// TestSlurmNodeWithoutMemory: on a cluster whose node has no RealMemory
// (Slurm then counts 1 MiB and refuses any --mem; the cluster of issue
// 16), a spec without [slurm] submitted as generated asks for no memory,
// and every task finishes.
func TestSlurmNodeWithoutMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Slurm cluster test")
	}
	c := startCluster(t, "main", "")
	bin := buildBatch(t)
	copyFile(t, filepath.Join("..", "testdata", "io", "tiny_run.h5"), filepath.Join(c.dir, "tiny_run.h5"))
	spec := writeFile(t, c.dir, "four.toml", fourSpec)
	id := c.submit(t, bin, spec)
	script, _ := os.ReadFile(filepath.Join(c.dir, "four", "four.sbatch"))
	c.checkFresh(t, string(script), bin)
	if strings.Contains(string(script), "#SBATCH --mem") {
		t.Errorf("the script asks for memory on nodes without any:\n%s", script)
	}
	c.waitGone(t, id, 90*time.Second)
	c.checkFour(t, bin, spec)
}

// checkFresh checks a generated script for what a fresh cluster needs: no
// partition or time (the cluster's defaults), memory no more than the
// node's, and the absolute path of the generating binary.
func (c *cluster) checkFresh(t *testing.T, script, bin string) {
	t.Helper()
	for _, w := range []string{"--partition", "--time", "--cpus-per-task"} {
		if strings.Contains(script, "#SBATCH "+w) {
			t.Errorf("the script asks for %s:\n%s", w, script)
		}
	}
	if !strings.Contains(script, "\nbatch='"+bin+"'\n") {
		t.Errorf("the script does not run %s:\n%s", bin, script)
	}
	if m := regexp.MustCompile(`#SBATCH --mem=(\d+)M`).FindStringSubmatch(script); m != nil {
		if mib, _ := strconv.Atoi(m[1]); c.realMemory == 0 || mib > c.realMemory {
			t.Errorf("--mem=%sM on a node of %d MiB", m[1], c.realMemory)
		}
	}
}

// checkFour checks the four results of fourSpec and -list.
func (c *cluster) checkFour(t *testing.T, bin, spec string) {
	t.Helper()
	for i := 0; i < 4; i++ {
		out := filepath.Join(c.dir, "four", fmt.Sprintf("task-%05d.h5", i))
		f, err := resultfile.Read(out)
		if err != nil {
			t.Errorf("task %d: %v (log: %s)", i, err, c.logs(filepath.Join(c.dir, "four")))
			continue
		}
		if u, ok := f.Matrices["reconstruction/u"]; !ok || u == nil {
			t.Errorf("task %d: %s has no reconstruction/u", i, out)
		}
	}
	list, _ := exec.Command(bin, "-sweep", spec, "-list").Output()
	if lines := strings.Split(strings.TrimSpace(string(list)), "\n"); len(lines) != 5 || lines[0] != "4" || strings.Count(string(list), "\tdone") != 4 {
		t.Errorf("-list after the array: want 4 then 4 done tasks, got\n%s", list)
	}
}

// sameResult fails unless two result files hold bit-identical
// reconstructions and loss histories.
func sameResult(t *testing.T, want, got string) {
	t.Helper()
	a, err := resultfile.Read(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := resultfile.Read(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := resultfile.Differ(a, b, "reconstruction/u", "reconstruction/v", "series/loss_data", "series/loss_ep"); len(d) > 0 {
		t.Errorf("%v differ between the uninterrupted run %s and the resumed one %s", d, want, got)
	}
}

// cluster is a private single-node Slurm: its folder, configuration, the
// environment its clients need, the node's configured memory (0: none)
// and its daemons.
type cluster struct {
	dir        string
	conf       string
	env        []string
	realMemory int
	daemons    []*daemon
}

// daemon is a started munged, slurmctld or slurmd.
type daemon struct {
	cmd  *exec.Cmd
	done chan error
}

// startCluster starts munged (as user munge, with its own key, socket, pid,
// log and seed files), slurmctld and slurmd -N localhost in the foreground
// as children of the test, with one partition named partition (the
// default) and the node's memory option nodeMem ("RealMemory=512", or ""
// for none). Its ports are free ports picked at start (another Slurm may
// hold 6817/6818); should one be taken in between, it starts again on
// others. At cleanup it cancels every job, waits for their steps to end
// and stops the daemons by pid; a daemon also dies with the test process
// (Pdeathsig). It skips the test when Slurm cannot run here.
func startCluster(t *testing.T, partition, nodeMem string) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("Slurm integration test needs root (daemons, munge user); run make test as root")
	}
	for _, b := range []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"} {
		if _, err := exec.LookPath(b); err != nil {
			if _, err := os.Stat("/usr/sbin/" + b); err != nil {
				t.Skipf("%s not installed: make deps (as root) installs slurmctld slurmd slurm-client munge", b)
			}
		}
	}
	mu, err := user.Lookup("munge")
	if err != nil {
		t.Skipf("no munge user (%v): install munge", err)
	}
	uid, _ := strconv.Atoi(mu.Uid)
	gid, _ := strconv.Atoi(mu.Gid)
	var why string
	for range 3 {
		c, err := tryCluster(t, uid, gid, partition, nodeMem)
		if err == nil {
			t.Cleanup(func() { c.stop(t) })
			return c
		}
		why = err.Error()
		if !strings.Contains(why, "Address already in use") {
			break
		}
	}
	t.Skipf("Slurm did not start: %s", why)
	return nil
}

// tryCluster makes the cluster's folder and starts its daemons; on failure
// it stops what it started and returns the reason.
func tryCluster(t *testing.T, uid, gid int, partition, nodeMem string) (*cluster, error) {
	// Not t.TempDir: its 0700 parent keeps the munge user out.
	dir, err := os.MkdirTemp("", "eandarn-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "munge")
	for _, d := range []string{md, filepath.Join(dir, "state"), filepath.Join(dir, "spool")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 1024)
	rand.Read(key)
	keyPath := filepath.Join(md, "munge.key")
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{md, keyPath} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ctldPort, slurmdPort := freePort(t), freePort(t)
	socket := filepath.Join(md, "munge.socket.2")
	conf := filepath.Join(dir, "slurm.conf")
	writeFile(t, dir, "slurm.conf", fmt.Sprintf(`ClusterName=eandarntest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%[1]s
CredType=cred/munge
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
StateSaveLocation=%[4]s/state
SlurmdSpoolDir=%[4]s/spool
SlurmctldPidFile=%[4]s/slurmctld.pid
SlurmdPidFile=%[4]s/slurmd.pid
SlurmctldLogFile=%[4]s/slurmctld.log
SlurmdLogFile=%[4]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeHostname=localhost CPUs=2 %[5]s State=UNKNOWN
PartitionName=%[6]s Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`, socket, ctldPort, slurmdPort, dir, nodeMem, partition))
	c := &cluster{dir: dir, conf: conf, env: append(os.Environ(), "SLURM_CONF="+conf)}
	if m, ok := strings.CutPrefix(nodeMem, "RealMemory="); ok {
		c.realMemory, _ = strconv.Atoi(m)
	}
	fail := func(format string, args ...any) (*cluster, error) {
		c.stop(t)
		return nil, fmt.Errorf(format, args...)
	}
	munged := exec.Command("munged", "--foreground", "--socket="+socket,
		"--pid-file="+filepath.Join(md, "munged.pid"), "--log-file="+filepath.Join(md, "munged.log"),
		"--seed-file="+filepath.Join(md, "munge.seed"), "--key-file="+keyPath)
	munged.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if err := c.start(munged); err != nil {
		return fail("munged: %v", err)
	}
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(socket); return err == nil }) {
		return fail("munged did not start: %s", readTail(filepath.Join(md, "munged.log")))
	}
	for _, cmd := range []*exec.Cmd{exec.Command("slurmctld", "-D", "-f", conf), exec.Command("slurmd", "-D", "-f", conf, "-N", "localhost")} {
		if err := c.start(cmd); err != nil {
			return fail("%s: %v", cmd.Path, err)
		}
	}
	if !waitFor(30*time.Second, func() bool {
		out, err := c.output("sinfo", "-h", "-o", "%t")
		return err == nil && strings.TrimSpace(out) == "idle"
	}) {
		return fail("the Slurm node did not become idle:\nslurmctld: %s\nslurmd: %s",
			readTail(filepath.Join(dir, "slurmctld.log")), readTail(filepath.Join(dir, "slurmd.log")))
	}
	return c, nil
}

// start starts a daemon in the foreground, to die with the test process
// should that end without its cleanups.
func (c *cluster) start(cmd *exec.Cmd) error {
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return err
	}
	d := &daemon{cmd: cmd, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	c.daemons = append(c.daemons, d)
	return nil
}

// stop cancels every job, waits until no job step runs (a step's
// slurmstepd outlives slurmd), then stops the daemons by pid in reverse
// order: SIGTERM, then SIGKILL after 10 s. A step still running after 30 s
// fails the test, naming it.
func (c *cluster) stop(t *testing.T) {
	if len(c.daemons) == 3 {
		if ids, err := c.output("squeue", "-h", "-o", "%A"); err == nil && strings.TrimSpace(ids) != "" {
			c.output("scancel", strings.Fields(ids)...)
		}
		steps := func() []string {
			m, _ := filepath.Glob(filepath.Join(c.dir, "spool", "localhost_*"))
			return m
		}
		if !waitFor(30*time.Second, func() bool { return len(steps()) == 0 }) {
			t.Errorf("job steps still running at cleanup (their sockets: %v)", steps())
		}
	}
	for i := len(c.daemons) - 1; i >= 0; i-- {
		d := c.daemons[i]
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	c.daemons = nil
}

// submit runs eandarn-batch -sweep spec -submit (which writes the script
// and runs sbatch) in the cluster's folder and returns the job id.
func (c *cluster) submit(t *testing.T, bin, spec string) string {
	t.Helper()
	cmd := exec.Command(bin, "-sweep", spec, "-submit")
	cmd.Env, cmd.Dir = c.env, c.dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("-submit: %v: %s", err, errOut.String())
	}
	m := regexp.MustCompile(`^\{"jobs":\[\{"job_id":"(\d+)","group":"all"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("-submit printed %s", out)
	}
	return string(m[1])
}

// sbatch renders the spec's sbatch script with eandarn-batch -sbatch,
// submits it unedited with sbatch from the cluster's folder and returns
// the job id.
func (c *cluster) sbatch(t *testing.T, bin, spec string) string {
	t.Helper()
	cmd := exec.Command(bin, "-sweep", spec, "-sbatch")
	cmd.Env = c.env
	script, err := cmd.Output()
	if err != nil {
		t.Fatalf("-sbatch: %v", err)
	}
	path := strings.TrimSuffix(spec, ".toml") + ".sbatch"
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(c.cmd(t, "sbatch", "--parsable", path))
}

func (c *cluster) output(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) cmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := c.output(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// waitGone polls squeue until job id has left the queue.
func (c *cluster) waitGone(t *testing.T, id string, limit time.Duration) {
	t.Helper()
	if !waitFor(limit, func() bool {
		out, err := c.output("squeue", "-h", "-j", id)
		return err == nil && strings.TrimSpace(out) == ""
	}) {
		out, _ := c.output("squeue", "-j", id, "-o", "%i %T %r %S")
		t.Fatalf("job %s still queued after %v:\n%s", id, limit, out)
	}
}

// waitState polls squeue until the array task is in state.
func (c *cluster) waitState(t *testing.T, task, state string, limit time.Duration) {
	t.Helper()
	if !waitFor(limit, func() bool {
		out, _ := c.output("squeue", "-h", "-j", task, "-o", "%T")
		return strings.TrimSpace(out) == state
	}) {
		out, _ := c.output("squeue", "-j", task, "-o", "%i %T %r %S")
		t.Fatalf("task %s not %s after %v:\n%s", task, state, limit, out)
	}
}

// waitLog polls the task logs of a sweep's output folder until one
// contains text.
func (c *cluster) waitLog(t *testing.T, out, text string, limit time.Duration) {
	t.Helper()
	if !waitFor(limit, func() bool { return strings.Contains(c.logs(out), text) }) {
		t.Fatalf("no %q in the logs after %v:\n%s", text, limit, c.logs(out))
	}
}

// logs concatenates the task logs of a sweep's output folder.
func (c *cluster) logs(out string) string {
	files, _ := filepath.Glob(filepath.Join(out, "logs", "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}

// buildBatch builds eandarn-batch into a temporary folder.
func buildBatch(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "eandarn-batch")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/eandarn/eandarn/cmd/eandarn-batch")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build eandarn-batch: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(limit time.Duration, ok func() bool) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}
