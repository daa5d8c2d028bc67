//go:build tools

// Package tools makes `go mod tidy` keep github.com/ory/hydra/v2 (the main
// package that hack/images.sh builds) in this wrapper module.
package tools

import _ "github.com/ory/hydra/v2"
