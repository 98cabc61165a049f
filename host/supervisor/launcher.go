package supervisor

import (
	"runtime"
	"sync"
)

// Linux delivers the parent-death signal when the thread that forked the
// child exits, not the process. Go may retire threads, so plugins are
// started from a few goroutines locked to their threads for the life of the
// host.
const launcherThreads = 4

var (
	launchOnce sync.Once
	launchJobs chan func()
)

func onLauncherThread(fn func()) {
	launchOnce.Do(func() {
		launchJobs = make(chan func())
		for i := 0; i < launcherThreads; i++ {
			go func() {
				runtime.LockOSThread()
				for job := range launchJobs {
					job()
				}
			}()
		}
	})
	done := make(chan struct{})
	launchJobs <- func() { defer close(done); fn() }
	<-done
}
