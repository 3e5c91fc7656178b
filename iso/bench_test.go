package iso

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkBuild builds a small ISO (1.3 MiB of inputs, BIOS and UEFI).
// test/bench/iso.sh compares real-size builds with xorriso.
func BenchmarkBuild(b *testing.B) {
	o := makeInputs(b).options()
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(context.Background(), filepath.Join(dir, "uai.iso"), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmbedAnswers writes a 2 KiB answer file into a built ISO, in
// place (header and payload, fsync'd twice).
func BenchmarkEmbedAnswers(b *testing.B) {
	p := build(b, makeInputs(b).options())
	im, err := Open(p, true)
	if err != nil {
		b.Fatal(err)
	}
	defer im.Close()
	data := make([]byte, 2048)
	copy(data, "version = 1\n")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data[100] = byte(i)
		if err := im.SetAnswers(data); err != nil {
			b.Fatal(err)
		}
	}
}
