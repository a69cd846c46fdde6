package probes

import (
	"fmt"
	"strings"
)

// Helpers of the health rules (the Facts' Health methods), pure like them.

// degradedBy is the verdict of a rule that collected the reasons why a
// target is DEGRADED: UP without any, else DEGRADED with them all.
func degradedBy(why []string) (State, string) {
	if len(why) > 0 {
		return StateDegraded, strings.Join(why, "; ")
	}
	return StateUp, ""
}

// aboveRatio adds "<what> used/limit<unit> above <ratio>%" to why when a
// limit is set and used exceeds ratio of it.
func aboveRatio[N ~int | ~int64](why []string, what string, used, limit N, unit string, ratio float64) []string {
	if limit > 0 && float64(used)/float64(limit) > ratio {
		why = append(why, fmt.Sprintf("%s %d/%d%s above %s", what, used, limit, unit, ratioPercent(ratio)))
	}
	return why
}

// ratioPercent formats a ratio such as 0.9 as "90%".
func ratioPercent(ratio float64) string { return fmt.Sprintf("%g%%", ratio*100) }
