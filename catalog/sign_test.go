package catalog

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/minisign"
)

// TestVerify: good (both minisign signature forms), missing, not a
// signature, wrong key, and changed after signing.
func TestVerify(t *testing.T) {
	testKey, testPriv := testKeyPair(t, "test")
	otherKey, otherPriv := testKeyPair(t, "other")
	data := signedCatalog(t)
	legacy := sign(testPriv, data)
	r := minisign.NewReader(bytes.NewReader(data))
	if _, err := r.Read(make([]byte, len(data)+1)); err != nil {
		t.Fatal(err)
	}
	prehashed := r.Sign(testPriv) // what the minisign tool writes by default
	flipped := bytes.Replace(legacy, []byte("file:catalog.json"), []byte("file:catalog.jsoN"), 1)

	cases := []struct {
		name string
		data []byte
		sig  []byte
		keys []Key
		kind error
		msg  []string
	}{
		{name: "good", data: data, sig: legacy, keys: []Key{testKey}},
		{name: "good, prehashed", data: data, sig: prehashed, keys: []Key{otherKey, testKey}},
		{name: "missing", data: data, sig: nil, keys: []Key{testKey}, kind: ErrUnsigned,
			msg: []string{"has no catalog.json.minisig", "--insecure-catalog"}},
		{name: "not a signature", data: data, sig: []byte("untrusted comment: hello\nnot base64\n"), keys: []Key{testKey}, kind: ErrBadSignature,
			msg: []string{"not a minisign signature"}},
		{name: "wrong key", data: data, sig: sign(otherPriv, data), keys: []Key{testKey}, kind: ErrUnknownKey,
			msg: []string{"key id is " + otherKey.ID, "uai trusts only " + testKey.ID, "--catalog-key"}},
		{name: "no keys at all", data: data, sig: legacy, keys: nil, kind: ErrUnknownKey,
			msg: []string{"no keys (none are built in)"}},
		{name: "signed then modified", data: bytes.Replace(data, []byte("kiosk:3"), []byte("kiosk:4"), 1), sig: legacy, keys: []Key{testKey}, kind: ErrBadSignature,
			msg: []string{"changed after signing", testKey.ID}},
		{name: "prehashed, then modified", data: append(bytes.Clone(data), ' '), sig: prehashed, keys: []Key{testKey}, kind: ErrBadSignature},
		{name: "trusted comment modified", data: data, sig: flipped, keys: []Key{testKey}, kind: ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := verify("https://example.com/catalog.json", c.data, c.sig, c.keys)
			if c.kind == nil {
				if err != nil || s.key.ID != testKey.ID || s.comment == "" {
					t.Fatalf("verify = %+v, %v", s, err)
				}
				return
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("error = %v; want %v", err, c.kind)
			}
			checkMessage(t, err, append(c.msg, "catalog https://example.com/catalog.json")...)
		})
	}
}

func TestParseKey(t *testing.T) {
	dir := t.TempDir()
	pubFile := filepath.Join("testdata", "keys", "test.pub")
	pubText, _ := os.ReadFile(pubFile)
	line := strings.TrimSpace(strings.Split(string(pubText), "\n")[1])
	big := filepath.Join(dir, "big.pub")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 10000), 0o644)
	garbage := filepath.Join(dir, "garbage.pub")
	os.WriteFile(garbage, []byte("untrusted comment: x\nnot a key\n"), 0o644)

	k1, err := ParseKey(pubFile)
	if err != nil || len(k1.ID) != 16 || k1.Origin != pubFile {
		t.Fatalf("file: %+v %v", k1, err)
	}
	k2, err := ParseKey(line)
	if err != nil || k2.ID != k1.ID || k2.Origin != "--catalog-key" {
		t.Fatalf("literal key: %+v %v", k2, err)
	}
	// A key whose base64 has a "/" is still a key, not a path.
	for {
		pub, _, err := minisign.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if s := pub.String(); strings.Contains(s, "/") {
			k, err := ParseKey(s)
			if err != nil || k.ID != keyID(pub.ID()) {
				t.Fatalf("literal key with a slash: %+v %v", k, err)
			}
			break
		}
	}
	for _, c := range []struct{ value, want string }{
		{filepath.Join("testdata", "keys", "test.key"), "this is a minisign secret key"},
		{filepath.Join(dir, "missing.pub"), "no such file"},
		{big, "larger than 4096 bytes"},
		{garbage, "give a minisign public key"},
		{"RWQnotakey", "give a minisign public key"},
	} {
		_, err := ParseKey(c.value)
		if !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q) = %v; want ErrBadKey", c.value, err)
			continue
		}
		checkMessage(t, err, c.want)
	}
}

func TestTrustedKeys(t *testing.T) {
	pub := filepath.Join("testdata", "keys", "test.pub")
	keys, err := TrustedKeys([]string{pub, pub})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(keys) - len(EmbeddedKeys()); n != 1 {
		t.Errorf("the same key given twice is trusted %d times", n)
	}
	if _, err := TrustedKeys([]string{"nope.pub"}); !errors.Is(err, ErrBadKey) {
		t.Errorf("a missing key file: %v", err)
	}
}

// TestEmbeddedKeysAreReal: every embedded key parses, and no test key ever
// ships in uai.
func TestEmbeddedKeysAreReal(t *testing.T) {
	keys, err := embeddedKeys(keyFiles)
	if err != nil {
		t.Fatal(err)
	}
	test, _ := testKeyPair(t, "test")
	other, _ := testKeyPair(t, "other")
	for _, k := range keys {
		if k.ID == test.ID || k.ID == other.ID {
			t.Errorf("%s is a test key; remove it from catalog/keys", k.Origin)
		}
		if !strings.HasPrefix(k.Origin, "embedded keys/") {
			t.Errorf("origin %q", k.Origin)
		}
	}
	if _, err := keyFiles.ReadFile("keys/README.md"); err != nil {
		t.Errorf("catalog/keys/README.md must stay (it documents the keys and keeps the embed pattern valid): %v", err)
	}
}

// TestSignedFixture keeps testdata/signed/catalog.json.minisig current;
// -update signs the fixture again with the test key.
func TestSignedFixture(t *testing.T) {
	key, priv := testKeyPair(t, "test")
	data := signedCatalog(t)
	path := filepath.Join("testdata", "signed", "catalog.json.minisig")
	if *update {
		if err := os.WriteFile(path, sign(priv, data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./catalog -run TestSignedFixture -update)", err)
	}
	if _, err := verify("fixture", data, sig, []Key{key}); err != nil {
		t.Fatalf("%v (after changing the fixture, run go test ./catalog -run TestSignedFixture -update)", err)
	}
	if _, rep := Parse(data); !rep.OK() {
		t.Fatalf("the signed fixture is not a valid catalog:\n%s", rep.Error())
	}
}
