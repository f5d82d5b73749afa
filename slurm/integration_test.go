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
// (issue 6, "Must show" 1): munged, slurmctld and slurmd started in a
// temporary folder (no systemd), a 4-task array of tiny runs, then a PINN
// task sent TERM mid-training with `scancel --batch --signal=TERM`, which
// the sbatch script forwards to eandarn-batch: it checkpoints, exits with
// status 3, the script requeues it, and the requeued task resumes; its
// result must equal an uninterrupted run's bit for bit. A task ended by a
// plain scancel must stay cancelled.
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
	c := startCluster(t)
	bin := buildBatch(t)
	dir := c.dir
	run := filepath.Join(dir, "tiny_run.h5")
	copyFile(t, filepath.Join("..", "testdata", "io", "tiny_run.h5"), run)

	// An uninterrupted reference for the interrupted PINN task, computed
	// while the cluster works.
	const epochs = "4000"
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
%s`, name, epochs, seed, c.slurmTable(bin)))
	}

	t.Run("array of 4", func(t *testing.T) {
		spec := writeFile(t, dir, "four.toml", fmt.Sprintf(`
input = "tiny_run.h5"
output = "four"
[[axis]]
name = "run"
labels = ["tikhonov2", "eandarn"]
values = [{method = "tikhonov2"}, {method = "eandarn", epochs = 20}]
[[axis]]
name = "seed"
values = [1, 2]
%s`, c.slurmTable(bin)))
		id := c.submit(t, bin, spec)
		c.waitGone(t, id, 90*time.Second)
		for i := 0; i < 4; i++ {
			out := filepath.Join(dir, "four", fmt.Sprintf("task-%05d.h5", i))
			f, err := resultfile.Read(out)
			if err != nil {
				t.Errorf("task %d: %v (log: %s)", i, err, c.logs(filepath.Join(dir, "four")))
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
	})

	t.Run("TERM, requeue, resume", func(t *testing.T) {
		spec := pinnSpec(t, "long", 1)
		id := c.submit(t, bin, spec)
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
		id := c.submit(t, bin, spec)
		out := filepath.Join(dir, "cancel")
		c.waitLog(t, out, "initial loss ratio", 60*time.Second)
		c.cmd(t, "scancel", id+"_0")
		c.waitGone(t, id, 30*time.Second)
		time.Sleep(2 * time.Second)
		if q, _ := c.output("squeue", "-h", "-j", id, "-o", "%i %T %r"); strings.TrimSpace(q) != "" {
			t.Errorf("a cancelled task came back: %s\nlog:\n%s", q, c.logs(out))
		}
	})
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

// cluster is a private single-node Slurm: its folder, configuration and
// the environment its clients need.
type cluster struct {
	dir  string
	conf string
	env  []string
}

// startCluster starts munged (as user munge, with its own key, socket, pid,
// log and seed files), slurmctld and slurmd -N localhost in the
// foreground as children of the test, on free ports, and stops them by pid
// in t.Cleanup. It skips the test when this is impossible.
func startCluster(t *testing.T) *cluster {
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
NodeName=localhost NodeHostname=localhost CPUs=2 RealMemory=2048 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`, socket, ctldPort, slurmdPort, dir))
	c := &cluster{dir: dir, conf: conf, env: append(os.Environ(), "SLURM_CONF="+conf)}

	munged := exec.Command("munged", "--foreground", "--socket="+socket,
		"--pid-file="+filepath.Join(md, "munged.pid"), "--log-file="+filepath.Join(md, "munged.log"),
		"--seed-file="+filepath.Join(md, "munge.seed"), "--key-file="+keyPath)
	munged.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	c.daemon(t, munged)
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(socket); return err == nil }) {
		t.Skipf("munged did not start: %s", readTail(filepath.Join(md, "munged.log")))
	}
	c.daemon(t, exec.Command("slurmctld", "-D", "-f", conf))
	c.daemon(t, exec.Command("slurmd", "-D", "-f", conf, "-N", "localhost"))
	if !waitFor(30*time.Second, func() bool {
		out, err := c.output("sinfo", "-h", "-o", "%t")
		return err == nil && strings.TrimSpace(out) == "idle"
	}) {
		t.Skipf("the Slurm node did not become idle:\nslurmctld: %s\nslurmd: %s",
			readTail(filepath.Join(dir, "slurmctld.log")), readTail(filepath.Join(dir, "slurmd.log")))
	}
	return c
}

// daemon starts cmd in the foreground and stops it by pid at cleanup:
// SIGTERM, then SIGKILL after 10 s. Cleanups run last-in first-out, so
// slurmd stops before slurmctld and munged.
func (c *cluster) daemon(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("%s did not start: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// slurmTable is the [slurm] section of the test specs: the debug
// partition, one CPU per task (two tasks run at once), little memory, and
// the freshly built binary.
func (c *cluster) slurmTable(bin string) string {
	return fmt.Sprintf("[slurm]\npartition = \"debug\"\ncpus = 1\nmem = \"200M\"\ntime = \"00:10:00\"\nbatch = %q\n", bin)
}

// submit renders the spec's sbatch script with eandarn-batch -sbatch,
// submits it and returns the job id.
func (c *cluster) submit(t *testing.T, bin, spec string) string {
	t.Helper()
	script, err := exec.Command(bin, "-sweep", spec, "-sbatch").Output()
	if err != nil {
		t.Fatalf("-sbatch: %v", err)
	}
	path := strings.TrimSuffix(spec, ".toml") + ".sbatch"
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(c.cmd(t, "sbatch", "--parsable", path))
}

func (c *cluster) output(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = c.env
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
