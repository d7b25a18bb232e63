package serving

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

// accessLine matches werkzeug's access log line; the groups are the
// request line and the status.
var accessLine = regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4} \d{2}:\d{2}:\d{2}\] "([^"]*)" (\d{3}|-) -$`)

func TestAccessLogLineFormat(t *testing.T) {
	app := routes{"/created": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", nil)
		return gateway.NoBody
	}}
	s, out := startServer(t, app, Options{})
	c, _ := newClient(t)
	get(t, c, s.URL()+"/?q=1")
	get(t, c, s.URL()+"/missing/path?q=1&r=%C3%A9")
	get(t, c, s.URL()+"/created")

	waitFor(t, out, regexp.MustCompile(`"GET /created HTTP/1.1" 201 -\n`))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 3, out.String())
	want := [][2]string{
		{"GET /?q=1 HTTP/1.1", "200"},
		{"GET /missing/path?q=1&r=é HTTP/1.1", "404"},
		{"GET /created HTTP/1.1", "201"},
	}
	for i, line := range lines {
		m := accessLine.FindStringSubmatch(line)
		require.NotNil(t, m, "line %q", line)
		assert.Equal(t, want[i][0], m[1])
		assert.Equal(t, want[i][1], m[2])
	}
	// The time is local, as werkzeug's.
	ts := regexp.MustCompile(`\[([^\]]+)\]`).FindStringSubmatch(lines[0])[1]
	when, err := time.ParseInLocation("02/Jan/2006 15:04:05", ts, time.Local)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), when, time.Minute)
}

func TestAccessLogToSlog(t *testing.T) {
	logs := new(testutil.SyncBuffer)
	s, out := startServer(t, gateway.AppFunc(helloApp), Options{AccessLog: newJSONLogger(logs)})
	c, _ := newClient(t)
	get(t, c, s.URL()+"/path?q=1")
	waitFor(t, logs, regexp.MustCompile(`\n`))
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(logs.String()), &rec))
	assert.Equal(t, "INFO", rec["level"])
	assert.Regexp(t, accessLine, rec["msg"])
	assert.Contains(t, rec["msg"], `"GET /path?q=1 HTTP/1.1" 200 -`)
	assert.Equal(t, "127.0.0.1", rec["remote_addr"])
	assert.Equal(t, "GET", rec["method"])
	assert.Equal(t, "/path?q=1", rec["uri"])
	assert.Equal(t, "HTTP/1.1", rec["proto"])
	assert.Equal(t, float64(200), rec["status"])
	assert.Equal(t, float64(len("Hello, World!")), rec["bytes"])
	assert.Greater(t, rec["duration"], float64(0))
	assert.Empty(t, out.String(), "nothing on Output when AccessLog is set")
}

func TestErrorsGoToTheAccessLoggerWhenSet(t *testing.T) {
	logs := new(testutil.SyncBuffer)
	app := routes{"/panic": func(*gateway.Environ, gateway.StartResponse) gateway.Body { panic("logged as an error") }}
	s, _ := startServer(t, app, Options{AccessLog: newJSONLogger(logs)})
	c, _ := newClient(t)
	resp, _ := get(t, c, s.URL()+"/panic")
	assert.Equal(t, 500, resp.StatusCode)
	waitFor(t, logs, regexp.MustCompile(`"level":"ERROR","msg":"gateway: GET /panic: logged as an error\\ngoroutine `))
}

func TestAccessLogOfAHijackedConnection(t *testing.T) {
	s, out := startServer(t, gateway.AppFunc(helloApp), Options{
		RequestHandler: func(s *Server) http.Handler {
			return s.LogRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusEarlyHints) // informational: not the status
				conn, rw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				defer conn.Close()
				rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nraw bytes")
				rw.Flush()
			}))
		},
	})
	c, _ := newClient(t)
	resp, err := c.Get(s.URL() + "/upgrade")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 101, resp.StatusCode)
	waitFor(t, out, regexp.MustCompile(`"GET /upgrade HTTP/1.1" 101 -\n`))
}

