package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/installer/discover"
	"github.com/universal-atomic-installer/uai/partition"
)

func newAnswersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "answers",
		Short: "Check, explain, convert and export answer files",
		Long: `Answer files make an install unattended (docs/answers.md). These commands
touch no disk: validate checks files, explain shows the plan and the disk
choice on this machine, convert turns a kickstart into TOML, export writes
the answer file of a run.`,
	}
	cmd.AddCommand(newAnswersValidateCmd(), newAnswersExplainCmd(), newAnswersConvertCmd(), newAnswersExportCmd(),
		newAnswersSchemaCmd(), newAnswersExampleCmd())
	return cmd
}

// readInputs reads answer files and kickstarts for the answers commands.
func readInputs(paths []string) ([]answers.Input, error) {
	var in []answers.Input
	for _, p := range paths {
		i, err := answers.ReadInput(p)
		if err != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "check the path", "%w", err)
		}
		in = append(in, i)
	}
	return in, nil
}

// printReport prints the problems, one per line, and returns the error
// that gives the exit code (already reported, so silent).
func printReport(w io.Writer, rep *answers.Report) error {
	for _, p := range rep.Problems {
		fmt.Fprintln(w, p.String())
	}
	n := len(rep.Problems)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "invalid: %d problem%s\n", n, plural)
	return &silentError{installer.Classify(installer.ClassInvalidInput, rep)}
}

func newAnswersValidateCmd() *cobra.Command {
	var sysRoot string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check answer files (TOML or kickstart), composed in order; exit 2 on any problem",
		Long: `Check answer files strictly: every unknown key, wrong type and broken rule,
with file:line:column, all at once. Several files are composed in order
(later files win). A file with [[hosts]] entries is checked as this machine
sees it and once for every entry, as if that machine were matched. On
success the effective answers are printed, secrets redacted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			in, err := readInputs(args)
			if err != nil {
				return err
			}
			res := answers.Validate(in, discover.ReadFacts(sysRoot))
			out := c.OutOrStdout()
			if asJSON {
				type jsonReport struct {
					Valid    bool              `json:"valid"`
					Files    []string          `json:"files"`
					Hosts    []string          `json:"hosts,omitempty"`
					Problems []answers.Problem `json:"problems"`
				}
				r := jsonReport{Valid: res.Report.OK(), Files: res.Files, Hosts: res.Hosts, Problems: res.Report.Problems}
				if r.Problems == nil {
					r.Problems = []answers.Problem{}
				}
				b, _ := json.MarshalIndent(r, "", "  ")
				fmt.Fprintln(out, string(b))
				if !res.Report.OK() {
					return &silentError{installer.Classify(installer.ClassInvalidInput, res.Report)}
				}
				return nil
			}
			if !res.Report.OK() {
				return printReport(out, res.Report)
			}
			fmt.Fprintf(out, "valid: %s (answer file version %d)\n", strings.Join(res.Files, " + "), answers.Version)
			for _, h := range res.Hosts {
				fmt.Fprintf(out, "%s applies to this machine\n", h)
			}
			fmt.Fprintf(out, "\n# effective answers, secrets redacted\n%s", answers.Encode(res.Answers.Redacted()))
			return nil
		},
	}
	cmd.Flags().StringVar(&sysRoot, "sys-root", "/sys", "where sysfs is, for the MAC and DMI facts [[hosts]] entries match")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = cmd.Flags().MarkHidden("sys-root")
	return cmd
}

func newAnswersExplainCmd() *cobra.Command {
	var f runFlags
	var disks []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain FILE...",
		Short: "Show the plan the answers make on this machine, and which disk the selector picks and why",
		Long: `Compose the answer files as an install would, then show which disk the
[disk] selector picks on this machine (every disk, every rule it passed or
failed) and the plan the install would carry out, with its sha256. No disk
is written. --disks limits the disks looked at (image files work too).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			f.answers = args
			req, a, err := f.request(c.Context(), c.ErrOrStderr())
			if err != nil {
				return err
			}
			s, err := f.sessionFor(c.Context(), disks, c.ErrOrStderr())
			if err != nil {
				return err
			}
			found, err := s.Disks(c.Context())
			if err != nil {
				return err
			}
			sel := req.Selector
			if req.DiskPath != "" {
				sel.Path = req.DiskPath
			}
			picked, ex, selErr := partition.Select(found, sel)
			var p *installer.Plan
			planErr := selErr
			if selErr == nil {
				// Plan on the disk the selector picked, exactly as shown.
				req.DiskPath = picked.Path
				p, planErr = s.Plan(c.Context(), req)
			} else {
				msg, _, _ := strings.Cut(firstLine(selErr.Error()), "; every disk and why")
				planErr = installer.Errorf(installer.ClassDiskRefused, "change the [disk] selector; the list above says which rule each disk failed", "%s", msg)
			}
			if asJSON {
				type explainJSON struct {
					Answers   string            `json:"answers"`
					Selection partition.Explain `json:"selection"`
					Plan      *installer.Plan   `json:"plan,omitempty"`
					PlanHash  string            `json:"plan_sha256,omitempty"`
					Error     string            `json:"error,omitempty"`
				}
				j := explainJSON{Answers: string(answers.Encode(a.Redacted())), Selection: ex}
				if planErr == nil {
					j.Plan, j.PlanHash = p, p.SHA256()
				} else {
					j.Error = planErr.Error()
				}
				b, _ := json.MarshalIndent(j, "", "  ")
				fmt.Fprintln(out, string(b))
				if planErr != nil {
					return &silentError{planErr}
				}
				return nil
			}
			fmt.Fprintf(out, "Disk selection\n%s\n", indent(ex.String()))
			if planErr != nil {
				fmt.Fprintf(out, "No plan: %v\n", planErr)
				return &silentError{planErr}
			}
			fmt.Fprintf(out, "Plan\n%s\nplan sha256 %s\n", indent(p.Text()), p.SHA256())
			if a.Confirm {
				fmt.Fprintln(out, "confirm = true: an install from these answers writes the disk without asking")
			} else {
				fmt.Fprintln(out, "not confirmed: an install from these answers stops after the plan (exit 8) unless confirm = true, --yes or uai.autoinstall")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&disks, "disks", nil, "look only at these disks (devices or image files) instead of every disk of this machine")
	fl.BoolVar(&f.demo, "demo", false, "demo mode: only image files are targets, and the plan names the simulator")
	fl.StringVar(&f.targetDir, "target-dir", installer.DefaultTargetDir, "where the new root would be mounted")
	fl.StringVar(&f.sysRoot, "sys-root", "/sys", "where sysfs is, for the MAC and DMI facts [[hosts]] entries match")
	fl.BoolVar(&asJSON, "json", false, "print the selection and the plan as JSON")
	_ = fl.MarkHidden("sys-root")
	f.cat.register(fl)
	return cmd
}

