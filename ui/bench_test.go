package ui

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/bridge"
)

// streamAt emits progress and log events at rate per second for d, each
// stamped with the time it was emitted, and returns the slowest Emit.
func streamAt(ctx context.Context, sink installer.Sink, rate int, d time.Duration) time.Duration {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	total := int64(rate) * int64(d/time.Second)
	var slowest time.Duration
	sink.Emit(installer.Event{Type: installer.EventStepStarted, Step: installer.StepBootc, Title: "Install the image with bootc", Time: time.Now()})
	for i := int64(0); time.Now().Before(end) && ctx.Err() == nil; i++ {
		<-tick.C
		e := installer.Event{Type: installer.EventStepProgress, Step: installer.StepBootc, Done: i << 20, Total: total << 20, Unit: "bytes", Time: time.Now()}
		if i%2 == 1 {
			e = installer.Event{Type: installer.EventStepLog, Step: installer.StepBootc, Stream: "stdout", Line: fmt.Sprintf("Fetching layer %d of %d", i, total), Time: e.Time}
		}
		t := time.Now()
		sink.Emit(e)
		slowest = max(slowest, time.Since(t))
	}
	return slowest
}

// BenchmarkProgressFrames streams 1,000 events a second into the progress
// screen for two seconds, as the bridge hands them to Bubble Tea, and
// measures each frame's work (Update of the batch, then the whole View)
// and the lag: how old the newest event is when its frame is drawn. The
// bridge coalesces, so the screen draws at most a frame per batch however
// fast the engine goes, and the engine never waits for a frame.
//
//	go test -run '^$' -bench ProgressFrames -benchtime 1x ./ui/
func BenchmarkProgressFrames(b *testing.B) {
	for range b.N {
		f := newFake()
		slowest := make(chan time.Duration, 1)
		f.install = func(ctx context.Context, _ *installer.Plan, sink installer.Sink) error {
			slowest <- streamAt(ctx, sink, 1000, 2*time.Second)
			return nil
		}
		h := newHarness(b, f, Options{}, 80, 24)
		h.toProgress()
		var frames, lags []time.Duration
		events := 0
		for h.m.Screen() == ScreenProgress {
			msg := h.Next()
			start := time.Now()
			batch, isBatch := msg.(bridge.Batch)
			h.Send(msg) // Update, and the command that waits for the next batch
			_ = h.m.View()
			if !isBatch {
				continue
			}
			frames = append(frames, time.Since(start))
			events += len(batch.Events)
			if n := len(batch.Events); n > 0 && !batch.Events[n-1].Time.IsZero() {
				lags = append(lags, time.Since(batch.Events[n-1].Time))
			}
		}
		slices.Sort(frames)
		slices.Sort(lags)
		b.ReportMetric(float64(len(frames))/2, "updates/s")
		b.ReportMetric(ms(frames[len(frames)/2]), "p50-ms/frame")
		b.ReportMetric(ms(frames[len(frames)*99/100]), "p99-ms/frame")
		b.ReportMetric(ms(lags[len(lags)*99/100]), "p99-lag-ms")
		b.ReportMetric(float64((<-slowest).Microseconds()), "max-emit-µs")
		b.ReportMetric(float64(events)/2, "delivered-events/s")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
