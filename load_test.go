package vial_test

// Load and fault tests of a vial App on the real development server, over
// loopback: a soak with a mix of routes, slowloris connections beside normal
// requests, and clients that hang up in the middle of every kind of body a
// view can return.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/testutil"
	"github.com/vial-go/vial/serving"
)

// serveDev serves app on the development server at 127.0.0.1 on a free
// port. The returned stop shuts it down gracefully and waits for Serve to
// return; it runs at the end of the test too, if the test did not call it.
func serveDev(t *testing.T, app gateway.Application, opts serving.Options) (*serving.Server, func()) {
	t.Helper()
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	s, err := serving.MakeServer("127.0.0.1", 0, app, opts)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
			defer cancel()
			assert.NoError(t, s.Shutdown(ctx), "the server shuts down gracefully")
			assert.NoError(t, testutil.Wait(t, done, "Serve to return"))
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// percentile returns the p-th percentile (0 < p ≤ 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// heapInUse returns the bytes in in-use heap spans after two collections:
// the second frees what the first only moved to the sync.Pools' victim
// caches (encoding/json's buffers, the server's pooled state).
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// residentBytes returns the process's resident set size from
// /proc/self/statm, or 0 where there is none.
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// waitGoroutines waits, for up to testutil.Timeout, until no more than
// base goroutines run, and fails the test with their stacks otherwise.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(testutil.Timeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines still run after shutdown, %d before the server started:\n%s",
				runtime.NumGoroutine(), base, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingCloser is a reader body that counts its Close calls.
type countingCloser struct {
	io.Reader
	closes *atomic.Int64
}

func (c countingCloser) Close() error { c.closes.Add(1); return nil }

// ---------------------------------------------------------------------
// The soak.

const soakReaderBody = "read from an io.Reader, closed after\n"

// soakStream is what the /stream route yields, chunk by chunk.
func soakStream() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range 10 {
			if !yield("chunk " + strconv.Itoa(i) + "\n") {
				return
			}
		}
	}
}

// A soakRoute is one request of the soak's mix and what must come back.
type soakRoute struct {
	name   string
	path   func(n int) string
	status int
	body   func(n int) string // the whole body
	has    string             // or a part of it, for error pages
}

func fixed(s string) func(int) string { return func(int) string { return s } }

func soakRoutes() []soakRoute {
	var stream strings.Builder
	for s := range soakStream() {
		stream.WriteString(s)
	}
	return []soakRoute{
		{name: "text", path: fixed("/text"), status: 200, body: fixed("hello, soak")},
		{name: "user", path: func(n int) string { return "/user/" + strconv.Itoa(n) }, status: 200,
			body: func(n int) string { return fmt.Sprintf(`{"id":%d,"name":"user %d"}`+"\n", n, n) }},
		{name: "stream", path: fixed("/stream"), status: 200, body: fixed(stream.String())},
		{name: "reader", path: fixed("/reader"), status: 200, body: fixed(soakReaderBody)},
		{name: "panic", path: fixed("/panic"), status: 500, has: "Internal Server Error"},
		{name: "missing", path: fixed("/no/such/page"), status: 404, has: "Not Found"},
	}
}

func TestSoakMixedRoutesOnTheDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 s soak")
	}
	const (
		duration = 10 * time.Second
		workers  = 8
		// heapSlack bounds the heap growth the soak may leave behind:
		// the pools and caches a warm server keeps, not one allocation
		// per request (the soak makes tens of thousands).
		heapSlack = 16 << 20
	)
	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapInUse()
	baseRSS := residentBytes()

	var teardowns, failedTeardowns, readerCloses atomic.Int64
	app := vial.New("soak")
	app.Logger = quietLogger()
	app.TeardownRequest(func(_ *vial.Request, err error) {
		teardowns.Add(1)
		if err != nil {
			failedTeardowns.Add(1)
		}
	})
	app.Get("/text", func(*vial.Request) any { return "hello, soak" })
	app.Get("/user/<int:id>", func(r *vial.Request) any {
		id := r.ViewArgs["id"].(int)
		return map[string]any{"id": id, "name": "user " + strconv.Itoa(id)}
	})
	app.Get("/stream", func(*vial.Request) any { return soakStream() })
	app.Get("/reader", func(*vial.Request) any {
		return countingCloser{strings.NewReader(soakReaderBody), &readerCloses}
	})
	app.Get("/panic", func(*vial.Request) any { panic("the soak's failing view") })
	s, stop := serveDev(t, app, serving.Options{})

	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		MaxIdleConnsPerHost: workers,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	routes := soakRoutes()

	type tally struct {
		byRoute   []int
		latencies []time.Duration
		transport int   // errors getting or reading a response
		wrong     int   // responses with the wrong status or body
		firstErr  error // the first of either
	}
	tallies := make([]tally, workers)
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			tl := &tallies[w]
			tl.byRoute = make([]int, len(routes))
			for n := w; time.Now().Before(deadline); n += workers {
				rt := routes[n%len(routes)]
				began := time.Now()
				resp, err := client.Get(s.URL() + rt.path(n))
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				tl.latencies = append(tl.latencies, time.Since(began))
				switch {
				case err != nil:
					tl.transport++
					if tl.firstErr == nil {
						tl.firstErr = fmt.Errorf("%s: %w", rt.name, err)
					}
					continue
				case resp.StatusCode != rt.status,
					rt.body != nil && string(body) != rt.body(n),
					rt.body == nil && !strings.Contains(string(body), rt.has):
					tl.wrong++
					if tl.firstErr == nil {
						tl.firstErr = fmt.Errorf("%s: status %d, body %.200q", rt.name, resp.StatusCode, body)
					}
				}
				tl.byRoute[n%len(routes)]++
			}
		})
	}
	wg.Wait()
	elapsed := duration + time.Since(deadline)
	tr.CloseIdleConnections()
	stop()

	var total, transport, wrong int
	byRoute := make([]int, len(routes))
	var latencies []time.Duration
	for _, tl := range tallies {
		transport += tl.transport
		wrong += tl.wrong
		for i, c := range tl.byRoute {
			byRoute[i] += c
			total += c
		}
		latencies = append(latencies, tl.latencies...)
		if tl.firstErr != nil {
			t.Errorf("first failure of a worker: %v", tl.firstErr)
		}
	}
	slices.Sort(latencies)
	var counts []string
	for i, rt := range routes {
		counts = append(counts, fmt.Sprintf("%s %d", rt.name, byRoute[i]))
	}
	t.Logf("%d requests in %v (%.0f/s) over %d connections: %s; latency p50 %v, p99 %v, max %v",
		total+transport, elapsed.Round(time.Millisecond), float64(total+transport)/elapsed.Seconds(),
		dials.Load(), strings.Join(counts, ", "),
		percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1))

	assert.Zero(t, transport, "transport errors")
	assert.Zero(t, wrong, "wrong responses")
	require.NotZero(t, total)
	// net/http's Transport now and then dials a spare connection, racing
	// a request against the return of a connection to its pool; a server
	// closing connections (after an error page, a stream) would need
	// thousands.
	assert.LessOrEqual(t, dials.Load(), int64(workers+total/100), "the clients keep their connections alive")
	assert.Equal(t, int64(total), teardowns.Load(), "every request is torn down")
	assert.Equal(t, int64(byRoute[4]), failedTeardowns.Load(), "the panics, and only they, tear down with an error")
	assert.Equal(t, int64(byRoute[3]), readerCloses.Load(), "every reader body is closed")

	waitGoroutines(t, baseGoroutines)
	heap, rss := heapInUse(), residentBytes()
	t.Logf("heap in use %.1f MiB → %.1f MiB; RSS %.1f MiB → %.1f MiB; goroutines back to %d",
		float64(baseHeap)/(1<<20), float64(heap)/(1<<20), float64(baseRSS)/(1<<20), float64(rss)/(1<<20),
		runtime.NumGoroutine())
	assert.LessOrEqual(t, heap, baseHeap+heapSlack, "the heap in use after the soak, collected")
}

// ---------------------------------------------------------------------
// Slowloris.

