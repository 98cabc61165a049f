// Command nohandshake never completes a handshake: it just waits.
package main

import "time"

func main() { time.Sleep(time.Hour) }
