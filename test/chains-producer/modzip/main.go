// Command modzip lays out one module version from a git repository as a GOPROXY=file:// directory
// (<module>/@v/<version>.{info,mod,zip}), with golang.org/x/mod/zip building the zip exactly as the module
// proxy would. The chains-producer build uses it when the proxy lists a Chains release but refuses its zip: the
// go command then checks that zip against the checksum database (go.sum's h1: line), so what is built is the
// published release byte for byte, or the build fails.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	gitDir := flag.String("git", "", "the module's git repository (bare is fine)")
	mod := flag.String("module", "", "module path, e.g. github.com/tektoncd/chains")
	version := flag.String("version", "", "a tag of that repository, e.g. v0.29.1")
	out := flag.String("out", "", "the GOPROXY directory to write into")
	flag.Parse()
	if err := run(*gitDir, *mod, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "modzip:", err)
		os.Exit(1)
	}
}

func run(gitDir, mod, version, out string) error {
	if gitDir == "" || mod == "" || version == "" || out == "" {
		return fmt.Errorf("usage: modzip --git DIR --module PATH --version vX.Y.Z --out DIR")
	}
	escaped, err := module.EscapePath(mod)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, escaped, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	goMod, err := exec.Command("git", "--git-dir", gitDir, "show", version+":go.mod").Output()
	if err != nil {
		return fmt.Errorf("git show %s:go.mod: %w", version, err)
	}
	when, err := exec.Command("git", "--git-dir", gitDir, "log", "-1", "--format=%cI", version).Output()
	if err != nil {
		return err
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": strings.TrimSpace(string(when))})
	// The tree at the tag, as `git archive` gives it (the go command reads a repository the same way), without
	// vendor/ (a module zip never holds it, and a snapshot may lack its large files), then the
	// module zip from that directory.
	tree, err := os.MkdirTemp("", "modzip-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	archive := exec.Command("sh", "-c", `git --git-dir "$1" archive "$2" -- . ":(exclude)vendor" | tar -x -C "$3"`, "sh", gitDir, version, tree)
	archive.Stderr = os.Stderr
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive %s: %w", version, err)
	}
	var zipBuf bytes.Buffer
	if err := zip.CreateFromDir(&zipBuf, module.Version{Path: mod, Version: version}, tree); err != nil {
		return fmt.Errorf("zip of %s at %s: %w", gitDir, version, err)
	}
	for name, b := range map[string][]byte{version + ".info": info, version + ".mod": goMod, version + ".zip": zipBuf.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	list := filepath.Join(dir, "list")
	prev, _ := os.ReadFile(list)
	if !bytes.Contains(prev, []byte(version+"\n")) {
		if err := os.WriteFile(list, append(prev, []byte(version+"\n")...), 0o644); err != nil {
			return err
		}
	}
	return nil
}
