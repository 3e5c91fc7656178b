package common

import (
	"fmt"
	"math"
	"strings"

	"github.com/universal-atomic-installer/uai/ui/styles"
)

// Bar renders a static progress bar of width cells (percentage included)
// for done of total. It draws the current value only, with no animation,
// so a frame shows exactly what the engine last reported. The glyphs are
// in the Linux console's font.
func Bar(st *styles.Styles, done, total int64, width int) string {
	frac := 0.0
	if total > 0 {
		frac = math.Max(0, math.Min(1, float64(done)/float64(total)))
	}
	pct := fmt.Sprintf(" %3.0f%%", math.Floor(frac*100))
	bw := max(width-len(pct), 1)
	full := int(math.Floor(frac * float64(bw)))
	return st.Success.Render(strings.Repeat("█", full)) +
		st.Muted.Render(strings.Repeat("░", bw-full)) + pct
}
