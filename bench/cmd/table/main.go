// Command table runs the benchmark module's BenchmarkRouters in several
// passes, each a separate process running every case/contestant once
// (-count 1), and prints Markdown tables of the medians: ns/op, allocs/op
// and B/op, and vial's time divided by each contestant's, a ratio taken
// within each pass (so that the machine's drift between passes cancels)
// and then the median over the passes.
//
//	go run ./bench/cmd/table                      # 5 passes of 500ms each: about 2 minutes
//	go run ./bench/cmd/table -passes 12 -benchtime 1s
//	go run ./bench/cmd/table -bench 'Routers/param/' -passes 9
//
// Pass i runs each case's contestants from the i-th on (the test binary's
// -rotate flag), so that no contestant always runs first or last. -o keeps
// every pass's raw output, for benchstat.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vial-go/vial/internal/testbin"
)

const pkg = "github.com/vial-go/vial/bench"

func main() {
	passes := flag.Int("passes", 5, "how many passes (processes) to run")
	benchtime := flag.String("benchtime", "500ms", "the -benchtime of each benchmark in a pass")
	bench := flag.String("bench", "^BenchmarkRouters$", "the -bench pattern")
	base := flag.String("base", "vial", "the contestant whose ratio to the others is printed")
	rawOut := flag.String("o", "", "also write every pass's raw output to this file")
	flag.Parse()
	if *passes < 1 {
		fmt.Fprintln(os.Stderr, "table: -passes must be at least 1")
		os.Exit(2)
	}
	if err := run(os.Stdout, *passes, *benchtime, *bench, *base, *rawOut); err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, passes int, benchtime, bench, base, rawOut string) error {
	start := time.Now()
	bin, err := testbin.Build(pkg)
	if err != nil {
		return err
	}
	defer bin.Remove()
	load0 := loadavg()
	var all []pass
	var raw bytes.Buffer
	for i := range passes {
		args := []string{"-test.run", "^$", "-test.bench", bench, "-test.benchmem",
			"-test.count", "1", "-test.benchtime", benchtime, "-rotate", strconv.Itoa(i)}
		cmd := bin.Command(args...)
		text, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("pass %d: %w\n%s", i+1, err, text)
		}
		raw.Write(text)
		p := parsePass(string(text))
		if len(p.names) == 0 {
			return fmt.Errorf("pass %d: no benchmark matched %q", i+1, bench)
		}
		all = append(all, p)
		fmt.Fprintf(os.Stderr, "pass %d of %d done, %s\n", i+1, passes, time.Since(start).Round(time.Second))
	}
	if rawOut != "" {
		if err := os.WriteFile(rawOut, raw.Bytes(), 0o644); err != nil {
			return err
		}
	}
	cases, names := layout(all)
	fmt.Fprintf(out, "BenchmarkRouters, median of %d passes of -count 1 -benchtime %s (%s, GOMAXPROCS %d, %s, load average %s before, %s after; %s in all).\n\n",
		passes, benchtime, cpuModel(), runtime.GOMAXPROCS(0), runtime.Version(), load0, loadavg(), time.Since(start).Round(time.Second))
	ns := func(c, n string) float64 { return median(values(all, c+"/"+n, func(r result) float64 { return r.ns })) }
	writeTable(out, "ns/op", cases, names, func(c, n string) string {
		// One unit a row: µs when any of the row's cells reaches 100 µs.
		var top float64
		for _, other := range names {
			top = max(top, ns(c, other))
		}
		return formatNS(ns(c, n), top >= 100_000)
	})
	writeTable(out, "allocs/op (B/op)", cases, names, func(c, n string) string {
		key := c + "/" + n
		allocs := median(values(all, key, func(r result) float64 { return r.allocs }))
		bytes := median(values(all, key, func(r result) float64 { return r.bytes }))
		if allocs < 0 {
			return "—"
		}
		return fmt.Sprintf("%s (%s B)", comma(allocs), comma(bytes))
	})
	var others []string
	for _, n := range names {
		if n != base {
			others = append(others, n)
		}
	}
	if slices.Contains(names, base) && len(others) > 0 {
		writeTable(out, base+" ÷ contestant, ns/op (median of the passes' ratios, middle half)", cases, others, func(c, n string) string {
			r := ratios(all, c+"/"+base, c+"/"+n)
			if len(r) == 0 {
				return "—"
			}
			q1, q2, q3 := quartiles(r)
			if len(r) < 4 {
				return fmt.Sprintf("%.2f", q2)
			}
			return fmt.Sprintf("%.2f (%.2f–%.2f)", q2, q1, q3)
		})
	}
	fmt.Fprintf(out, "Reproduce: `go run ./bench/cmd/table%s`; one pass: `go test -run '^$' -bench '%s' -benchmem -count 1 -benchtime %s ./bench`.\n",
		argsText(os.Args[1:]), bench, benchtime)
	return nil
}

