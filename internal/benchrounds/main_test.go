package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const roundA = `goos: linux
BenchmarkApp/static/mux-2         	 1000	      1000 ns/op	     864 B/op	       8 allocs/op
BenchmarkApp/static/vial-2        	 1000	       800 ns/op	     416 B/op	       2 allocs/op
BenchmarkSendNoReceivers-2        	 1000	         1.4 ns/op	       0 B/op	       0 allocs/op
PASS
`

const roundB = `BenchmarkApp/static/mux-2         	 1000	      2000 ns/op	     864 B/op	       8 allocs/op
BenchmarkApp/static/vial-2        	 1000	      1000 ns/op	     416 B/op	       2 allocs/op
`

func TestParseRound(t *testing.T) {
	r := parseRound(roundA)
	assert.Equal(t, round{
		"BenchmarkApp/static/mux":  {ns: 1000, bytes: 864, allocs: 8},
		"BenchmarkApp/static/vial": {ns: 800, bytes: 416, allocs: 2},
		"BenchmarkSendNoReceivers": {ns: 1.4},
	}, r)
}

func TestQuartiles(t *testing.T) {
	q1, q2, q3 := quartiles([]float64{4, 1, 3, 2, 5})
	assert.Equal(t, []float64{2, 3, 4}, []float64{q1, q2, q3})
	_, m, _ := quartiles([]float64{1, 2})
	assert.Equal(t, 1.5, m)
}

// Ratios are taken within a round, then their median: here 0.8 and 0.5.
func TestReportRatiosWithinRounds(t *testing.T) {
	var out bytes.Buffer
	report(&out, []round{parseRound(roundA), parseRound(roundB)}, "mux")
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 3)
	assert.Contains(t, string(lines[0]), "BenchmarkApp/static/mux")
	assert.NotContains(t, string(lines[0]), "/ mux:", "the baseline is not divided by itself")
	assert.Contains(t, string(lines[1]), "BenchmarkApp/static/vial")
	assert.Contains(t, string(lines[1]), "900.0 ns/op")
	assert.Contains(t, string(lines[1]), "/ mux: 0.650 (middle half 0.575-0.725, 2 rounds)")
	assert.NotContains(t, string(lines[2]), "/ mux:")
}