func TestSlowlorisConnectionsDoNotStarveRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("slowloris runs for several seconds")
	}
	const (
		slowConns     = 300
		headerTimeout = 2 * time.Second
		trickle       = 100 * time.Millisecond // between two bytes of a slow header
		normalWorkers = 4
	)
	app := vial.New("slowloris")
	app.Logger = quietLogger()
	app.Get("/", func(*vial.Request) any { return "ok" })
	s, _ := serveDev(t, app, serving.Options{ReadHeaderTimeout: headerTimeout})
	addr := s.Addr()

	// Each slow connection sends a request line and then a header line
	// that never ends, a byte at a time, until the server closes it. The
	// read deadline only keeps the test bounded if the server never does.
	type slowResult struct {
		open time.Duration // from dial to the server's close
		got  []byte        // what the server sent first
		err  error         // the read's error: EOF or a reset if the server closed it
	}
	results := make(chan slowResult, slowConns)
	stopTrickle := make(chan struct{})
	defer close(stopTrickle)
	var trickling sync.WaitGroup
	defer trickling.Wait()
	for range slowConns {
		dialed := time.Now() // before the server's header timer starts
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		conn.SetReadDeadline(dialed.Add(headerTimeout + 8*time.Second))
		trickling.Go(func() {
			head := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow: "
			for i := 0; ; i++ {
				b := byte('a')
				if i < len(head) {
					b = head[i]
				}
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
				select {
				case <-stopTrickle:
					return
				case <-time.After(trickle):
				}
			}
		})
		go func() {
			defer conn.Close()
			got, err := io.ReadAll(io.LimitReader(conn, 1<<10))
			if err == nil {
				err = io.EOF
			}
			results <- slowResult{time.Since(dialed), got, err}
		}()
	}

	// Normal requests, each on a new connection, run beside them until
	// the header timeout has closed them all (and a little after).
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	normalUntil := time.Now().Add(headerTimeout + time.Second)
	latencies := make([][]time.Duration, normalWorkers)
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := range normalWorkers {
		wg.Go(func() {
			for time.Now().Before(normalUntil) {
				began := time.Now()
				resp, err := client.Get(s.URL() + "/")
				if err != nil {
					failures.Add(1)
					t.Errorf("a normal request: %v", err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies[w] = append(latencies[w], time.Since(began))
				if err != nil || resp.StatusCode != 200 || string(body) != "ok" {
					failures.Add(1)
					t.Errorf("a normal request: %d %q %v", resp.StatusCode, body, err)
					return
				}
			}
		})
	}
	wg.Wait()

	var closed, stillOpen []time.Duration
	for range slowConns {
		r := testutil.Wait(t, results, "a slow connection's end")
		if errors.Is(r.err, os.ErrDeadlineExceeded) {
			stillOpen = append(stillOpen, r.open)
			continue
		}
		if len(r.got) > 0 {
			// net/http answers a timeout in the middle of the request
			// line with a 400 before it closes.
			assert.True(t, bytes.HasPrefix(r.got, []byte("HTTP/1.1 400 ")), "a slow connection got %q", r.got)
		}
		closed = append(closed, r.open)
	}
	slices.Sort(closed)
	all := slices.Concat(latencies...)
	slices.Sort(all)
	t.Logf("%d normal requests (%.0f/s), latency p50 %v, p99 %v, max %v; %d slow connections closed after %v to %v",
		len(all), float64(len(all))/(headerTimeout+time.Second).Seconds(),
		percentile(all, 0.5), percentile(all, 0.99), percentile(all, 1),
		len(closed), percentile(closed, 0).Round(time.Millisecond), percentile(closed, 1).Round(time.Millisecond))

	assert.Zero(t, failures.Load())
	require.NotEmpty(t, all)
	assert.Less(t, percentile(all, 0.99), time.Second, "p99 of the normal requests")
	assert.Less(t, percentile(all, 1), 2*time.Second, "the slowest normal request")
	require.Zero(t, len(stillOpen), "slow connections the server had not closed when the client gave up on them, %v after dialing", headerTimeout+8*time.Second)
	assert.GreaterOrEqual(t, closed[0], headerTimeout-10*time.Millisecond, "no slow connection is closed before the header timeout")
	assert.Less(t, closed[len(closed)-1], headerTimeout+3*time.Second, "every slow connection is closed soon after the header timeout")
}

// ---------------------------------------------------------------------
// Clients that hang up in the middle of a body.

// A bodyProbe records, in order, what happened to one request's body on
// the server: the producer stopped early, the body was closed, the request
// was torn down, the response was aborted.
type bodyProbe struct {
	mu     sync.Mutex
	events []string
	done   chan struct{} // closed when the server's handler has returned
}

func (p *bodyProbe) record(event string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, event)
}

