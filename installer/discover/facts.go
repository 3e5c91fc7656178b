package discover

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/answers"
)

// ReadFacts reads what [[hosts]] entries match on: every network
// interface's MAC address (sysRoot/class/net/*/address) and the DMI
// product serial and name (sysRoot/class/dmi/id). sysRoot "" means /sys;
// tests point it at a fake tree. What cannot be read is left empty (the
// serial is readable by root only): an entry keyed on it then never
// matches, which is the safe side.
func ReadFacts(sysRoot string) answers.Facts {
	if sysRoot == "" {
		sysRoot = "/sys"
	}
	var f answers.Facts
	nets, _ := filepath.Glob(filepath.Join(sysRoot, "class", "net", "*", "address"))
	sort.Strings(nets)
	for _, p := range nets {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		mac := answers.NormalizeMAC(string(b))
		// Loopback and some virtual interfaces report all zeros.
		if mac == "" || mac == "00:00:00:00:00:00" {
			continue
		}
		f.MACs = append(f.MACs, mac)
	}
	dmi := filepath.Join(sysRoot, "class", "dmi", "id")
	f.Serial = readDMI(filepath.Join(dmi, "product_serial"))
	f.Product = readDMI(filepath.Join(dmi, "product_name"))
	return f
}

// readDMI reads one DMI string. Firmware fills unset fields with
// placeholders that would match every machine of a make: they count as
// unset.
func readDMI(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(b))
	switch strings.ToLower(v) {
	case "", "none", "not specified", "to be filled by o.e.m.", "default string", "system serial number", "0", "123456789":
		return ""
	}
	return v
}
