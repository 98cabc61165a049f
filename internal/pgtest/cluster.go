package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Package is the Debian package that provides the binaries.
const Package = "postgresql"

// ErrNoBinaries is returned when initdb and postgres cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin: install Debian's " + Package + " package (apt-get install " + Package + ")")

// dirPattern names the clusters' temporary directories.
const dirPattern = "toolhost-pgtest-"

// staleAfter is how old a cluster directory without a live server must be
// before another test binary removes it.
const staleAfter = 10 * time.Minute

// startTimeout bounds initdb plus the server's start.
const startTimeout = 60 * time.Second

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	dir  string // temporary directory: data/, sock/, log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	next int           // databases made so far
	mu   sync.Mutex
}

// BinDirEnv, when set, names the only directory BinDir looks in (to use
// another PostgreSQL build, or none: the tests then skip).
const BinDirEnv = "TOOLHOST_PGTEST_BIN"

// BinDir returns the directory holding initdb and postgres: BinDirEnv's,
// else the one in PATH, else the newest /usr/lib/postgresql/<version>/bin.
func BinDir() (string, error) {
	if d := os.Getenv(BinDirEnv); d != "" {
		if hasBinaries(d) {
			return d, nil
		}
		return "", ErrNoBinaries
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); hasBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if hasBinaries(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func hasBinaries(dir string) bool {
	_, e1 := os.Stat(filepath.Join(dir, "initdb"))
	_, e2 := os.Stat(filepath.Join(dir, "postgres"))
	return e1 == nil && e2 == nil
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start creates and starts a cluster. Close stops it and removes its
// files.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c := &Cluster{dir: dir, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	for _, d := range []string{dir, c.dataDir(), c.sockDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		if cred != nil {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("pgtest: giving %s to the server's user: %w", d, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = procAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.startServer(ctx, bin, cred); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) sockDir() string { return filepath.Join(c.dir, "sock") }

func (c *Cluster) startServer(ctx context.Context, bin string, cred *syscall.Credential) error {
	logf, err := os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", c.dataDir(),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(c.port),
		"-c", "unix_socket_directories="+c.sockDir(), "-c", "max_connections=200",
		"-c", "fsync=on")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = procAttr(cred)
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	for {
		conn, err := pgx.Connect(ctx, c.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("pgtest: postgres exited at start:\n%s", c.serverLog())
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres did not accept connections within %s (%v):\n%s", startTimeout, err, c.serverLog())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) serverLog() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewDatabase creates an empty database and returns its DSN.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	c.mu.Lock()
	c.next++
	name := fmt.Sprintf("test_%d", c.next)
	c.mu.Unlock()
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: creating database %s: %w", name, err)
	}
	return c.dsn(name), nil
}

// Dir is the cluster's temporary directory (data, socket, server log).
func (c *Cluster) Dir() string { return c.dir }

// Port is the TCP port the server listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// Close stops the server (a fast shutdown, then SIGKILL after 10 s) and
// removes the cluster's files.
func (c *Cluster) Close() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
	}
	os.RemoveAll(c.dir)
}

// serverUser is who runs initdb and postgres: nil (ourselves) when we are
// not root, else the postgres system user, else nobody.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root and neither the postgres nor the nobody user exists: PostgreSQL refuses to run as root")
}

// procAttr puts the process in its own group, kills it when the test
// binary dies, and runs it as cred (nil: ourselves).
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// hostOf is the part of a DSN tests may print: host and port.
func hostOf(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		dsn = dsn[i+1:]
	}
	if i := strings.IndexAny(dsn, "/?"); i >= 0 {
		dsn = dsn[:i]
	}
	return dsn
}

// sweepStale removes the cluster directories that test binaries killed
// before they could remove them left behind: older than staleAfter, and
// without a live postmaster (its pid is the first line of
// data/postmaster.pid).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || time.Since(st.ModTime()) < staleAfter {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err == nil {
			line, _, _ := strings.Cut(string(raw), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
				if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
					continue // still running
				}
			}
		}
		os.RemoveAll(d)
	}
}