// A result is one benchmark line of one pass.
type result struct {
	ns, bytes, allocs float64
}

// A pass is the results of one process, by case/contestant (the name
// without its BenchmarkRouters/ prefix and -GOMAXPROCS suffix), and the
// names in the order they ran.
type pass struct {
	results map[string]result
	names   []string
}

// parsePass reads go test's benchmark lines:
//
//	BenchmarkRouters/hello/vial-2   1234   936.0 ns/op   864 B/op   8 allocs/op
func parsePass(text string) pass {
	p := pass{results: map[string]result{}}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 && isDigits(name[i+1:]) {
			name = name[:i]
		}
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		res := result{ns: -1, bytes: -1, allocs: -1}
		for j := 2; j+1 < len(f); j++ {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				continue
			}
			switch f[j+1] {
			case "ns/op":
				res.ns = v
			case "B/op":
				res.bytes = v
			case "allocs/op":
				res.allocs = v
			}
		}
		if res.ns > 0 {
			if _, dup := p.results[name]; !dup {
				p.names = append(p.names, name)
			}
			p.results[name] = res
		}
	}
	return p
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// layout returns the cases in the order they ran and the contestants in
// the order of the first pass (which -rotate 0 leaves as declared).
func layout(passes []pass) (cases, names []string) {
	for _, p := range passes {
		for _, full := range p.names {
			c, n, ok := strings.Cut(full, "/")
			if !ok {
				c, n = full, ""
			}
			if !slices.Contains(cases, c) {
				cases = append(cases, c)
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return cases, names
}

// values is one measure of one benchmark in each pass that ran it.
func values(passes []pass, name string, of func(result) float64) []float64 {
	var v []float64
	for _, p := range passes {
		if r, ok := p.results[name]; ok && of(r) >= 0 {
			v = append(v, of(r))
		}
	}
	return v
}

// ratios is a's ns/op divided by b's in each pass that ran both.
func ratios(passes []pass, a, b string) []float64 {
	var v []float64
	for _, p := range passes {
		ra, okA := p.results[a]
		rb, okB := p.results[b]
		if okA && okB {
			v = append(v, ra.ns/rb.ns)
		}
	}
	return v
}

// median is the middle of v, or -1 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	_, m, _ := quartiles(v)
	return m
}

// quartiles returns the first quartile, the median and the third quartile
// of v, interpolating between ranks.
func quartiles(v []float64) (q1, q2, q3 float64) {
	s := slices.Sorted(slices.Values(v))
	at := func(p float64) float64 {
		x := p * float64(len(s)-1)
		i := int(x)
		if i+1 >= len(s) {
			return s[len(s)-1]
		}
		return s[i] + (x-float64(i))*(s[i+1]-s[i])
	}
	return at(0.25), at(0.5), at(0.75)
}

func writeTable(out io.Writer, title string, cases, names []string, cell func(c, n string) string) {
	fmt.Fprintf(out, "| %s | %s |\n|---|%s\n", title, strings.Join(names, " | "), strings.Repeat("---:|", len(names)))
	for _, c := range cases {
		row := make([]string, len(names))
		for i, n := range names {
			row[i] = cell(c, n)
		}
		fmt.Fprintf(out, "| %s | %s |\n", c, strings.Join(row, " | "))
	}
	fmt.Fprintln(out)
}

// formatNS writes a time in ns, or in µs if micro, with thousands
// separators; "—" for no value.
func formatNS(ns float64, micro bool) string {
	switch {
	case ns < 0:
		return "—"
	case micro:
		return comma(ns/1000) + " µs"
	default:
		return comma(ns)
	}
}

// comma rounds v and writes it with thousands separators: 16397 → 16,397.
func comma(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// argsText quotes the command's arguments for a shell, with a leading
// space when there are any.
func argsText(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:") == "" {
			b.WriteString(a)
		} else {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		}
	}
	return b.String()
}
