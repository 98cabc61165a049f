package supervisor_test

import (
	"fmt"
	"strconv"
)

func fmtSscanf(s string, pid *int) (int, error) { return fmt.Sscanf(s, "pid %d", pid) }

func itoa(i int) string { return strconv.Itoa(i) }
