package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// SourceKind says where the content of one catalog came from.
type SourceKind string

// Values of SourceKind.
const (
	// KindEmbedded: the default catalog compiled into uai, either asked
	// for or as the last fallback for a remote catalog.
	KindEmbedded SourceKind = "embedded"
	// KindFile: a local file, read now.
	KindFile SourceKind = "file"
	// KindNetwork: fetched now, or confirmed current by the server (a 304
	// to the cached ETag, or the same OCI manifest digest).
	KindNetwork SourceKind = "network"
	// KindCache: the last good copy on disk, because the network failed.
	KindCache SourceKind = "cache"
)

// Source says where one catalog came from, for the UI and for logs.
type Source struct {
	// Location is the source as given, with any password in a URL masked.
	Location string     `json:"location"`
	Kind     SourceKind `json:"kind"`
	// NotModified: the server confirmed the cached copy is current.
	NotModified bool `json:"not_modified,omitempty"`
	// FetchedAt is when the content was last fetched or confirmed from
	// the network (network and cache kinds).
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	// AgeSeconds is how old a cached copy is (cache kind).
	AgeSeconds int64 `json:"age_seconds,omitempty"`
	// Digest is the sha256 of the catalog's bytes.
	Digest string `json:"digest,omitempty"`
	// SignedBy is the id of the key whose signature verified; empty for
	// local files, the embedded catalog and unverified (insecure) ones.
	SignedBy string `json:"signed_by,omitempty"`
	// SignedComment is the signature's trusted comment (minisign puts a
	// timestamp and the file name there).
	SignedComment string `json:"signed_comment,omitempty"`
	// Editions is how many editions this catalog has.
	Editions int `json:"editions"`
	// Warnings say why this is not what was asked for (a fallback) or
	// not verified (insecure); the UI must show them.
	Warnings []string `json:"warnings,omitempty"`
}

// Age is how old a cached copy is.
func (s Source) Age() time.Duration { return time.Duration(s.AgeSeconds) * time.Second }

// String is one line for a listing footer or a status bar.
func (s Source) String() string {
	var b strings.Builder
	switch s.Kind {
	case KindEmbedded:
		if s.Location == EmbeddedLocation {
			fmt.Fprintf(&b, "the catalog built into uai")
		} else {
			fmt.Fprintf(&b, "the catalog built into uai, in place of %s", s.Location)
		}
	case KindFile:
		fmt.Fprintf(&b, "%s (local file)", s.Location)
	case KindNetwork:
		fmt.Fprintf(&b, "%s (network", s.Location)
		if s.NotModified {
			b.WriteString(", not modified since the cached copy")
		}
		b.WriteString(")")
	case KindCache:
		fmt.Fprintf(&b, "%s (cached copy, %s old)", s.Location, humanAge(s.Age()))
	}
	if s.SignedBy != "" {
		fmt.Fprintf(&b, ", signed by key %s", s.SignedBy)
	}
	fmt.Fprintf(&b, ", %d editions", s.Editions)
	return b.String()
}

// EmbeddedLocation is the --catalog value that names the embedded catalog,
// so that a site catalog can extend the defaults instead of replacing
// them: --catalog embedded --catalog https://example.com/catalog.json.
const EmbeddedLocation = "embedded"

// Options says which catalogs to read and how to trust them. The zero value
// reads the embedded catalog alone.
type Options struct {
	// Sources are --catalog values, merged in order (later wins per id):
	// https:// URLs, file:// URLs or plain paths, oci://REGISTRY/REPO:TAG,
	// or "embedded". Empty means the embedded catalog alone; given
	// sources replace it unless "embedded" is one of them.
	Sources []string
	// Keys are --catalog-key values (see ParseKey), trusted in addition to
	// the embedded keys.
	Keys []string
	// Insecure (--insecure-catalog) accepts a remote catalog that is
	// unsigned or signed by an unknown key, with a warning. A signature by
	// a trusted key that does not verify is refused even then: that
	// catalog was changed after signing.
	Insecure bool
	// CacheDir overrides DefaultCacheDir; NoCache turns the cache off.
	CacheDir string
	NoCache  bool
	// Timeout bounds one attempt of one request, body included; default
	// 20 s. Attempts (default 3) and Backoff (default 500 ms, doubling up
	// to 5 s) govern retries of network failures and 408/429/5xx answers.
	Timeout  time.Duration
	Attempts int
	Backoff  time.Duration
	// Transport replaces the HTTP transport (proxies, tests).
	Transport http.RoundTripper
	// Keychain provides registry credentials for oci:// sources; default
	// authn.DefaultKeychain (docker config, REGISTRY_AUTH_FILE).
	Keychain authn.Keychain
	// Now is the clock; default time.Now.
	Now func() time.Time
}