func (p *bodyProbe) recorded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// endless is far more than a client reads before it hangs up: a producer
// that gets to its end was not stopped.
const endless = 1 << 30

const chunkSize = 32 << 10

// chunks yields chunkSize chunks up to endless bytes, recording whether
// the consumer stopped it or it ran out.
func (p *bodyProbe) chunks() iter.Seq[[]byte] {
	chunk := bytes.Repeat([]byte("c"), chunkSize)
	return func(yield func([]byte) bool) {
		for range endless / chunkSize {
			if !yield(chunk) {
				p.record("stopped")
				return
			}
		}
		p.record("ran out")
	}
}

func (p *bodyProbe) stringChunks() iter.Seq[string] {
	chunk := strings.Repeat("s", chunkSize)
	return func(yield func(string) bool) {
		for range endless / chunkSize {
			if !yield(chunk) {
				p.record("stopped")
				return
			}
		}
		p.record("ran out")
	}
}

var readerChunk = bytes.Repeat([]byte("r"), chunkSize)

// probeReader is an endless reader body that records its end and its Close.
type probeReader struct {
	p    *bodyProbe
	left int
}

func (r *probeReader) Read(b []byte) (int, error) {
	if r.left == 0 {
		r.p.record("ran out")
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), r.left)], readerChunk)
	r.left -= n
	return n, nil
}

func (r *probeReader) Close() error { r.p.record("closed"); return nil }

// probeBody is a gateway.Body of its own: the chunks, and a Close that is
// recorded.
type probeBody struct{ p *bodyProbe }

func (b probeBody) Chunks(yield func([]byte) bool) { b.p.chunks()(yield) }
func (b probeBody) Close() error                   { b.p.record("closed"); return nil }

// A bodyKind is one kind of value a view returns, and what must be
// recorded, in order, when the client hangs up in the middle of its body,
// before the response is aborted.
type bodyKind struct {
	name string
	view func(p *bodyProbe) any
	want []string
}

