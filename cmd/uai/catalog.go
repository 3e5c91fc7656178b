package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
)

// catalogFlags are --catalog, --catalog-key and --insecure-catalog. Any
// command that reads the catalog registers them and calls open.
type catalogFlags struct {
	sources  []string
	keys     []string
	insecure bool
}

func (f *catalogFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.sources, "catalog", nil, "read the catalog from `URL|PATH`: https://, file://, oci://REGISTRY/REPO:TAG, a path, or \"embedded\" (repeatable; later catalogs win per edition id; default: the embedded catalog)")
	fs.StringArrayVar(&f.keys, "catalog-key", nil, "trust this minisign public `KEY` (a .pub file, or its RW... line) for remote catalogs (repeatable)")
	fs.BoolVar(&f.insecure, "insecure-catalog", false, "accept remote catalogs that are unsigned or signed by an unknown key (a warning says so)")
}

// open reads the catalogs and prints their warnings (fallbacks, conflicts,
// unverified catalogs) to w.
func (f *catalogFlags) open(ctx context.Context, w io.Writer) (*catalog.Loaded, error) {
	l, err := catalog.Open(ctx, catalog.Options{Sources: f.sources, Keys: f.keys, Insecure: f.insecure})
	if err != nil {
		return nil, classifyCatalog(err)
	}
	for _, line := range l.Warnings() {
		fmt.Fprintf(w, "uai: warning: %s\n", line)
	}
	return l, nil
}

// classifyCatalog maps the catalog package's error kinds to exit codes:
// network and registry failures are dependency errors (retrying may help),
// everything else is input the user can fix.
func classifyCatalog(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case catalog.IsDependency(err):
		return installer.Classify(installer.ClassDependency, err)
	default:
		return installer.Classify(installer.ClassInvalidInput, err)
	}
}

// catalogMachine reads the facts editions are filtered by. What cannot be read
// stays unknown and is not checked: a listing must work in a container or
// as an ordinary user.
func catalogMachine() catalog.Machine {
	m, _ := catalog.ReadMachine("/")
	if disks, err := partition.Scan(partition.ScanOptions{}); err == nil {
		for _, d := range disks {
			if d.Installable() && d.SizeBytes > m.LargestDiskBytes {
				m.LargestDiskBytes = d.SizeBytes
			}
		}
	}
	return m
}

func catalogWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newCatalogCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "List, show, validate and resolve catalog editions"}
	cmd.AddCommand(newCatalogListCmd(), newCatalogShowCmd(), newCatalogValidateCmd(), newCatalogResolveCmd())
	return cmd
}

