package main

// The "safe" os library Argo CD exposes to Lua (util/lua/oslib_safe.go):
// only os.time and os.date, with Argo CD's semantics:
//   os.time()       -> now (Unix seconds); os.time(t) requires a table
//                      (numeric fields sec/min/hour(12)/day/month/year, local time)
//   os.date([fmt [, t]]) -> "%c" by default; a leading "!" selects UTC for "now",
//                      but a given t is always taken as local time (time.Unix);
//                      "*t" returns a table (yday = 0, isdst = false).

import (
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

var safeOsFuncs = map[string]lua.LGFunction{
	"time": safeOsTime,
	"date": safeOsDate,
}

func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOsFuncs))
	return 1
}

func safeOsLoader(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOsFuncs))
	return 1
}

func safeOsTime(l *lua.LState) int {
	if l.GetTop() == 0 {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	tbl := l.CheckTable(1)
	num := func(key string, def int) int {
		if n, ok := tbl.RawGetString(key).(lua.LNumber); ok {
			return int(n)
		}
		return def
	}
	t := time.Date(num("year", -1), time.Month(num("month", -1)), num("day", -1),
		num("hour", 12), num("min", 0), num("sec", 0), 0, time.Local)
	l.Push(lua.LNumber(t.Unix()))
	return 1
}

func safeOsDate(l *lua.LState) int {
	t := time.Now()
	cfmt := "%c"
	if l.GetTop() >= 1 {
		cfmt = l.CheckString(1)
		if strings.HasPrefix(cfmt, "!") {
			t = time.Now().UTC()
			cfmt = strings.TrimLeft(cfmt, "!")
		}
		if l.GetTop() >= 2 {
			t = time.Unix(l.CheckInt64(2), 0)
		}
		if strings.HasPrefix(cfmt, "*t") {
			ret := l.NewTable()
			ret.RawSetString("year", lua.LNumber(t.Year()))
			ret.RawSetString("month", lua.LNumber(t.Month()))
			ret.RawSetString("day", lua.LNumber(t.Day()))
			ret.RawSetString("hour", lua.LNumber(t.Hour()))
			ret.RawSetString("min", lua.LNumber(t.Minute()))
			ret.RawSetString("sec", lua.LNumber(t.Second()))
			ret.RawSetString("wday", lua.LNumber(t.Weekday()+1))
			ret.RawSetString("yday", lua.LNumber(0))
			ret.RawSetString("isdst", lua.LFalse)
			l.Push(ret)
			return 1
		}
	}
	l.Push(lua.LString(strftime(t, cfmt)))
	return 1
}

// C strftime flag -> Go layout, the subset gopher-lua and Argo CD support.
var strftimeLayouts = map[byte]string{
	'a': "mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST", 'd': "02",
	'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
	'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST",
}

// strftime: "%%" -> "%", a trailing "%" stays, "%w" -> weekday digit,
// unknown flags are copied verbatim.
func strftime(t time.Time, cfmt string) string {
	var b strings.Builder
	for i := 0; i < len(cfmt); i++ {
		c := cfmt[i]
		if c != '%' || i == len(cfmt)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		f := cfmt[i]
		switch layout, ok := strftimeLayouts[f]; {
		case f == '%':
			b.WriteByte('%')
		case ok:
			b.WriteString(t.Format(layout))
		case f == 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		default:
			b.WriteByte('%')
			b.WriteByte(f)
		}
	}
	return b.String()
}