func TestResponseRecorderFlushesAndUnwraps(t *testing.T) {
	s, _ := startServer(t, gateway.AppFunc(helloApp), Options{
		RequestHandler: func(s *Server) http.Handler {
			return s.LogRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, isFlusher := w.(http.Flusher)
				_, isReaderFrom := w.(io.ReaderFrom)
				w.Header().Set("X-Flusher", boolString(isFlusher && isReaderFrom))
				// ResponseController finds the deadline setter through
				// Unwrap.
				err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
				w.Header().Set("X-Deadline", boolString(err == nil))
				w.Write([]byte("ok"))
			}))
		},
	})
	c, _ := newClient(t)
	resp, body := get(t, c, s.URL()+"/")
	assert.Equal(t, "ok", body)
	assert.Equal(t, "true", resp.Header.Get("X-Flusher"))
	assert.Equal(t, "true", resp.Header.Get("X-Deadline"))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestAppendIRI(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/", "/"},
		{"/path?q=1", "/path?q=1"},
		{"/caf%C3%A9", "/café"},
		{"/caf%c3%a9", "/café"},
		{"/a%20b", "/a b"},
		{"/a%2Fb%3Fc%25d", "/a%2Fb%3Fc%25d"},
		{"/x?a=%26&b=%C3%A9&c=%20", "/x?a=%26&b=é&c= "},
		{"/bad%FF%FE", "/bad%FF%FE"},
		{"/half%C3", "/half%C3"},
		{"/ctl%0A%1b", `/ctl\x0a\x1b`},
		{"/del%7F", `/del\x7f`},
		{"/c1%C2%85", `/c1\x85`},
		{"/back%5Cslash", `/back\\slash`},
		{"/trunc%4", "/trunc%4"},
		{"/raw-é", "/raw-é"},
		{"*", "*"},
	} {
		assert.Equal(t, c.want, string(appendIRI(nil, c.in)), c.in)
	}
}

func TestAccessLineShape(t *testing.T) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /path?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")))
	require.NoError(t, err)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local)
	assert.Equal(t, `127.0.0.1 - - [21/Nov/2026 10:00:00] "GET /path?q=1 HTTP/1.1" 200 -`,
		string(appendAccessLine(nil, now, "127.0.0.1", r, 200)))
	assert.Equal(t, `::1 - - [21/Nov/2026 10:00:00] "GET /path?q=1 HTTP/1.1" - -`,
		string(appendAccessLine(nil, now, "::1", r, 0)))
}

func TestLineHandlerColoursByStatus(t *testing.T) {
	const prefix = `127.0.0.1 - - [21/Nov/2026 10:00:00] "`
	for _, c := range []struct {
		status int
		styled string
	}{
		{101, "\x1b[1mGET / HTTP/1.1\x1b[0m"},
		{200, "GET / HTTP/1.1"},
		{204, "GET / HTTP/1.1"},
		{304, "\x1b[36mGET / HTTP/1.1\x1b[0m"},
		{302, "\x1b[32mGET / HTTP/1.1\x1b[0m"},
		{404, "\x1b[33mGET / HTTP/1.1\x1b[0m"},
		{400, "\x1b[31m\x1b[1mGET / HTTP/1.1\x1b[0m"},
		{500, "\x1b[35m\x1b[1mGET / HTTP/1.1\x1b[0m"},
		{0, "\x1b[35m\x1b[1mGET / HTTP/1.1\x1b[0m"},
	} {
		var b bytes.Buffer
		h := NewAccessLogHandler(&b, true)
		code := "-"
		if c.status > 0 {
			code = strconv.Itoa(c.status)
		}
		rec := slog.NewRecord(time.Now(), slog.LevelInfo, prefix+`GET / HTTP/1.1" `+code+" -", 0)
		rec.AddAttrs(slog.Int("status", c.status))
		require.NoError(t, h.Handle(context.Background(), rec))
		assert.Equal(t, prefix+c.styled+`" `+code+" -\n", b.String(), "status %d", c.status)

		// Not on a terminal: the line as it is.
		b.Reset()
		require.NoError(t, NewAccessLogHandler(&b, false).Handle(context.Background(), rec))
		assert.Equal(t, prefix+`GET / HTTP/1.1" `+code+" -\n", b.String())
	}
}

func TestLineHandlerOtherRecords(t *testing.T) {
	var b bytes.Buffer
	logger := slog.New(NewAccessLogHandler(&b, true)).With("server", "dev")
	logger.Info("something happened", "n", 3)
	logger.Debug("not shown")
	assert.Equal(t, "something happened server=dev n=3\n", b.String())
}

// accessRecord serves one request through h on a test server and returns
// the one JSON record logs holds afterwards.
func accessRecord(t *testing.T, h http.Handler, logs *testutil.SyncBuffer, target string) map[string]any {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	testutil.Fetch(t, srv.Client(), "GET", srv.URL+target, nil)
	srv.Close() // the handler has returned: the record is out
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(logs.String()), &rec), "one record: %s", logs)
	return rec
}

