package common

import (
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
)

func TestStrength(t *testing.T) {
	cases := []struct {
		p     string
		level int
	}{
		{"", 0}, {"abc12345", 0}, {"abcdefghij", 0}, {"abcdefghi1", 1}, {"abcdefghijkl", 1},
		{"Abcdefghij1!", 2}, {"correct horse battery staple", 2},
	}
	for _, tc := range cases {
		if got, words := Strength(tc.p); got != tc.level || words == "" {
			t.Errorf("Strength(%q) = %d %q, want %d", tc.p, got, words, tc.level)
		}
	}
}

func TestCheckRootSize(t *testing.T) {
	for in, want := range map[string]uint64{"": 0, " 40GiB ": 40 << 30, "4GiB": 4 << 30, "1TiB": 1 << 40} {
		if got, err := CheckRootSize(in); err != nil || got != want {
			t.Errorf("CheckRootSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"lots": "is not a size", "3GiB": "too small", "100MiB": "give at least 4GiB"} {
		if _, err := CheckRootSize(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRootSize(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestCheckSecrets(t *testing.T) {
	if _, err := CheckEncryption("", ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty passphrase: %v", err)
	}
	if second, err := CheckEncryption("12345678", "12345679"); err == nil || !second {
		t.Errorf("different passphrases: %v %v", err, second)
	}
	if _, err := CheckEncryption("1234567", "1234567"); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Errorf("short passphrase: %v", err)
	}
	if _, err := CheckEncryption("12345678", "12345678"); err != nil {
		t.Errorf("good passphrase: %v", err)
	}
	if _, err := CheckPassword("", "", false); err == nil || !strings.Contains(err.Error(), "SSH key") {
		t.Errorf("empty password without a key: %v", err)
	}
	if _, err := CheckPassword("", "", true); err != nil {
		t.Errorf("empty password with a key: %v", err)
	}
	if second, err := CheckPassword("a", "b", true); err == nil || !second {
		t.Errorf("different passwords: %v", err)
	}
}

// The TUI's checks are the answer files' own, by key.
func TestAnswerProblems(t *testing.T) {
	got := AnswerProblems(installer.Request{
		System: installer.SystemRequest{Hostname: "bad_host", Timezone: "Mars/Olympus"},
		Users:  []installer.UserRequest{{Name: "Alex", SSHAuthorizedKeys: []string{"ssh-ed25519 nope"}}},
	})
	for _, k := range []string{"system.hostname", "system.timezone", "users[0].name", "users[0].ssh_authorized_keys[0]"} {
		if got[k] == "" {
			t.Errorf("no problem for %s in %v", k, got)
		}
	}
	if ok := AnswerProblems(installer.Request{System: installer.SystemRequest{Hostname: "lab-7", Timezone: "Europe/Berlin"},
		Users: []installer.UserRequest{{Name: "alex", Password: "x"}}}); len(ok) != 0 {
		t.Errorf("problems with good settings: %v", ok)
	}
}
