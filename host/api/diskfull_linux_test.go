package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

// smallDisk mounts a tmpfs of size bytes at a new directory for the test,
// or skips when it cannot (mounting needs root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs for the data directory")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (%v)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	_ = f.Sync()
	return path
}

// TestDiskFull: with the data directory's disk full, a create action is
// refused with 507 storage_full naming the data directory and is never
// called, history can still be read, /health says degraded with the
// reason; once space is back, runs work again without a restart.
func TestDiskFull(t *testing.T) {
	disk := smallDisk(t, "8m")
	e := newEnv(t, envOptions{mutate: func(p *config.Plugin) {}, dataDir: disk})
	e.wantStatus(e.do("POST", "/v1/actions/testkit.count/run", `{"text":"before"}`), 200)
	filler := fill(t, disk)

	// Runs until the store notices: the first write to fail trips it.
	var r resp
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		r = e.do("POST", "/v1/actions/testkit.count/run", `{"text":"`+strings.Repeat("x", 4096)+`"}`)
		if r.Status == 507 {
			break
		}
	}
	if r.Status != 507 || r.ErrorCode(t) != "storage_full" || !strings.Contains(r.ErrorMessage(t), disk) {
		t.Fatalf("a run on a full disk: %d %s", r.Status, r.Body)
	}
	calls := countLines(t, e.dir+"/count")
	r = e.do("POST", "/v1/actions/testkit.count/run", `{"text":"refused"}`)
	if r.Status != 507 || countLines(t, e.dir+"/count") != calls {
		t.Fatalf("a create action was called on a full disk: %d %s", r.Status, r.Body)
	}
	e.wantStatus(e.do("GET", "/v1/runs", ""), 200)
	h := e.do("GET", "/health", "").JSON(t)["data"].(map[string]any)
	if h["status"] != "degraded" || !strings.Contains(h["storage"].(map[string]any)["reason"].(string), disk) {
		t.Fatalf("health on a full disk: %v", h)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the store retries once a second
	e.wantStatus(e.do("POST", "/v1/actions/testkit.count/run", `{"text":"after"}`), 200)
	if h := e.do("GET", "/health", "").JSON(t)["data"].(map[string]any); h["status"] != "ok" {
		t.Fatalf("health after space came back: %v", h)
	}
	if err := e.db.Check(); err != nil {
		t.Fatalf("db check after the disk was full: %v", err)
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}
