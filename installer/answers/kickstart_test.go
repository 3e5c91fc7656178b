package answers

import (
	"reflect"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/partition"
)

// shellSplit follows Python's shlex.split(line, comments=True), which is
// what pykickstart uses; the expectations are shlex's outputs.
func TestShellSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`rootpw testcase`, []string{"rootpw", "testcase"}},
		{`bootloader --append="console=ttyS0 quiet"`, []string{"bootloader", "--append=console=ttyS0 quiet"}},
		{`keyboard --xlayouts='us','de (nodeadkeys)'`, []string{"keyboard", "--xlayouts=us,de (nodeadkeys)"}},
		{`sshkey --username=qa "ssh-ed25519 AAAA qa@x"`, []string{"sshkey", "--username=qa", "ssh-ed25519 AAAA qa@x"}},
		{`rootpw pass#word`, []string{"rootpw", "pass"}},
		{`rootpw "pass#word" # a comment`, []string{"rootpw", "pass#word"}},
		{`user --gecos="A \"quoted\" name"`, []string{"user", `--gecos=A "quoted" name`}},
		{`user --gecos="back\slash"`, []string{"user", `--gecos=back\slash`}},
		{`a\ b c`, []string{"a b", "c"}},
		{`x ''`, []string{"x", ""}},
		{"\ttext\t--non-interactive  ", []string{"text", "--non-interactive"}},
	}
	for _, c := range cases {
		got, err := shellSplit(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`a "b`, `a 'b`} {
		if _, err := shellSplit(bad); err == nil {
			t.Errorf("shellSplit(%q) accepted an unclosed quote", bad)
		}
	}
}

const hash = "$6$fixture.salt$6y9r.uaLxsnyfh/wO2ZBlXigJ1.erIBSiGicJsZN5VyuoA1IfMpUi3EGviWUWbS/wXxYEN0RCIo6BmJwUMwIg1"

// Every accepted command and option lands in the same Answers a TOML file
// would give.
func TestKickstartMapping(t *testing.T) {
	ks := `# every supported command
text --non-interactive
cmdline
bootc --source-imgref=containers-storage:quay.io/fedora/fedora-bootc:44 --target-imgref quay.io/fedora/fedora-bootc:44 --stateroot=qa
zerombr
clearpart --all --initlabel --disklabel=gpt --drives=disk/by-id/virtio-qa
ignoredisk --only-use=disk/by-id/virtio-qa
autopart --type=plain --fstype=ext4 --encrypted --passphrase="luks pass 1" --luks-version=luks2 --nohome --noswap
rootpw --iscrypted ` + hash + `
user --name=qa --gecos="QA Automation" --groups=wheel,adm --password=` + hash + ` --iscrypted --uid=1500
user --name=ops --password=plain-pw --plaintext
sshkey --username=root "` + edKey + `"
sshkey --username=qa "` + edKey + `"
network --bootproto=dhcp --device=link --activate --onboot=on --ipv6=auto
network --hostname=qa-01.lab.example.com
network --essid=qa-lab --wpakey="wifi pass 1"
timezone America/New_York --utc
lang de_DE.UTF-8
keyboard --vckeymap=de-nodeadkeys --xlayouts='de (nodeadkeys)','us'
bootloader --append="console=ttyS0,115200n8 rd.luks.options=discard"
shutdown --eject
reboot --eject
`
	a, rep := ParseKickstart([]byte(ks))
	if !rep.OK() {
		t.Fatalf("problems:\n%v", rep)
	}
	want := &Answers{
		Version: 1,
		Source:  Source{Image: "quay.io/fedora/fedora-bootc:44", Transport: "containers-storage", TargetRef: "quay.io/fedora/fedora-bootc:44", Stateroot: "qa"},
		Disk:    Disk{Selector: partition.Selector{Path: "/dev/disk/by-id/virtio-qa"}, Wipe: true},
		Storage: Storage{Filesystem: "ext4", Encryption: Encryption{Enabled: true, Passphrase: "luks pass 1"}},
		System:  System{Hostname: "qa-01.lab.example.com", Timezone: "America/New_York", Locale: "de_DE.UTF-8", Keymap: "de-nodeadkeys"},
		Root:    Root{PasswordHash: hash, SSHAuthorizedKeys: []string{edKey}},
		Users: []User{
			{Name: "qa", GECOS: "QA Automation", UID: 1500, Groups: []string{"wheel", "adm"}, PasswordHash: hash, SSHAuthorizedKeys: []string{edKey}},
			{Name: "ops", Password: "plain-pw"},
		},
		Kernel:  Kernel{Args: []string{"console=ttyS0,115200n8", "rd.luks.options=discard"}},
		Network: Network{WiFi: []WiFi{{SSID: "qa-lab", PSK: "wifi pass 1"}}},
		Post:    Post{Action: "reboot", Eject: true},
	}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", a, want)
	}
	// The converted TOML says the same.
	out, rep := Convert("all.ks", []byte(ks))
	if !rep.OK() {
		t.Fatal(rep)
	}
	if !strings.Contains(string(out), "keep it private") || !strings.Contains(string(out), "uai.autoinstall") {
		t.Errorf("the converted file lacks its header:\n%s", out)
	}
	b, rep := Parse(out)
	if !rep.OK() || !reflect.DeepEqual(a, b) {
		t.Fatalf("the converted TOML differs: %v\n%s", rep, out)
	}
}