const (
	defaultTimeout  = 20 * time.Second
	defaultAttempts = 3
	defaultBackoff  = 500 * time.Millisecond
	maxBackoff      = 5 * time.Second
	maxAttempts     = 10
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = defaultAttempts
	}
	o.Attempts = min(o.Attempts, maxAttempts)
	if o.Backoff <= 0 {
		o.Backoff = defaultBackoff
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheDir == "" && !o.NoCache {
		o.CacheDir = DefaultCacheDir()
	}
	if o.NoCache {
		o.CacheDir = ""
	}
	return o
}

// Loaded is the merged catalog and the story of how it was made.
type Loaded struct {
	Catalog *Catalog `json:"-"`
	// Sources has one entry per Options.Sources value, in order (one
	// entry for the embedded catalog when there were none).
	Sources []Source `json:"sources"`
	// Conflicts lists every edition id defined differently by two
	// catalogs; the later one won.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// Keys are the keys that were trusted.
	Keys []Key `json:"keys,omitempty"`

	from map[string]int
}

// SourceOf returns the source the edition with this id was taken from.
func (l *Loaded) SourceOf(id string) (Source, bool) {
	i, ok := l.from[id]
	if !ok {
		return Source{}, false
	}
	return l.Sources[i], true
}

// Warnings returns every warning of every source, then every conflict, as
// lines for the user.
func (l *Loaded) Warnings() []string {
	var out []string
	for _, s := range l.Sources {
		out = append(out, s.Warnings...)
	}
	for _, c := range l.Conflicts {
		out = append(out, c.String())
	}
	return out
}

// Open reads, verifies and merges the catalogs o names. A remote catalog
// that cannot be fetched because of the network falls back to its last
// good cached copy, and then to the embedded catalog, each with a warning
// in its Source. Everything else is an error that names the source and the
// fix: a bad location or key, a missing local file, an invalid catalog, a
// missing or bad signature, a 404 or a refused login.
func Open(ctx context.Context, o Options) (*Loaded, error) {
	o = o.withDefaults()
	keys, err := TrustedKeys(o.Keys)
	if err != nil {
		return nil, err
	}
	l := &loader{o: o, keys: keys, cache: cache{dir: o.CacheDir}}
	specs := o.Sources
	if len(specs) == 0 {
		specs = []string{EmbeddedLocation}
	}
	var (
		cats    []*Catalog
		sources []Source
	)
	for _, raw := range specs {
		sp, err := parseSource(raw)
		if err != nil {
			return nil, err
		}
		c, src, err := l.load(ctx, sp)
		if err != nil {
			return nil, err
		}
		cats = append(cats, c)
		sources = append(sources, src)
	}
	merged, conflicts, from := merge(cats, sources)
	return &Loaded{Catalog: merged, Sources: sources, Conflicts: conflicts, Keys: keys, from: from}, nil
}

// sourceKind is what a --catalog value names.
type sourceKind int

const (
	srcEmbedded sourceKind = iota
	srcFile
	srcHTTPS
	srcOCI
)

type sourceSpec struct {
	kind sourceKind
	// raw is the value as given; it keys the cache. shown masks any
	// password for messages.
	raw, shown string
	path       string   // srcFile
	url        *url.URL // srcHTTPS
	ref        string   // srcOCI: the reference without oci://
}

// parseSource reads one --catalog value.
func parseSource(raw string) (sourceSpec, error) {
	sp := sourceSpec{raw: raw, shown: raw}
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	switch {
	case raw == EmbeddedLocation:
		sp.kind = srcEmbedded
		return sp, nil
	case strings.TrimSpace(raw) == "":
		return sp, fmt.Errorf("catalog source is empty: %w; give a path, an https:// or file:// URL, oci://REGISTRY/REPO:TAG or %q", ErrBadSource, EmbeddedLocation)
	case !hasScheme || strings.ContainsAny(scheme, "/."):
		sp.kind, sp.path = srcFile, raw
		return sp, nil
	}
	switch strings.ToLower(scheme) {
	case "https":
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return sp, fmt.Errorf("catalog source %q: %w: not a valid URL; write it as https://host/path/catalog.json", redactURL(raw), ErrBadSource)
		}
		sp.kind, sp.url, sp.shown = srcHTTPS, u, u.Redacted()
		return sp, nil
	case "http":
		return sp, fmt.Errorf("catalog source %q: %w: plain http is not accepted; use https://", redactURL(raw), ErrBadSource)
	case "file":
		u, err := url.Parse(raw)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return sp, fmt.Errorf("catalog source %q: %w: a file URL names a file on this machine; write it as file:///absolute/path or as a plain path", raw, ErrBadSource)
		}
		sp.kind, sp.path = srcFile, u.Path
		return sp, nil
	case "oci":
		if msg := checkRef(rest); msg != "" {
			return sp, fmt.Errorf("catalog source %q: %w: %s", raw, ErrBadSource, msg)
		}
		sp.kind, sp.ref = srcOCI, rest
		return sp, nil
	}
	return sp, fmt.Errorf("catalog source %q: %w: %q is not a supported scheme; use https://, file://, oci:// or a plain path", redactURL(raw), ErrBadSource, scheme)
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

// loader holds what loading one run's sources shares.
type loader struct {
	o     Options
	keys  []Key
	cache cache
}

