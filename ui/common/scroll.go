package common

import (
	"fmt"
	"strings"
)

// Scroll is a vertical window over lines that keeps a focus range visible.
// Screens keep one per scrolling area; it is a value so that copying a
// screen copies its scroll position.
type Scroll struct {
	Offset int
}

// Follow moves the window as little as possible so that lines first..last
// are visible in a window of height lines, not hidden under the "more"
// indicator lines that Render puts at the edges.
func (s *Scroll) Follow(first, last, height, total int) {
	if total <= height || height <= 0 {
		s.Offset = 0
		return
	}
	if last > s.visibleEnd(height, total) {
		if last >= total-1 {
			s.Offset = total - height
		} else {
			s.Offset = last - height + 2
		}
	}
	// The start wins when the range is taller than the window.
	if first < s.visibleStart() {
		s.Offset = max(first-1, 0)
		if first == 0 {
			s.Offset = 0
		}
	}
	s.Clamp(height, total)
}

func (s Scroll) visibleStart() int {
	if s.Offset > 0 {
		return s.Offset + 1
	}
	return 0
}

func (s Scroll) visibleEnd(height, total int) int {
	end := s.Offset + height - 1
	if s.Offset+height < total {
		end--
	}
	return end
}

// By scrolls by n lines (negative is up).
func (s *Scroll) By(n, height, total int) {
	s.Offset += n
	s.Clamp(height, total)
}

// Clamp keeps the window inside the content.
func (s *Scroll) Clamp(height, total int) {
	if s.Offset > total-height {
		s.Offset = total - height
	}
	if s.Offset < 0 {
		s.Offset = 0
	}
}

// Render returns exactly height lines of the window. When content is hidden
// above or below, the first or last line says how much and how to see it,
// so nothing is cut off silently.
func (s Scroll) Render(lines []string, height int, more func(...string) string) string {
	if height <= 0 {
		return ""
	}
	total := len(lines)
	if total <= height {
		return strings.Join(Lines(strings.Join(lines, "\n"), height), "\n")
	}
	s.Clamp(height, total)
	win := append([]string(nil), lines[s.Offset:s.Offset+height]...)
	if s.Offset > 0 {
		win[0] = more(fmt.Sprintf("  ^ %d more lines above (pgup)", s.Offset+1))
	}
	if below := total - (s.Offset + height); below > 0 {
		win[height-1] = more(fmt.Sprintf("  v %d more lines below (pgdn)", below+1))
	}
	return strings.Join(win, "\n")
}
