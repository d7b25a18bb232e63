package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkRouters/hello/vial-2         	  252651	      1062 ns/op	      40 B/op	       2 allocs/op
BenchmarkRouters/hello/gin-2          	  607772	       552.1 ns/op	      64 B/op	       2 allocs/op
BenchmarkRouters/github-all/vial-2    	     510	    481139 ns/op	   12778 B/op	     696 allocs/op
PASS
`

func TestParsePass(t *testing.T) {
	p := parsePass(sample)
	if got := strings.Join(p.names, ","); got != "hello/vial,hello/gin,github-all/vial" {
		t.Fatalf("names %s", got)
	}
	if r := p.results["hello/gin"]; r != (result{552.1, 64, 2}) {
		t.Errorf("hello/gin: %+v", r)
	}
	cases, names := layout([]pass{p})
	if strings.Join(cases, ",") != "hello,github-all" || strings.Join(names, ",") != "vial,gin" {
		t.Errorf("layout: %v %v", cases, names)
	}
}

func TestStatistics(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v", m)
	}
	if m := median(nil); m != -1 {
		t.Errorf("median of none %v", m)
	}
	a := pass{results: map[string]result{"x/vial": {ns: 300}, "x/gin": {ns: 100}}}
	b := pass{results: map[string]result{"x/vial": {ns: 200}, "x/gin": {ns: 100}}}
	if r := ratios([]pass{a, b}, "x/vial", "x/gin"); len(r) != 2 || r[0] != 3 || r[1] != 2 {
		t.Errorf("ratios %v", r)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 592.4: "592", 16397: "16,397", 1234567: "1,234,567"} {
		if got := comma(v); got != want {
			t.Errorf("comma(%v) = %s, want %s", v, got, want)
		}
	}
	if got := formatNS(95_314, true); got != "95 µs" {
		t.Errorf("formatNS: %s", got)
	}
	if got := formatNS(95_314, false); got != "95,314" {
		t.Errorf("formatNS: %s", got)
	}
	if got := argsText([]string{"-passes", "3", "-bench", "Routers/param/$"}); got != " -passes 3 -bench 'Routers/param/$'" {
		t.Errorf("argsText: %s", got)
	}
}