func newCatalogListCmd() *cobra.Command {
	var (
		asJSON bool
		cf     catalogFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the editions and whether each fits this machine",
		Long: `List the editions of the catalog (the embedded one unless --catalog names
others) with whether each fits this machine: architecture, firmware, memory
and the largest installable disk. --json prints the merged catalog itself,
which --catalog can read back.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := cf.open(c.Context(), c.ErrOrStderr())
			if err != nil {
				return err
			}
			if asJSON {
				return catalogWriteJSON(c.OutOrStdout(), l.Catalog)
			}
			out := c.OutOrStdout()
			if err := catalog.WriteFitTable(out, l.Catalog.ForMachine(catalogMachine())); err != nil {
				return err
			}
			fmt.Fprintln(out)
			for _, s := range l.Sources {
				fmt.Fprintf(out, "from %s\n", s)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the merged catalog as JSON")
	cf.register(cmd.Flags())
	return cmd
}

// catalogShowResult is the JSON of `uai catalog show`.
type catalogShowResult struct {
	Edition catalog.Edition `json:"edition"`
	Fits    bool            `json:"fits"`
	Reasons []string        `json:"reasons,omitempty"`
	Source  catalog.Source  `json:"source"`
}

func newCatalogShowCmd() *cobra.Command {
	var (
		asJSON bool
		cf     catalogFlags
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one edition in full, whether it fits this machine, and which catalog it came from",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			l, err := cf.open(c.Context(), c.ErrOrStderr())
			if err != nil {
				return err
			}
			e, ok := l.Catalog.Lookup(args[0])
			if !ok {
				return installer.Errorf(installer.ClassInvalidInput, "pick one of: "+strings.Join(catalogIDs(l.Catalog), ", "), "edition %q is not in the catalog", args[0])
			}
			src, _ := l.SourceOf(e.ID)
			why := e.Fits(catalogMachine())
			if asJSON {
				return catalogWriteJSON(c.OutOrStdout(), catalogShowResult{Edition: e, Fits: len(why) == 0, Reasons: why, Source: src})
			}
			return catalogWriteEdition(c.OutOrStdout(), e, why, src)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the edition, its fit and its source as JSON")
	cf.register(cmd.Flags())
	return cmd
}

func catalogIDs(c *catalog.Catalog) []string {
	out := make([]string, len(c.Editions))
	for i, e := range c.Editions {
		out[i] = e.ID
	}
	return out
}

func catalogWriteEdition(w io.Writer, e catalog.Edition, why []string, src catalog.Source) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", e.ID)
	row("name", e.Name)
	row("category", e.Category)
	row("maturity", strings.TrimSpace(e.Maturity+" "+catalogParens(e.MaturityNote)))
	row("image", e.Image)
	row("digest", e.Digest)
	row("aliases", strings.Join(e.Aliases, ", "))
	row("arches", strings.Join(e.Arches, ", "))
	row("firmware", strings.Join(e.Firmware, ", "))
	row("minimum", fmt.Sprintf("%d GiB disk, %d MiB RAM", e.MinDiskGiB, e.MinRAMMiB))
	row("filesystem", e.DefaultFilesystem)
	row("kargs", strings.Join(e.Kargs, " "))
	row("signature", e.Signature.Policy)
	row("homepage", e.Homepage)
	row("docs", e.Docs)
	row("maintainer", e.Maintainer)
	fits := "yes"
	if len(why) > 0 {
		fits = "no: " + strings.Join(why, " / ")
	}
	row("fits", fits)
	row("from", src.String())
	row("description", e.Description)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write edition: %w", err)
	}
	return nil
}

func catalogParens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// catalogValidateResult is the JSON of `uai catalog validate`.
type catalogValidateResult struct {
	File     string            `json:"file"`
	Valid    bool              `json:"valid"`
	Editions int               `json:"editions"`
	Problems []catalog.Problem `json:"problems"`
}

func newCatalogValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a catalog file and list every problem with its JSON path",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			file := args[0]
			cat, rep, err := catalog.Load(file)
			if err != nil {
				return installer.Classify(installer.ClassInvalidInput, err)
			}
			res := catalogValidateResult{File: file, Valid: rep.OK(), Problems: rep.Problems}
			if cat != nil {
				res.Editions = len(cat.Editions)
			}
			if res.Problems == nil {
				res.Problems = []catalog.Problem{}
			}
			out := c.OutOrStdout()
			if asJSON {
				if err := catalogWriteJSON(out, res); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Fprintf(out, "%s: a valid %s catalog with %d editions\n", file, catalog.APIVersion, res.Editions)
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintf(out, "%s: %s\n", file, p)
				}
			}
			if !rep.OK() {
				return &silentError{installer.Errorf(installer.ClassInvalidInput, "", "catalog %s has %d problems", file, len(rep.Problems))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// catalogResolveResult is the JSON of `uai catalog resolve`.
type catalogResolveResult struct {
	Edition string `json:"edition,omitempty"`
	catalog.ImageInfo
}

func newCatalogResolveCmd() *cobra.Command {
	var (
		asJSON bool
		arch   string
		cf     catalogFlags
	)
	cmd := &cobra.Command{
		Use:   "resolve ID-or-REF",
		Short: "Ask the registry for an edition's (or any image's) digest, size, build time and labels",
		Long: `Resolve an edition id of the catalog, or a fully qualified image reference
(registry/repo:tag or registry/repo@sha256:...), against its registry: the
digest for this machine's architecture (through the multi-arch index), the
compressed size, the build time and the labels. Images that bootc would
refuse (no containers.bootc or ostree.bootable label, or not built for this
architecture) are refused. Credentials come from the docker config or
REGISTRY_AUTH_FILE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o := catalog.ResolveOptions{Arch: arch}
			res := catalogResolveResult{}
			ref := args[0]
			if !strings.ContainsAny(ref, "/:@") {
				// An edition id (ids have none of these); anything else is
				// a reference, so the catalog is read only when needed.
				l, err := cf.open(c.Context(), c.ErrOrStderr())
				if err != nil {
					return err
				}
				e, ok := l.Catalog.Lookup(ref)
				if !ok {
					return installer.Errorf(installer.ClassInvalidInput, "give an edition id (uai catalog list) or a fully qualified image reference",
						"%q is not an edition id of the catalog, and not an image reference either (%w)", ref, catalog.CheckRef(ref))
				}
				res.Edition, ref, o.Digest = e.ID, e.Image, e.Digest
			}
			info, err := catalog.ResolveImage(c.Context(), ref, o)
			if err != nil {
				return classifyCatalog(err)
			}
			res.ImageInfo = info
			for _, w := range info.Warnings {
				fmt.Fprintf(c.ErrOrStderr(), "uai: warning: %s\n", w)
			}
			if asJSON {
				return catalogWriteJSON(c.OutOrStdout(), res)
			}
			return catalogWriteImageInfo(c.OutOrStdout(), res)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&arch, "arch", "", "resolve for this OCI `ARCH` (amd64, arm64, ...) instead of this machine's")
	cf.register(cmd.Flags())
	return cmd
}

func catalogWriteImageInfo(w io.Writer, r catalogResolveResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("edition", r.Edition)
	row("image", r.Ref)
	row("digest", fmt.Sprintf("%s (linux/%s)", r.Digest, r.Arch))
	if r.IndexDigest != "" {
		row("index", fmt.Sprintf("%s (%s)", r.IndexDigest, strings.Join(r.Arches, ", ")))
	}
	row("pinned", r.PinnedDigest)
	if r.TagDigest != "" && r.TagDigest != r.PinnedDigest {
		row("tag now", r.TagDigest)
	}
	row("pull", r.DigestRef)
	row("size", fmt.Sprintf("%s compressed, %d layers", catalog.FormatBytes(uint64(r.SizeBytes)), r.Layers))
	created := r.Created.Format(time.RFC3339)
	if r.Stale {
		created += " (stale)"
	}
	row("created", created)
	row("bootable", "yes ("+r.BootableLabel+")")
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		row("label", k+"="+r.Labels[k])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write image info: %w", err)
	}
	return nil
}