// sessionFor is runFlags.session with a list of disks to look at.
func (f *runFlags) sessionFor(ctx context.Context, disks []string, warnw io.Writer) (*installer.Session, error) {
	if f.espMount == "" {
		f.espMount = "auto"
	}
	s, err := f.session(ctx, warnw)
	if err != nil {
		return nil, err
	}
	s.Targets = disks
	return s, nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func newAnswersConvertCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "convert KICKSTART",
		Short: "Convert a kickstart (the subset in docs/answers-kickstart.md) to a TOML answer file",
		Long: `Convert an Anaconda kickstart into a TOML answer file on stdout. Only the
commands and options uai can honour are accepted; every other command,
section or option is refused by name and line, with what to do instead.
The output keeps the kickstart's secrets (it is your file): keep it private.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return installer.Errorf(installer.ClassInvalidInput, "check the path", "read the kickstart: %w", err)
			}
			out, rep := answers.Convert(args[0], data)
			if !rep.OK() {
				return printReport(c.OutOrStdout(), rep)
			}
			_, err = c.OutOrStdout().Write(out)
			return err
		},
	}
}

func newAnswersExportCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the answer file of a run (from answer files and flags), secrets redacted",
		Long: `Print the answer file that replays a run: the answer files given with
--answers composed, the flags applied, secrets redacted. The TUI writes the
same file for an interactive run. To replay it, supply the redacted secrets
in a second file: uai install --answers exported.toml --answers secrets.toml.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			req, _, err := f.request(c.Context(), c.ErrOrStderr())
			if err != nil {
				return err
			}
			_, err = c.OutOrStdout().Write(exportAnswers(req))
			return err
		},
	}
	f.register(cmd)
	return cmd
}

// exportAnswers is the answer file of a run's Request, secrets redacted.
// A TUI run exports the same way: installer.AnswersFromRequest, Redacted,
// answers.Encode.
func exportAnswers(req installer.Request) []byte {
	a := installer.AnswersFromRequest(req)
	head := "# Exported by uai. Secrets are redacted: supply them in a second file\n" +
		"# (uai install --answers THIS --answers secrets.toml), see docs/answers.md.\n\n"
	return append([]byte(head), answers.Encode(a.Redacted())...)
}

func newAnswersSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of answer file v1 (docs/answers.schema.json)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := c.OutOrStdout().Write(answers.Schema())
			return err
		},
	}
}

func newAnswersExampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a commented answer file with every key (docs/answers.example.toml)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := c.OutOrStdout().Write(answers.Example())
			return err
		},
	}
}