func TestClientHangingUpMidBodyClosesAndTearsDownEveryKind(t *testing.T) {
	// In-memory bodies are larger than loopback's socket buffers can hold
	// with the client's receive buffer kept small, so the server is still
	// writing when the client hangs up.
	const memSize = 16 << 20
	big := strings.Repeat("m", memSize)
	bigBytes := []byte(big)
	file := filepath.Join(t.TempDir(), "big.bin")
	require.NoError(t, os.WriteFile(file, bigBytes, 0o600))

	// openFile opens the file for a view; the teardown records whether the
	// server closed it by then.
	var files sync.Map // *bodyProbe → *os.File
	openFile := func(p *bodyProbe) *os.File {
		f, err := os.Open(file)
		if err != nil {
			panic(err)
		}
		files.Store(p, f)
		return f
	}
	t.Cleanup(func() { // only a file the server failed to close is still open
		files.Range(func(_, f any) bool { f.(*os.File).Close(); return true })
	})

	kinds := []bodyKind{
		{"string", func(*bodyProbe) any { return big }, []string{"teardown"}},
		{"bytes", func(*bodyProbe) any { return bigBytes }, []string{"teardown"}},
		{"map as JSON", func(*bodyProbe) any { return map[string]any{"data": big} }, []string{"teardown"}},
		{"iter.Seq[[]byte]", func(p *bodyProbe) any { return p.chunks() }, []string{"stopped", "teardown"}},
		{"iter.Seq[string]", func(p *bodyProbe) any { return p.stringChunks() }, []string{"stopped", "teardown"}},
		{"io.Reader", func(p *bodyProbe) any { return &probeReader{p, endless} }, []string{"closed", "teardown"}},
		{"*os.File", func(p *bodyProbe) any { return openFile(p) }, []string{"file closed", "teardown"}},
		{"*Response with SetData and CallOnClose", func(p *bodyProbe) any {
			resp := vial.NewResponse(bigBytes, "application/octet-stream")
			resp.CallOnClose(func() { p.record("on close") })
			return resp
		}, []string{"on close", "teardown"}},
		{"*Response with SetStream", func(p *bodyProbe) any {
			resp := vial.NewResponse(nil, "application/octet-stream")
			resp.SetStream(p.chunks(), func() { p.record("on close") })
			return resp
		}, []string{"stopped", "on close", "teardown"}},
		{"*Response with SetReader", func(p *bodyProbe) any {
			resp := vial.NewResponse(nil, "application/octet-stream")
			resp.SetReader(&probeReader{p, endless})
			resp.CallOnClose(func() { p.record("on close") })
			return resp
		}, []string{"closed", "on close", "teardown"}},
		{"gateway.Application with its own Body", func(p *bodyProbe) any {
			return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "application/octet-stream"}})
				return probeBody{p}
			})
		}, []string{"stopped", "closed", "teardown"}},
		{"gateway.Application with gateway.File", func(p *bodyProbe) any {
			return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "application/octet-stream"}})
				return gateway.File(openFile(p))
			})
		}, []string{"file closed", "teardown"}},
		{"http.Handler", func(p *bodyProbe) any {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("h"), chunkSize)
				for range endless / chunkSize {
					if _, err := w.Write(chunk); err != nil {
						p.record("write failed")
						return
					}
				}
				p.record("ran out")
			})
		}, []string{"write failed", "teardown"}},
	}

	for i := range kinds {
		kinds[i].want = append(kinds[i].want, "aborted")
	}

	// The probe of the request in flight: one at a time, each subtest
	// setting it before its request and waiting until the server's
	// handler has returned.
	var current atomic.Pointer[bodyProbe]
	app := vial.New("hangups")
	app.Logger = quietLogger()
	app.TeardownRequest(func(r *vial.Request, err error) {
		p := current.Load()
		if f, ok := files.Load(p); ok {
			if _, err := f.(*os.File).Stat(); errors.Is(err, os.ErrClosed) {
				p.record("file closed")
			} else {
				p.record("file open")
			}
		}
		p.record("teardown")
	})
	for i, k := range kinds {
		app.Get("/kind/"+strconv.Itoa(i), func(*vial.Request) any { return k.view(current.Load()) })
	}
	// Around the server's request handler, record how the response ended:
	// the bridge aborts one the client hung up on (http.ErrAbortHandler,
	// after closing the body), which shows the client did leave mid-body.
	aroundHandler := func(s *serving.Server) http.Handler {
		h := serving.DefaultRequestHandler(s)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := current.Load()
			defer func() {
				v := recover()
				switch v {
				case nil:
					p.record("complete")
				case http.ErrAbortHandler:
					p.record("aborted")
				default:
					p.record(fmt.Sprint("panic: ", v))
				}
				close(p.done)
				if v != nil {
					panic(v)
				}
			}()
			h.ServeHTTP(w, r)
		})
	}
	s, _ := serveDev(t, app, serving.Options{RequestHandler: aroundHandler})

	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			p := &bodyProbe{done: make(chan struct{})}
			current.Store(p)
			conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(256<<10))
			conn.SetDeadline(time.Now().Add(testutil.Timeout))
			_, err = fmt.Fprintf(conn, "GET /kind/%d HTTP/1.1\r\nHost: %s\r\n\r\n", i, s.Addr())
			require.NoError(t, err)

			// Read the head and a part of the body, then hang up.
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode)
			n, err := io.CopyN(io.Discard, resp.Body, 64<<10)
			require.NoError(t, err, "after %d bytes of the body", n)
			require.NoError(t, conn.Close())

			select {
			case <-p.done:
			case <-time.After(testutil.Timeout):
				t.Fatalf("the request still runs %v after the client hung up; recorded: %v", testutil.Timeout, p.recorded())
			}
			assert.Equal(t, k.want, p.recorded())
		})
	}
}
