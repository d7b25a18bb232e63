// Command benchrounds runs a package's benchmarks in many rounds, each
// round a separate process, and prints the median of each benchmark and,
// within each round, its ratio to a baseline: the way the README's figures
// are measured on a shared machine, whose speed moves too much within a
// minute for a single run to mean much.
//
//	go run ./internal/benchrounds -pkg . -bench '^BenchmarkApp$' -base mux -rounds 24
//	go run ./internal/benchrounds -pkg ./gateway -bench 'Handler$' -base raw
//
// Sub-benchmarks are paired by their parent: with -base mux,
// BenchmarkApp/static/vial is divided by BenchmarkApp/static/mux of the
// same round.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vial-go/vial/internal/testbin"
)

func main() {
	pkg := flag.String("pkg", ".", "the package whose benchmarks to run")
	bench := flag.String("bench", ".", "the -bench pattern")
	base := flag.String("base", "", "the last element of the baseline sub-benchmarks' names (mux, raw)")
	rounds := flag.Int("rounds", 12, "how many processes to run")
	benchtime := flag.String("benchtime", "500ms", "the -benchtime of each round")
	flag.Parse()
	if err := run(os.Stdout, *pkg, *bench, *base, *rounds, *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "benchrounds:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, pkg, bench, base string, rounds int, benchtime string) error {
	bin, err := testbin.Build(pkg)
	if err != nil {
		return err
	}
	defer bin.Remove()
	var all []round
	for i := range rounds {
		cmd := bin.Command("-test.run", "^$", "-test.bench", bench, "-test.benchmem",
			"-test.count", "1", "-test.benchtime", benchtime)
		text, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("round %d: %w\n%s", i+1, err, text)
		}
		all = append(all, parseRound(string(text)))
		fmt.Fprintf(os.Stderr, "round %d of %d\n", i+1, rounds)
	}
	report(out, all, base)
	return nil
}

// A result is one benchmark line of one round.
type result struct {
	ns, bytes, allocs float64
}

// A round is the results of one process, by benchmark name (without the
// -GOMAXPROCS suffix).
type round map[string]result

// parseRound reads go test's benchmark lines:
//
//	BenchmarkApp/static/mux-2   1234   936.0 ns/op   864 B/op   8 allocs/op
func parseRound(text string) round {
	r := round{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 && isDigits(name[i+1:]) {
			name = name[:i]
		}
		var res result
		for j := 2; j+1 < len(f); j++ {
			var v float64
			if _, err := fmt.Sscan(f[j], &v); err != nil {
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
			r[name] = res
		}
	}
	return r
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// report prints, for each benchmark, the median of its rounds, and for each
// one with a baseline sibling, the median and quartiles of its per-round
// ratio to it.
func report(out io.Writer, rounds []round, base string) {
	var names []string
	for _, r := range rounds {
		for name := range r {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	for _, name := range names {
		var ns, ratios []float64
		var last result
		for _, r := range rounds {
			res, ok := r[name]
			if !ok {
				continue
			}
			ns, last = append(ns, res.ns), res
			if b, ok := r[baseline(name, base)]; ok && base != "" && b.ns > 0 {
				ratios = append(ratios, res.ns/b.ns)
			}
		}
		fmt.Fprintf(out, "%-45s %12.1f ns/op %8.0f B/op %6.0f allocs/op", name, median(ns), last.bytes, last.allocs)
		if len(ratios) > 0 && baseline(name, base) != name {
			q1, q2, q3 := quartiles(ratios)
			fmt.Fprintf(out, "   / %s: %.3f (middle half %.3f-%.3f, %d rounds)", base, q2, q1, q3, len(ratios))
		}
		fmt.Fprintln(out)
	}
}

// baseline is the name of name's sibling called base: a/b/vial → a/b/mux.
func baseline(name, base string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 || base == "" {
		return ""
	}
	return name[:i+1] + base
}

func median(v []float64) float64 {
	_, m, _ := quartiles(v)
	return m
}

// quartiles returns the first quartile, the median and the third quartile
// of v, interpolating between ranks.
func quartiles(v []float64) (q1, q2, q3 float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
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