func TestAccessLogMiddlewareRecord(t *testing.T) {
	logs := new(testutil.SyncBuffer)
	h := AccessLog(newJSONLogger(logs))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("made it"))
	}))
	rec := accessRecord(t, h, logs, "/things?q=%C3%A9")
	assert.Equal(t, "INFO", rec["level"])
	assert.Regexp(t, accessLine, rec["msg"])
	assert.Contains(t, rec["msg"], `"GET /things?q=é HTTP/1.1" 201 -`)
	assert.Equal(t, "127.0.0.1", rec["remote_addr"])
	assert.Equal(t, "GET", rec["method"])
	assert.Equal(t, "/things?q=%C3%A9", rec["uri"])
	assert.Equal(t, "HTTP/1.1", rec["proto"])
	assert.Equal(t, float64(201), rec["status"])
	assert.Equal(t, float64(len("made it")), rec["bytes"])
	assert.Greater(t, rec["duration"], float64(0))
}

// The middleware and the dev server make one record: the same keys, in the
// same order, and the same message for the same request.
func TestAccessLogMiddlewareIsTheDevServersRecord(t *testing.T) {
	devLogs := new(testutil.SyncBuffer)
	s, _ := startServer(t, gateway.AppFunc(helloApp), Options{AccessLog: newJSONLogger(devLogs)})
	c, _ := newClient(t)
	get(t, c, s.URL()+"/path?q=1")
	waitFor(t, devLogs, regexp.MustCompile(`\n`))

	logs := new(testutil.SyncBuffer)
	h := AccessLog(newJSONLogger(logs))(gateway.Handler(gateway.AppFunc(helloApp)))
	accessRecord(t, h, logs, "/path?q=1")

	keys := func(line string) []string {
		return regexp.MustCompile(`"([a-z_]+)":`).FindAllString(line, -1)
	}
	assert.Equal(t, keys(devLogs.String()), keys(logs.String()))
	msg := regexp.MustCompile(`"msg":"[^\]]*\] ([^,]*)`)
	assert.Equal(t, msg.FindStringSubmatch(devLogs.String())[1], msg.FindStringSubmatch(logs.String())[1])
}

func TestAccessLogNilLoggerFollowsSlogDefault(t *testing.T) {
	h := AccessLog(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	logs := new(testutil.SyncBuffer)
	prev := slog.Default()
	slog.SetDefault(newJSONLogger(logs)) // after AccessLog: it is read per request
	defer slog.SetDefault(prev)
	rec := accessRecord(t, h, logs, "/")
	assert.Equal(t, float64(200), rec["status"])
	assert.Equal(t, float64(2), rec["bytes"])
}

// A handler that returns without writing gets net/http's implicit 200,
// and the record says so, as werkzeug's would.
func TestAccessLogOfAnEmptyResponseIs200(t *testing.T) {
	logs := new(testutil.SyncBuffer)
	h := AccessLog(newJSONLogger(logs))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := accessRecord(t, h, logs, "/empty")
	assert.Equal(t, float64(200), rec["status"])
	assert.Equal(t, float64(0), rec["bytes"])
	assert.Contains(t, rec["msg"], `"GET /empty HTTP/1.1" 200 -`)
}

func TestAccessLogMiddlewareLogsAPanicAndPassesItOn(t *testing.T) {
	logs := new(testutil.SyncBuffer)
	recovered := make(chan any, 1)
	h := AccessLog(newJSONLogger(logs))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("boom")
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { recovered <- recover() }()
		h.ServeHTTP(w, r)
	})
	accessRecord(t, outer, logs, "/p")
	assert.Equal(t, "boom", testutil.Wait(t, recovered, "the panic"))
	assert.Contains(t, logs.String(), `"status":202`)
}

// The dev server's access record, on any net/http server: here
// net/http/httptest's, for an App it would be app.Use(serving.AccessLog(nil)).
func ExampleAccessLog() {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := AccessLog(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	}))
	srv := httptest.NewServer(h)
	resp, err := http.Get(srv.URL + "/greet?name=ann")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	srv.Close() // the handler has returned: the record is out

	var rec struct {
		Msg                string
		Method, URI, Proto string
		Status             int
		Bytes              int64
	}
	json.Unmarshal(logs.Bytes(), &rec)
	fmt.Println(rec.Msg[strings.Index(rec.Msg, "]")+2:])
	fmt.Println(rec.Method, rec.URI, rec.Proto, rec.Status, rec.Bytes)
	// Output:
	// "GET /greet?name=ann HTTP/1.1" 200 -
	// GET /greet?name=ann HTTP/1.1 200 5
}
