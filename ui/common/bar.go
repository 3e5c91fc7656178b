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

// BarRow lays out the line under a running step: indent, a bar, then text,
// which brings its own leading gap and may be styled. The bar gets the
// cells the text leaves of width, at least 10 and, when maxBar > 0, at most
// maxBar; bar draws it at that width. The row is not cut to width.
func BarRow(indent string, width, maxBar int, text string, bar func(width int) string) string {
	bw := max(width-len(indent)-Width(text), 10)
	if maxBar > 0 {
		bw = min(bw, maxBar)
	}
	return indent + bar(bw) + text
}

// BytesOf renders "done of total" in binary units, a negative count as 0.
func BytesOf(done, total int64) string {
	return fmt.Sprintf("%s of %s", Bytes(uint64(max(done, 0))), Bytes(uint64(max(total, 0))))
}