func TestKickstartForms(t *testing.T) {
	cases := []struct {
		line  string
		check func(a *Answers) bool
	}{
		{"ostreecontainer --url=ghcr.io/ublue-os/bazzite:stable --transport=containers-storage --no-signature-verification",
			func(a *Answers) bool {
				return a.Source.Image == "ghcr.io/ublue-os/bazzite:stable" && a.Source.Transport == "containers-storage"
			}},
		{"ostreecontainer --url quay.io/fedora/fedora-silverblue:44 --transport registry",
			func(a *Answers) bool {
				return a.Source.Image == "quay.io/fedora/fedora-silverblue:44" && a.Source.Transport == ""
			}},
		{"bootc --source-imgref docker://quay.io/fedora/fedora-bootc:44",
			func(a *Answers) bool { return a.Source.Image == "quay.io/fedora/fedora-bootc:44" }},
		{"keyboard us", func(a *Answers) bool { return a.System.Keymap == "us" }},
		{"keyboard --xlayouts='fr (oss)','us'", func(a *Answers) bool { return a.System.Keymap == "fr" }},
		{"autopart --type=btrfs", func(a *Answers) bool { return a.Storage.Filesystem == "btrfs" }},
		{"autopart --nolvm", func(a *Answers) bool { return a.Storage.Filesystem == "" }},
		{"clearpart --none", func(a *Answers) bool { return !a.Disk.Wipe }},
		{"timezone --utc", func(a *Answers) bool { return a.System.Timezone == "" }},
		{"halt", func(a *Answers) bool { return a.Post.Action == "none" }},
		{"poweroff", func(a *Answers) bool { return a.Post.Action == "poweroff" }},
	}
	for _, c := range cases {
		ks := "bootc --source-imgref=registry:quay.io/fedora/fedora-bootc:44\nignoredisk --only-use=vda\n"
		if strings.HasPrefix(c.line, "ostreecontainer") || strings.HasPrefix(c.line, "bootc") {
			ks = "ignoredisk --only-use=vda\n"
		}
		a, rep := ParseKickstart([]byte(ks + c.line + "\n"))
		if !rep.OK() {
			t.Errorf("%s: %v", c.line, rep)
			continue
		}
		if !c.check(a) {
			t.Errorf("%s: mapped to %+v", c.line, a)
		}
	}
}

