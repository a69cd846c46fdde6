//go:build !unix

package redisstore

import "time"

// cpuTime is unknown here.
func cpuTime() time.Duration { return 0 }
