package main

// Argo CD resource health checks written in Lua, evaluated the way Argo CD
// does it. References (argoproj/argo-cd, HEAD 37ee0097, 2026-08-22):
//   util/lua/lua.go          runLuaWithResourceActionParameters (VM set-up),
//                            ExecuteHealthLua (result -> HealthStatus),
//                            decodeValue (obj -> Lua table), isValidHealthStatusCode
//   util/lua/oslib_safe.go   the "safe" os library (os.time, os.date only)
//   util/lua/health_test.go  TestLuaHealthScript (health_test.yaml format, comparison)
//   gitops-engine/pkg/health/health.go GetResourceHealth (deletion, errors -> Unknown)

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

// HealthStatus mirrors gitops-engine's health.HealthStatus (same JSON tags,
// so json.Unmarshal of the Lua result behaves identically).
type HealthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

const (
	incorrectReturnType = "expect %s output from Lua script, not %s"
	invalidHealthStatus = "Lua returned an invalid health status"
	// Argo CD: context.WithTimeout(context.Background(), 1*time.Second)
	luaTimeout = 1 * time.Second
	// gitops-engine pkg/sync/hook: HookFinalizer
	hookFinalizer = "argocd.argoproj.io/hook-finalizer"
)

var validHealthStatuses = []string{"Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing"}

// ArgoVM mirrors Argo CD's lua.VM. UseOpenLibs=false is what Argo CD uses for a
// health check configured in argocd-cm (resource.customizations.health.<group_kind>)
// unless resource.customizations.useOpenLibs.<group_kind> is true; built-in
// scripts and Argo CD's own TestLuaHealthScript run with UseOpenLibs=true.
type ArgoVM struct {
	UseOpenLibs bool
}

func (vm ArgoVM) runLua(obj map[string]any, script string) (*lua.LState, error) {
	l := lua.NewState(lua.Options{
		SkipOpenLibs: !vm.UseOpenLibs,
	})
	defer l.Close()
	for _, pair := range []struct {
		n string
		f lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		// Argo CD calls OpenSafeOs here, which does
		// l.RegisterModule(lua.TabLibName, osFuncs); RegisterModule returns the
		// already registered "table" module untouched, so that call adds
		// nothing (no global os, no table.time). Reproduced as is.
		{lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{
			Fn:      l.NewFunction(pair.f),
			NRet:    0,
			Protect: true,
		}, lua.LString(pair.n)); err != nil {
			panic(err)
		}
	}
	// require("os") -> the safe os module (time, date). The OpenPackage call
	// above replaced package.loaded (registry _LOADED) with an empty table, so
	// this holds with open libs too; only the global os is then the full library.
	l.PreloadModule(lua.OsLibName, safeOsLoader)

	ctx, cancel := context.WithTimeout(context.Background(), luaTimeout)
	defer cancel()
	l.SetContext(ctx)

	// Argo CD also sets an (empty, for health checks) actionParams global.
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", decodeValue(l, obj))

	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	// Argo CD strips the Lua stack trace from run-time errors.
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
		apiErr.StackTrace = ""
		err = apiErr
	}
	return l, err
}

// ExecuteHealthLua mirrors Argo CD's VM.ExecuteHealthLua.
func (vm ArgoVM) ExecuteHealthLua(obj map[string]any, script string) (*HealthStatus, error) {
	l, err := vm.runLua(obj, script)
	if err != nil {
		return nil, err
	}
	returnValue := l.Get(-1)
	if returnValue.Type() == lua.LTTable {
		jsonBytes, err := luajson.Encode(returnValue)
		if err != nil {
			return nil, err
		}
		healthStatus := &HealthStatus{}
		err = json.Unmarshal(jsonBytes, healthStatus)
		if err != nil {
			// Argo CD means "empty table encodes as []", but errors.As matches
			// any *json.UnmarshalTypeError (e.g. status = 1 too).
			typeError := &json.UnmarshalTypeError{Value: "array", Type: reflect.TypeFor[*HealthStatus]()}
			if errors.As(err, &typeError) {
				return &HealthStatus{}, nil
			}
			return nil, err
		}
		if !slices.Contains(validHealthStatuses, healthStatus.Status) {
			return &HealthStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
		}
		return healthStatus, nil
	} else if returnValue.Type() == lua.LTNil {
		return &HealthStatus{}, nil
	}
	return nil, fmt.Errorf(incorrectReturnType, "table", returnValue.Type().String())
}

// ResourceHealth mirrors gitops-engine health.GetResourceHealth for an object
// that has a Lua health override: objects being deleted (without the hook
// finalizer) are Progressing/"Pending deletion" without running Lua; a Lua
// error becomes Unknown with the error text as message.
func (vm ArgoVM) ResourceHealth(u *unstructured.Unstructured, script string) (*HealthStatus, error) {
	if u.GetDeletionTimestamp() != nil && !slices.Contains(u.GetFinalizers(), hookFinalizer) {
		return &HealthStatus{Status: "Progressing", Message: "Pending deletion"}, nil
	}
	hs, err := vm.ExecuteHealthLua(u.Object, script)
	if err != nil {
		return &HealthStatus{Status: "Unknown", Message: err.Error()}, err
	}
	return hs, nil
}

// decodeValue mirrors Argo CD's decodeValue: bool, float64, int, int32, int64
// -> number; string and json.Number -> string; []any -> array table (nil
// elements are dropped by LTable.Append); map[string]any -> hash table;
// nil and any other type -> nil.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch converted := value.(type) {
	case bool:
		return lua.LBool(converted)
	case float64:
		return lua.LNumber(converted)
	case string:
		return lua.LString(converted)
	case json.Number:
		return lua.LString(converted)
	case int:
		return lua.LNumber(converted)
	case int32:
		return lua.LNumber(converted)
	case int64:
		return lua.LNumber(converted)
	case []any:
		arr := l.CreateTable(len(converted), 0)
		for _, item := range converted {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(converted))
		for key, item := range converted {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	case nil:
		return lua.LNil
	}
	return lua.LNil
}
