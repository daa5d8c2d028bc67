package main

// Flux kustomize-controller .spec.healthCheckExprs, evaluated with Flux's own
// code (github.com/fluxcd/pkg/runtime/cel v0.117.0):
//   cel.NewStatusReader   one StatusEvaluator per GroupKind (version ignored;
//                         kind "" = every kind of the group; duplicates rejected)
//   StatusEvaluator.Evaluate  status.observedGeneration (int64) != metadata.generation
//                         -> InProgress; then inProgress, failed, current in that
//                         order, first true wins; none true -> InProgress
//   an evaluation error (e.g. "no such key") -> kstatus Unknown + error
//                         (cli-utils statusreaders errResourceToResourceStatus)
// kustomize-controller (internal/controller/kustomization_controller.go) puts
// this reader in polling.Options.CustomStatusReaders, ahead of cli-utils'
// default readers; a GroupKind without an entry is read by the default
// generic reader, i.e. kstatus status.Compute. This tool does the same.

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/statusreaders"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

type FluxResult struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error"`
	// "healthCheckExprs" when an entry matched the object's GroupKind,
	// "kstatus" when the default kstatus reader (status.Compute) was used.
	Reader string `json:"reader"`
}

type fluxChecker struct {
	custom   engine.StatusReader
	fallback engine.StatusReader
}

func loadFluxExprs(path string) (*fluxChecker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var checks []kustomize.CustomHealthCheck
	if err := yaml.UnmarshalStrict(data, &checks); err != nil {
		return nil, fmt.Errorf("%s: not a list of healthCheckExprs entries: %w", path, err)
	}
	ctor, err := cel.NewStatusReader(checks)
	if err != nil {
		// kustomize-controller marks the Kustomization Stalled (InvalidCELExpression).
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &fluxChecker{
		custom:   ctor(nil),
		fallback: statusreaders.NewGenericStatusReader(nil, status.Compute),
	}, nil
}

func (f *fluxChecker) evaluate(u *unstructured.Unstructured) FluxResult {
	reader, name := f.custom, "healthCheckExprs"
	if !f.custom.Supports(u.GroupVersionKind().GroupKind()) {
		reader, name = f.fallback, "kstatus"
	}
	rs, err := reader.ReadStatusForObject(context.Background(), nil, u)
	if err != nil {
		return FluxResult{Status: status.UnknownStatus.String(), Error: err.Error(), Reader: name}
	}
	res := FluxResult{Status: rs.Status.String(), Message: rs.Message, Reader: name}
	if rs.Error != nil {
		res.Error = rs.Error.Error()
	}
	return res
}
