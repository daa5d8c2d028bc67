//go:build tools

// Package tools makes `go mod tidy` keep github.com/ory/keto (the main
// package that hack/images.sh builds) in this wrapper module.
package tools

import _ "github.com/ory/keto"