// Everything outside the subset is refused by name and line, with a hint.
func TestKickstartRefusals(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"%packages\n@core\n%end", []string{"3:1: %packages:", "Containerfile"}},
		{"%post --nochroot\ntrue\n%end", []string{"3:1: %post:", "target_ref"}},
		{"%addon com_redhat_kdump --enable\n%end", []string{"%addon"}},
		{"%ksappend common.ks", []string{"compose answer files"}},
		{"%end", []string{"%end without a section"}},
		{"%weird", []string{"does not know this section"}},
		{"part / --size=1024 --grow --label=rootfs", []string{`"part" is not supported`, "autopart"}},
		{"url --url=https://example.com/os", []string{`"url"`, "bootc images only"}},
		{"selinux --permissive", []string{"in the image"}},
		{"group --name=qa", []string{"create groups in the image"}},
		{"logging --host=192.0.2.1", []string{"[reporting]"}},
		{"iscsi --ipaddr=192.0.2.1", []string{"local disks only"}},
		{"frobnicate", []string{`"frobnicate"`, "docs/answers-kickstart.md"}},
		{"rootpw --allow-ssh secret", []string{"--allow-ssh", "sshkey"}},
		{"rootpw -p secret", []string{"option -p of rootpw", "start with --"}},
		{"rootpw --iscrypted --plaintext x", []string{"contradict"}},
		{"rootpw a b", []string{"one password"}},
		{"rootpw --lock --iscrypted " + hash, []string{"either locks root or sets its password"}},
		{"text --frobnicate", []string{"option --frobnicate of text is not supported"}},
		{"reboot --kexec", []string{"--kexec"}},
		{"reboot --eject=yes", []string{"takes no value"}},
		{"user --name", []string{"needs a value"}},
		{"user --gecos=x", []string{"user needs --name"}},
		{"user --name=qa --uid=many", []string{"--uid=many is not a number"}},
		{"user --name=qa --iscrypted", []string{"--iscrypted needs --password"}},
		{"sshkey --username=root", []string{"exactly one key"}},
		{"sshkey \"ssh-ed25519 AAAA\"", []string{"sshkey needs --username"}},
		{"network --onboot=off", []string{"--onboot=off"}},
		{"network --ipv6=2001:db8::1/64", []string{"--ipv6=2001"}},
		{"network --wpakey=x", []string{"--wpakey needs --essid"}},
		{"network --wepkey=x --essid=y", []string{"WEP is broken"}},
		{"timezone Europe/Berlin Europe/Paris", []string{"one zone"}},
		{"timezone --ntpservers=pool.ntp.org Europe/Berlin", []string{"chrony"}},
		{"lang", []string{"lang takes one locale"}},
		{"keyboard --switch=grp:alt_shift_toggle us", []string{"--switch"}},
		{"keyboard", []string{"keyboard needs a layout"}},
		{"bootloader --location=mbr", []string{"--location", "bootupd"}},
		{"autopart --type=thinp", []string{"--type=thinp", "no LVM"}},
		{"autopart --type=zfs", []string{"--type=zfs is not a partitioning scheme"}},
		{"autopart --type=btrfs --fstype=xfs", []string{"contradict"}},
		{"autopart --encrypted --passphrase=longenough --luks-version=luks1", []string{"LUKS2"}},
		{"autopart --passphrase=longenough", []string{"--passphrase needs --encrypted"}},
		{"autopart --encrypted --passphrase=longenough --cipher=aes-xts-plain64", []string{"--cipher"}},
		{"clearpart --all --none", []string{"contradict"}},
		{"clearpart --linux", []string{"--linux", "layout = \"free\""}},
		{"clearpart --all --drives=vdb", []string{"the disk /dev/vdb differs from /dev/vda"}},
		{"ignoredisk --drives=sdb", []string{"--only-use"}},
		{"zerombr now", []string{"zerombr takes no argument"}},
		{"ostreecontainer --url=quay.io/x/y:1", []string{"bootc and ostreecontainer cannot be used together"}},
		{"bootc --target-imgref=quay.io/x/y:1", []string{"bootc needs --source-imgref"}},
		{"bootc --source-imgref=dir:/srv/image", []string{`transport "dir" is not supported`}},
		{"bootc --source-imgref=registry:quay.io/x/y:1 --composefs", []string{"--composefs"}},
	}
	for _, c := range cases {
		ks := "bootc --source-imgref=registry:quay.io/fedora/fedora-bootc:44\nignoredisk --only-use=vda\n" + c.line + "\n"
		_, rep := ParseKickstart([]byte(ks))
		if rep.OK() {
			t.Errorf("%q was accepted", c.line)
			continue
		}
		got := rep.Error()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: report lacks %q:\n%s", c.line, w, got)
			}
		}
	}
}

func TestKickstartCommandsListed(t *testing.T) {
	cmds := KickstartCommands()
	for _, c := range []string{"ostreecontainer", "bootc", "clearpart", "zerombr", "ignoredisk", "autopart", "rootpw", "user", "sshkey",
		"network", "timezone", "lang", "keyboard", "bootloader", "reboot", "poweroff", "halt", "text", "cmdline"} {
		if _, ok := cmds[c]; !ok {
			t.Errorf("the issue's subset needs %s", c)
		}
	}
	if got := cmds["bootloader"]; !reflect.DeepEqual(got, []string{"--append"}) {
		t.Errorf("bootloader honours %v", got)
	}
}

func FuzzKickstart(f *testing.F) {
	f.Add([]byte("bootc --source-imgref=registry:quay.io/fedora/fedora-bootc:44\nignoredisk --only-use=vda\nrootpw testcase\n"))
	f.Add([]byte("%post\nfoo\n"))
	f.Add([]byte("user --name=\"a b\nsshkey --username=x 'k\n"))
	f.Add([]byte("network --essid=x --wpakey\nkeyboard --xlayouts=,\nautopart --type\n"))
	f.Add([]byte("sshkey --username=root \"" + edKey + "\"\n%end\n%include x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, rep := ParseKickstart(data)
		if rep.OK() != (a != nil) {
			t.Fatal("answers are returned exactly when there are no problems")
		}
		for _, p := range rep.Problems {
			if p.Message == "" {
				t.Fatal("problem without a message")
			}
		}
		if a != nil {
			b, rep2 := Parse(Encode(a))
			if !rep2.OK() || !reflect.DeepEqual(a, b) {
				t.Fatalf("the converted TOML differs: %v\n%s", rep2, Encode(a))
			}
		}
	})
}
