package catalog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// fetched is what one remote source gave.
type fetched struct {
	catalog, signature []byte
	// notModified: the cached copy is current (HTTP 304, or the same OCI
	// manifest digest), and catalog/signature are the cached bytes.
	notModified    bool
	etag           string
	manifestDigest string
}

// fetchHTTPS gets catalog.json (revalidating the cached copy with its ETag)
// and, when the catalog changed, catalog.json.minisig next to it.
func (l *loader) fetchHTTPS(ctx context.Context, sp sourceSpec, cached *cacheEntry) (fetched, error) {
	etag := ""
	if cached != nil {
		etag = cached.ETag
	}
	res, err := l.get(ctx, sp.url, sp.shown, etag)
	if err != nil {
		return fetched{}, err
	}
	if res.notModified {
		return fetched{catalog: cached.Catalog, signature: cached.Signature, notModified: true, etag: etag}, nil
	}
	sigURL := *sp.url
	sigURL.Path += ".minisig"
	if sigURL.RawPath != "" {
		sigURL.RawPath += ".minisig"
	}
	sig, err := l.get(ctx, &sigURL, sigURL.Redacted(), "")
	switch {
	case errors.Is(err, ErrNotFound):
		sig = httpResult{} // unsigned: verify says so, and what to do
	case err != nil:
		return fetched{}, err
	}
	return fetched{catalog: res.body, signature: sig.body, etag: res.etag}, nil
}

type httpResult struct {
	body        []byte
	etag        string
	notModified bool
}

// get fetches u with retries: network failures and 408, 429 and 5xx
// answers are tried again after a doubling pause, up to Attempts times.
func (l *loader) get(ctx context.Context, u *url.URL, shown, etag string) (httpResult, error) {
	var last error
	for attempt := 1; ; attempt++ {
		res, err := l.getOnce(ctx, u, shown, etag)
		if err == nil {
			return res, nil
		}
		last = err
		if !retryable(err) || ctx.Err() != nil || attempt >= l.o.Attempts {
			break
		}
		if err := sleep(ctx, backoff(l.o.Backoff, attempt)); err != nil {
			return httpResult{}, err
		}
	}
	if retryable(last) && l.o.Attempts > 1 {
		return httpResult{}, withAttempts(last, l.o.Attempts)
	}
	return httpResult{}, last
}

// attemptsError adds how often a request was tried to a message, before
// its fix: "X unreachable: refused (tried 3 times); check the network".
type attemptsError struct {
	err error
	n   int
}

func withAttempts(err error, n int) error { return &attemptsError{err: err, n: n} }

func (e *attemptsError) Error() string {
	msg, tried := e.err.Error(), fmt.Sprintf(" (tried %d times)", e.n)
	if i := strings.LastIndex(msg, "; "); i >= 0 {
		return msg[:i] + tried + msg[i:]
	}
	return msg + tried
}

func (e *attemptsError) Unwrap() error { return e.err }

// errPermanent marks network failures that a retry cannot fix (a bad
// certificate); they still count as ErrUnreachable for the fallback.
var errPermanent = errors.New("permanent")

func retryable(err error) bool {
	return errors.Is(err, ErrUnreachable) && !errors.Is(err, errPermanent)
}

// backoff is the pause before attempt+1: base, 2×base, 4×base... capped.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (l *loader) getOnce(ctx context.Context, u *url.URL, shown, etag string) (httpResult, error) {
	// One deadline for the request and the body: a server that sends
	// headers and then stalls must not hang the installer.
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return httpResult{}, fmt.Errorf("catalog %s: %w: %v", shown, ErrBadSource, err)
	}
	req.Header.Set("User-Agent", "uai")
	req.Header.Set("Accept", "application/json, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	client := &http.Client{Transport: l.o.Transport}
	resp, err := client.Do(req)
	if err != nil {
		return httpResult{}, netError(shown, l.o.Timeout, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && etag != "":
		return httpResult{notModified: true}, nil
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return httpResult{}, fmt.Errorf("%s %w (%s); check the URL", shown, ErrNotFound, resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return httpResult{}, fmt.Errorf("%s: %w (%s); the server wants credentials uai does not send: publish the catalog where it can be read", shown, ErrUnauthorized, resp.Status)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return httpResult{}, fmt.Errorf("%s %w: the server answered %s; try again later", shown, ErrUnreachable, resp.Status)
	default:
		return httpResult{}, fmt.Errorf("%s %w: the server answered %s, which uai does not expect; check the URL", shown, errors.Join(ErrUnreachable, errPermanent), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSizeBytes+1))
	if err != nil {
		return httpResult{}, netError(shown, l.o.Timeout, err)
	}
	if len(body) > MaxSizeBytes {
		return httpResult{}, fmt.Errorf("catalog %s is larger than the limit of %d bytes: %w; split it into several catalogs", shown, MaxSizeBytes, ErrInvalid)
	}
	return httpResult{body: body, etag: resp.Header.Get("ETag")}, nil
}

// netError turns a transport failure into an ErrTimeout or ErrUnreachable
// error that says what happened.
func netError(what string, timeout time.Duration, err error) error {
	var (
		ne      net.Error
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s %w: no complete answer within %s; check the network, or try again", what, ErrTimeout, timeout)
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &host):
		return fmt.Errorf("%s %w: the server's TLS certificate is not trusted (%v); a captive portal or a proxy may be in the way", what, errors.Join(ErrUnreachable, errPermanent), err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s %w: the connection was dropped in the middle of the answer; check the network, or try again", what, ErrUnreachable)
	}
	return fmt.Errorf("%s %w: %v; check the network, or try again", what, ErrUnreachable, unwrapURLError(err))
}

// unwrapURLError drops net/http's `Get "URL":` prefix, which would repeat
// the location (and any password in it) the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
