// Command flux-git-server serves the bare Git repositories under a directory
// over Git's smart HTTP protocol (clone, fetch and push), by running
// `git http-backend` as a CGI program. It is what hack/flux.sh builds for the
// end-to-end tests: Flux's source-controller clones from it, the tests push to
// it with the plain git CLI.
//
//	flux-git-server -root DIR [-listen 127.0.0.1:0] [-auto-create] [-addr-file FILE]
//
// A repository DIR/NAME.git is served at http://ADDR/NAME.git. Pushing needs
// no credentials (http.receivepack is forced on), and with -auto-create the
// first push to a missing NAME.git creates it (`git init --bare`, default
// branch main), so a test only has to `git push http://ADDR/NAME.git main`.
// The address actually bound (useful with port 0) is printed on stdout as
// "listening on http://ADDR" and, with -addr-file, written to FILE.
// GET /healthz answers 200 "ok".
//
// Only the standard library is used; `git` must be on PATH.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	root := flag.String("root", "", "directory holding the bare repositories (NAME.git); created if missing")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	autoCreate := flag.Bool("auto-create", true, "create a missing NAME.git on the first push to it")
	addrFile := flag.String("addr-file", "", "write the bound host:port to this file once listening")
	verbose := flag.Bool("v", false, "log every request on stderr")
	flag.Parse()
	if *root == "" {
		log.Fatal("-root is required")
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(absRoot, 0o755); err != nil {
		log.Fatal(err)
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		log.Fatal("git not found on PATH: ", err)
	}

	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  absRoot,
		Env: []string{
			"GIT_PROJECT_ROOT=" + absRoot,
			"GIT_HTTP_EXPORT_ALL=1",
			// Anonymous push: http-backend refuses receive-pack without an
			// authenticated REMOTE_USER unless http.receivepack is true.
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
			// Repositories may be owned by another user than the server
			// (e.g. created by a test through the file system).
			"GIT_CONFIG_KEY_1=safe.directory",
			"GIT_CONFIG_VALUE_1=*",
		},
		InheritEnv: []string{"PATH", "HOME"},
		Stderr:     os.Stderr,
	}
	var createMu sync.Mutex

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if *verbose {
			log.Printf("%s %s", r.Method, r.URL.RequestURI())
		}
		clean := path.Clean("/" + r.URL.Path)
		if strings.Contains(clean, "/../") {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		if *autoCreate && isReceivePack(r) {
			if repo := repoName(clean); repo != "" {
				createMu.Lock()
				err := ensureBareRepo(gitPath, filepath.Join(absRoot, filepath.FromSlash(repo)))
				createMu.Unlock()
				if err != nil {
					log.Printf("creating %s: %v", repo, err)
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
		}
		backend.ServeHTTP(w, r)
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	if *addrFile != "" {
		tmp := *addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("listening on http://%s (root %s)\n", addr, absRoot)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func isReceivePack(r *http.Request) bool {
	return r.URL.Query().Get("service") == "git-receive-pack" ||
		strings.HasSuffix(r.URL.Path, "/git-receive-pack")
}

// repoName returns the "a/b/NAME.git" part of a smart-HTTP request path.
func repoName(p string) string {
	i := strings.Index(p, ".git/")
	if i < 0 {
		return ""
	}
	return strings.TrimPrefix(p[:i+len(".git")], "/")
}

func ensureBareRepo(gitPath, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return nil
	}
	out, err := exec.Command(gitPath, "init", "--bare", "--quiet", "--initial-branch=main", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git init --bare: %v: %s", err, out)
	}
	return nil
}
