// Command healthcheck evaluates GitOps health checks for custom resources the
// way Argo CD (Lua resource health checks) and Flux kustomize-controller
// (.spec.healthCheckExprs, CEL) do. See argo.go and flux.go for the details.
//
//	healthcheck argo-test [--open-libs] <dir>
//	healthcheck eval [--lua health.lua] [--open-libs] [--flux exprs.yaml] <object.yaml|json>...
//
// Output: one JSON object per line on stdout.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const usage = `usage:
  healthcheck argo-test [--open-libs] <dir>
      Runs <dir>/health_test.yaml against <dir>/health.lua like Argo CD's
      TestLuaHealthScript; one JSON line per test; exit 1 if any test fails.
  healthcheck eval [--lua <health.lua>] [--open-libs] [--flux <exprs.yaml>] <object.yaml|json>...
      One JSON line per object with the Argo CD and/or Flux result.
  --open-libs  open all Lua standard libraries (Argo CD built-in scripts,
               argocd-cm resource.customizations.useOpenLibs.<group_kind>: true,
               and Argo CD's own test); default: off, like an argocd-cm health
               customization without useOpenLibs.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "argo-test":
		err = cmdArgoTest(os.Args[2:])
	case "eval":
		err = cmdEval(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

type testsFailed struct{ failed, total int }

func (t testsFailed) Error() string { return fmt.Sprintf("%d of %d tests failed", t.failed, t.total) }

var stdout = func() *json.Encoder {
	e := json.NewEncoder(os.Stdout)
	e.SetEscapeHTML(false)
	return e
}()

// statusOut is HealthStatus without omitempty, for the report.
type statusOut struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func out(hs *HealthStatus) *statusOut {
	if hs == nil {
		return nil
	}
	return &statusOut{Status: hs.Status, Message: hs.Message}
}

// health_test.yaml, as util/lua/health_test.go reads it (sigs.k8s.io/yaml,
// i.e. encoding/json field matching).
type argoTestFile struct {
	Tests []struct {
		InputPath    string       `json:"inputPath"`
		HealthStatus HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

func cmdArgoTest(args []string) error {
	fs := flag.NewFlagSet("argo-test", flag.ContinueOnError)
	openLibs := fs.Bool("open-libs", false, "open all Lua standard libraries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("argo-test takes exactly one directory")
	}
	dir := fs.Arg(0)
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return err
	}
	var tf argoTestFile
	if err := yaml.Unmarshal(data, &tf); err != nil {
		return fmt.Errorf("health_test.yaml: %w", err)
	}
	if len(tf.Tests) == 0 {
		return fmt.Errorf("%s: no tests", filepath.Join(dir, "health_test.yaml"))
	}
	vm := ArgoVM{UseOpenLibs: *openLibs}
	failed := 0
	for _, t := range tf.Tests {
		type line struct {
			Input string     `json:"input"`
			Want  *statusOut `json:"want"`
			Got   *statusOut `json:"got"`
			OK    bool       `json:"ok"`
			Error string     `json:"error,omitempty"`
		}
		want := t.HealthStatus
		l := line{Input: t.InputPath, Want: out(&want), Got: &statusOut{}}
		// Like getObj in health_test.go: sigs.k8s.io/yaml into map[string]any
		// (numbers become float64).
		obj := map[string]any{}
		raw, err := os.ReadFile(filepath.Join(dir, t.InputPath))
		if err == nil {
			err = yaml.Unmarshal(raw, &obj)
		}
		if err == nil {
			var got *HealthStatus
			got, err = vm.ExecuteHealthLua(obj, string(script))
			if err == nil {
				l.Got = out(got)
				// assert.Equal(t, &test.HealthStatus, result): status and message exactly.
				l.OK = *got == want
			}
		}
		if err != nil {
			l.Error = err.Error()
		}
		if !l.OK {
			failed++
		}
		if err := stdout.Encode(l); err != nil {
			return err
		}
	}
	if failed > 0 {
		return testsFailed{failed, len(tf.Tests)}
	}
	return nil
}

func cmdEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	luaPath := fs.String("lua", "", "Argo CD health.lua")
	fluxPath := fs.String("flux", "", "YAML list of Flux healthCheckExprs entries")
	openLibs := fs.Bool("open-libs", false, "open all Lua standard libraries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *luaPath == "" && *fluxPath == "" {
		return fmt.Errorf("eval needs --lua and/or --flux")
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("eval needs at least one object file")
	}
	var script string
	if *luaPath != "" {
		b, err := os.ReadFile(*luaPath)
		if err != nil {
			return err
		}
		script = string(b)
	}
	var flux *fluxChecker
	if *fluxPath != "" {
		var err error
		if flux, err = loadFluxExprs(*fluxPath); err != nil {
			return err
		}
	}
	vm := ArgoVM{UseOpenLibs: *openLibs}
	for _, file := range fs.Args() {
		u, err := readObject(file)
		if err != nil {
			return err
		}
		type line struct {
			File string      `json:"file"`
			Argo *statusOut  `json:"argo,omitempty"`
			Flux *FluxResult `json:"flux,omitempty"`
		}
		l := line{File: file}
		if *luaPath != "" {
			// Each evaluation gets its own deep copy, as the two tools never
			// share an object.
			hs, _ := vm.ResourceHealth(u.DeepCopy(), script)
			l.Argo = out(hs)
		}
		if flux != nil {
			r := flux.evaluate(u.DeepCopy())
			l.Flux = &r
		}
		if err := stdout.Encode(l); err != nil {
			return err
		}
	}
	return nil
}

// readObject decodes a YAML or JSON object the way it looks when read from the
// API server: YAML -> JSON, then the unstructured JSON decoder (integers become
// int64, which Flux's observedGeneration check requires).
func readObject(path string) (*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return nil, fmt.Errorf("%s: empty document", path)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}