func (l *loader) load(ctx context.Context, sp sourceSpec) (*Catalog, Source, error) {
	switch sp.kind {
	case srcEmbedded:
		c := Embedded()
		return c, Source{Location: EmbeddedLocation, Kind: KindEmbedded, Digest: digestOf(defaultJSON), Editions: len(c.Editions)}, nil
	case srcFile:
		return l.loadFile(sp)
	default:
		return l.loadRemote(ctx, sp)
	}
}

func (l *loader) loadFile(sp sourceSpec) (*Catalog, Source, error) {
	data, err := readLimited(sp.path)
	if err != nil {
		return nil, Source{}, fmt.Errorf("catalog %s: %w; check the path", sp.path, err)
	}
	c, rep := Parse(data)
	if !rep.OK() {
		return nil, Source{}, invalidCatalog(sp.path, rep)
	}
	return c, Source{Location: sp.raw, Kind: KindFile, Digest: digestOf(data), Editions: len(c.Editions)}, nil
}

// readLimited reads a local catalog, one byte past the limit so that Parse
// reports an oversize file without uai reading a file of any size.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSizeBytes+1))
}

func invalidCatalog(what string, rep *Report) error {
	n := len(rep.Problems)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return fmt.Errorf("catalog %s has %d problem%s; fix them (uai catalog validate lists them):\n%w", what, n, plural, rep)
}

// loadRemote fetches, verifies and parses an https:// or oci:// catalog,
// falling back to the cache and then the embedded catalog when the network
// fails.
func (l *loader) loadRemote(ctx context.Context, sp sourceSpec) (*Catalog, Source, error) {
	cached := l.cache.load(sp.raw)
	var (
		f   fetched
		err error
	)
	if sp.kind == srcHTTPS {
		f, err = l.fetchHTTPS(ctx, sp, cached)
	} else {
		f, err = l.fetchOCI(ctx, sp, cached)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, Source{}, ctx.Err()
		}
		if !IsDependency(err) {
			return nil, Source{}, err
		}
		return l.fallback(sp, cached, err)
	}
	src := Source{Location: sp.shown, Kind: KindNetwork, NotModified: f.notModified, FetchedAt: l.o.Now().UTC()}
	c, err := l.accept(sp, f.catalog, f.signature, &src)
	if err != nil {
		return nil, Source{}, err
	}
	entry := &cacheEntry{Location: sp.raw, FetchedAt: src.FetchedAt, ETag: f.etag, ManifestDigest: f.manifestDigest, Catalog: f.catalog, Signature: f.signature}
	if err := l.cache.store(entry); err != nil {
		src.Warnings = append(src.Warnings, fmt.Sprintf("%s: could not cache the catalog for offline use: %v", sp.shown, err))
	}
	return c, src, nil
}

// accept verifies and parses catalog bytes and fills in src.
func (l *loader) accept(sp sourceSpec, data, sig []byte, src *Source) (*Catalog, error) {
	s, err := verify(sp.shown, data, sig, l.keys)
	switch {
	case err == nil:
		src.SignedBy, src.SignedComment = s.key.ID, s.comment
	case l.o.Insecure && (errors.Is(err, ErrUnsigned) || errors.Is(err, ErrUnknownKey)):
		src.Warnings = append(src.Warnings, fmt.Sprintf("%s is used without a verified signature (--insecure-catalog): %v", sp.shown, err))
	default:
		return nil, err
	}
	c, rep := Parse(data)
	if !rep.OK() {
		return nil, invalidCatalog(sp.shown, rep)
	}
	src.Digest, src.Editions = digestOf(data), len(c.Editions)
	return c, nil
}

// fallback is what an unreachable remote catalog turns into.
func (l *loader) fallback(sp sourceSpec, cached *cacheEntry, netErr error) (*Catalog, Source, error) {
	why := "there is no cached copy"
	if cached != nil {
		src := Source{Location: sp.shown, Kind: KindCache, FetchedAt: cached.FetchedAt}
		c, err := l.accept(sp, cached.Catalog, cached.Signature, &src)
		if err == nil {
			age := max(l.o.Now().Sub(cached.FetchedAt), 0)
			src.AgeSeconds = int64(age / time.Second)
			src.Warnings = append([]string{fmt.Sprintf("%v; using the copy cached %s ago (%s)", netErr, humanAge(age), cached.FetchedAt.UTC().Format(time.RFC3339))}, src.Warnings...)
			return c, src, nil
		}
		why = fmt.Sprintf("the cached copy is not usable (%v)", err)
	}
	c := Embedded()
	src := Source{Location: sp.shown, Kind: KindEmbedded, Digest: digestOf(defaultJSON), Editions: len(c.Editions),
		Warnings: []string{fmt.Sprintf("%v; %s, so the catalog built into uai is used instead", netErr, why)}}
	return c, src, nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// humanAge rounds a duration down to its largest unit.
func humanAge(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/(24*time.Hour)), "day")
	}
}
