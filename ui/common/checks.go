package common

import (
	"fmt"
	"strings"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

// MinRootBytes is the smallest root answer files accept, for the same
// reason: no bootc image fits in less.
const MinRootBytes = 4 << 30

// MinPassphrase is the shortest encryption passphrase, as in answer files.
const MinPassphrase = 8

// CheckRootSize reads a root size as typed; empty means all the space (0).
func CheckRootSize(text string) (uint64, error) {
	v := strings.TrimSpace(text)
	if v == "" {
		return 0, nil
	}
	n, err := partition.ParseSize(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a size; write e.g. 40GiB, or leave it empty for all the space", v)
	case n < MinRootBytes:
		return 0, fmt.Errorf("%s is too small for any bootc image; give at least 4GiB", Bytes(n))
	}
	return n, nil
}

// CheckEncryption checks an encryption passphrase typed twice. repeat
// reports whether the problem is with the repeat (which is then retyped).
func CheckEncryption(p1, p2 string) (repeat bool, err error) {
	switch {
	case p1 == "":
		return false, fmt.Errorf("the passphrase is empty; type one (it unlocks the disk at boot)")
	case len([]rune(p1)) < MinPassphrase:
		return false, fmt.Errorf("the passphrase has %d characters; use at least %d", len([]rune(p1)), MinPassphrase)
	case p1 != p2:
		return true, fmt.Errorf("the two passphrases differ; type the same one twice")
	}
	return false, nil
}

// CheckPassword checks a login password typed twice; it may be empty only
// when an SSH key is given instead.
func CheckPassword(p1, p2 string, hasKey bool) (repeat bool, err error) {
	switch {
	case p1 == "" && !hasKey:
		return false, fmt.Errorf("the password is empty: type one, or give an SSH key to log in with")
	case p1 != p2:
		return true, fmt.Errorf("the two passwords differ; type the same one twice")
	}
	return false, nil
}

// AnswerProblems checks the system, root and users parts of r with the
// rules of answer files, so a value typed here is accepted there too. It
// returns each problem's message by answer key ("system.hostname",
// "users[0].name", "root.ssh_authorized_keys[0]").
func AnswerProblems(r installer.Request) map[string]string {
	a := installer.AnswersFromRequest(installer.Request{System: r.System, Root: r.Root, Users: r.Users})
	// Every other section may be missing here: the screens ask them.
	a.Interactive = []string{"*"}
	out := map[string]string{}
	if _, rep := answers.Parse(answers.Encode(a)); rep != nil {
		for _, p := range rep.Problems {
			if _, seen := out[p.Key]; !seen && p.Key != "" {
				out[p.Key] = p.Message
			}
		}
	}
	return out
}
