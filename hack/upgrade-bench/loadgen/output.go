package main

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"time"
)

// csvHeader is the first line of the output.
var csvHeader = []string{"t_ms", "op", "status", "latency_ms", "error"}

// record is one request (or one skipped slot). It holds no credentials, so
// nothing secret can reach the output.
type record struct {
	scheduled time.Time
	op        string
	status    int // 0: no HTTP answer
	latency   time.Duration
	errClass  string
}

func (r record) ok() bool { return r.status == http.StatusOK && r.errClass == "" }

type summary struct {
	requests, ok, failed int
}

// writeRecords writes one CSV line per record until records is closed. Being
// the only writer keeps the lines whole. After a write error it keeps
// draining records, so that senders never block, and returns the error.
func writeRecords(out io.Writer, records <-chan record) (summary, error) {
	var sum summary
	w := csv.NewWriter(out)
	_ = w.Write(csvHeader) // a failure shows in w.Error()
	w.Flush()
	for r := range records {
		sum.requests++
		if r.ok() {
			sum.ok++
		} else {
			sum.failed++
		}
		_ = w.Write([]string{
			strconv.FormatInt(r.scheduled.UnixMilli(), 10),
			r.op,
			strconv.Itoa(r.status),
			strconv.FormatFloat(float64(r.latency.Microseconds())/1000, 'f', 3, 64),
			r.errClass,
		})
		// Flush when caught up, so that `kubectl logs` is current.
		if len(records) == 0 {
			w.Flush()
		}
	}
	w.Flush()
	return sum, w.Error()
}
