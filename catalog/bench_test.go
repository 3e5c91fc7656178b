package catalog

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// benchCatalog builds a catalog of n editions in the shape of the real ones
// (every third signed, varied arches and categories).
func benchCatalog(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"uai.catalog/v1","editions":[`)
	arches := []string{`["amd64"]`, `["amd64","arm64"]`, `["amd64","arm64","ppc64le","s390x"]`}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		sig := `{"policy":"none"}`
		if i%3 == 0 {
			sig = fmt.Sprintf(`{"policy":"sigstore","publicKey":%q}`, testKey)
		}
		fmt.Fprintf(&b, `{"id":"edition-%d","name":"Edition %d","category":%q,`+
			`"description":"A generated edition for the benchmark, about as long as a real description is.",`+
			`"image":"registry.example.com/bench/edition-%d:44","arches":%s,"firmware":["uefi","bios"],`+
			`"minDiskGiB":%d,"minRAMMiB":%d,"defaultFilesystem":"xfs","kargs":["console=ttyS0"],"signature":%s,`+
			`"homepage":"https://example.com/%d","maintainer":"Bench","maturity":"incubating",`+
			`"source":"generated"}`,
			i, i, allowedCategories[i%len(allowedCategories)], i, arches[i%len(arches)], 10+i%40, 1024+(i%8)*512, sig, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkParseValidateFilter1000 measures what the edition picker does
// with a large remote catalog: parse and validate it, then ask every
// edition whether it fits the machine.
func BenchmarkParseValidateFilter1000(b *testing.B) {
	data := benchCatalog(1000)
	m := Machine{Arch: "arm64", Firmware: FirmwareUEFI, RAMBytes: 4 << 30, LargestDiskBytes: 32 << 30}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	fits := 0
	for b.Loop() {
		c, rep := Parse(data)
		if !rep.OK() {
			b.Fatal(rep.Error())
		}
		fits = 0
		for _, e := range c.Editions {
			if len(e.Fits(m)) == 0 {
				fits++
			}
		}
	}
	if fits == 0 || fits == 1000 {
		b.Fatalf("%d of 1000 editions fit; the filter is not filtering", fits)
	}
}

// TestBenchCatalogIsValid keeps the benchmark honest: it must measure the
// path of a valid catalog, not an early error exit.
func TestBenchCatalogIsValid(t *testing.T) {
	c, rep := Parse(benchCatalog(1000))
	if !rep.OK() || len(c.Editions) != 1000 {
		t.Fatalf("benchmark catalog invalid:\n%.2000s", rep.Error())
	}
}

// BenchmarkResolve measures resolution round trips: tag -> index -> this
// arch's manifest -> config, as the installer does before it installs.
// "inprocess" is go-containerregistry's registry in the test process;
// "docker-registry" is Debian's, over loopback (skipped when missing).
func BenchmarkResolve(b *testing.B) {
	var requests atomic.Int64
	count := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			next.ServeHTTP(w, r)
		})
	}
	run := func(b *testing.B, host string) {
		pushIndex(b, host+"/bootc/os:44", fresh("amd64"), fresh("arm64"))
		pushImage(b, host+"/bootc/os:44-amd64", fresh("amd64"))
		pin, _ := pushIndex(b, host+"/bootc/pinned:1", fresh("amd64"))
		for _, c := range []struct{ name, ref, pin string }{
			{"index", host + "/bootc/os:44", ""},
			{"manifest", host + "/bootc/os:44-amd64", ""},
			{"pinned", host + "/bootc/pinned:1", pin},
		} {
			b.Run(c.name, func(b *testing.B) {
				o := quick()
				o.Digest = c.pin
				requests.Store(0)
				n := 0
				for b.Loop() {
					if _, err := ResolveImage(b.Context(), c.ref, o); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if r := requests.Load(); r > 0 {
					b.ReportMetric(float64(r)/float64(n), "requests/op")
				}
			})
		}
	}
	b.Run("inprocess", func(b *testing.B) { run(b, newRegistry(b, count)) })
	b.Run("docker-registry", func(b *testing.B) {
		if _, err := exec.LookPath("docker-registry"); err != nil {
			b.Skip("docker-registry is not installed")
		}
		run(b, startDockerRegistry(b))
	})
}
