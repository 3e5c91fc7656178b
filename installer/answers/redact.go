package answers

import (
	"net/url"
	"sort"
	"strings"
)

// Redacted returns a copy of a with every secret (passwords, hashes, the
// encryption passphrase, Wi-Fi keys, the webhook's URL and headers)
// replaced by RedactedValue. It is what effective answers, exports and
// receipts carry.
func (a *Answers) Redacted() *Answers {
	tree := encode(a, answersObject)
	redactTree(tree, answersObject)
	var out Answers
	decode(tree, answersObject, &out)
	return &out
}

func redactTree(tree map[string]any, o *object) {
	for _, f := range o.fields {
		v, ok := tree[f.name]
		if !ok {
			continue
		}
		switch f.kind {
		case kindString:
			if f.secret && v.(string) != "" {
				if f.name == "url" {
					tree[f.name] = RedactURL(v.(string))
				} else {
					tree[f.name] = RedactedValue
				}
			}
		case kindStringMap:
			if f.secret {
				for k := range v.(map[string]any) {
					v.(map[string]any)[k] = RedactedValue
				}
			}
		case kindObject:
			redactTree(v.(map[string]any), f.obj)
		case kindObjectList:
			for _, e := range v.([]any) {
				redactTree(e.(map[string]any), f.obj)
			}
		}
	}
}

// RedactURL keeps a URL's scheme and host, which say where events go, and
// hides the rest: tokens hide in user info, paths and queries alike.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return RedactedValue
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/" + RedactedValue
	}
	return out
}

// Secrets lists every secret value in a, longest first, for redacting
// free text (events, logs, error messages) that might quote one.
func (a *Answers) Secrets() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && s != RedactedValue && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var walk func(tree map[string]any, o *object)
	walk = func(tree map[string]any, o *object) {
		for _, f := range o.fields {
			v, ok := tree[f.name]
			if !ok {
				continue
			}
			switch f.kind {
			case kindString:
				if f.secret {
					add(v.(string))
					if f.name == "url" {
						for _, s := range urlSecrets(v.(string)) {
							// Short parts ("1", "/") are not tokens, and
							// redacting them would garble every line.
							if len(s) >= 8 {
								add(s)
							}
						}
					}
				}
			case kindStringMap:
				if f.secret {
					for _, e := range v.(map[string]any) {
						add(e.(string))
					}
				}
			case kindObject:
				walk(v.(map[string]any), f.obj)
			case kindObjectList:
				for _, e := range v.([]any) {
					walk(e.(map[string]any), f.obj)
				}
			}
		}
	}
	walk(encode(a, answersObject), answersObject)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// urlSecrets are the parts of a URL that may carry a token on their own
// (a message may quote a URL's path without its host).
func urlSecrets(s string) []string {
	u, err := url.Parse(s)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	if u.User != nil {
		out = append(out, u.User.String())
	}
	if u.Path != "" && u.Path != "/" {
		out = append(out, u.Path)
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	return out
}

// RedactText replaces every secret in s by RedactedValue.
func RedactText(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, RedactedValue)
		}
	}
	return s
}
