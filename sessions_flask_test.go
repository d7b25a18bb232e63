package vial_test

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/internal/testutil"
)

// flaskSessionApp is a Flask app sharing the session with vial's: /set
// sets a session of every type Flask's serializer tags, /describe reports
// the session it read with the Python types of its values, /flashes the
// flashed messages, /same-bytes whether Flask signs the session it read
// into the very cookie it was sent (same data, same timestamp).
const flaskSessionApp = `
import sys, uuid, datetime
import flask, itsdangerous.timed
from flask import Flask, session, flash, request, get_flashed_messages
from markupsafe import Markup

app = Flask("interop")
app.config["SECRET_KEY"] = "shared-secret"
app.config["SECRET_KEY_FALLBACKS"] = ["old-secret"]  # Flask 3.1; ignored by older ones

@app.get("/version")
def version():
    return {"version": flask.__version__ if hasattr(flask, "__version__") else __import__("importlib.metadata").metadata.version("flask")}

@app.get("/set")
def set_():
    session["int"] = 42
    session["name"] = "Zo\u00eb \U0001F600"
    session["list"] = [1, "two", 3.5]
    session["tuple"] = ("a", 1)
    session["bytes"] = b"\x00\xffbin"
    session["markup"] = Markup("<b>bold</b>")
    session["uuid"] = uuid.UUID("12345678-1234-5678-1234-567812345678")
    session["when"] = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    session["nested"] = {"a": {"b": [True, None]}, " t": "tag-like key"}
    if request.args.get("large"):
        session["large"] = "abc" * 1000
    flash("From Flask", "info")
    return "set"

def describe(v):
    if isinstance(v, tuple): return {"tuple": [describe(x) for x in v]}
    if isinstance(v, bytes): return {"bytes": v.hex()}
    if isinstance(v, Markup): return {"markup": str(v)}
    if isinstance(v, uuid.UUID): return {"uuid": str(v)}
    if isinstance(v, datetime.datetime): return {"datetime": v.isoformat()}
    if isinstance(v, dict): return {"dict": {k: describe(x) for k, x in v.items()}}
    if isinstance(v, list): return [describe(x) for x in v]
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": v}
    if isinstance(v, float): return {"float": v}
    return v

@app.get("/describe")
def describe_():
    return {k: describe(v) for k, v in session.items() if k != "_flashes"}

@app.get("/flashes")
def flashes():
    return {"flashes": get_flashed_messages(with_categories=True)}

@app.get("/same-bytes")
def same_bytes():
    val = request.cookies["session"]
    s = app.session_interface.get_signing_serializer(app)
    data, ts = s.loads(val, return_timestamp=True)
    signer = itsdangerous.timed.TimestampSigner
    orig = signer.get_timestamp
    signer.get_timestamp = lambda self: int(ts.timestamp())
    try:
        again = s.dumps(data)
    finally:
        signer.get_timestamp = orig
    return {"same": again == val, "flask": again, "vial": val}

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[sys.argv.index("--port") + 1]))
`

// startFlask runs flaskSessionApp on a loopback port, or skips the test
// when python3 or Flask is missing; under CI it fails instead.
func startFlask(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("python3", "-c", "import flask").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 with Flask is needed (Debian's python3-flask): %v %s", err, out)
		}
		t.Skipf("python3 with Flask is not installed: %v %s", err, out)
	}
	script := filepath.Join(t.TempDir(), "app.py")
	require.NoError(t, os.WriteFile(script, []byte(flaskSessionApp), 0o644))
	p := testutil.Start(t, "python3", []string{"PYTHONDONTWRITEBYTECODE=1"}, script)
	return "http://" + p.Addr
}

// flaskGet asks the Flask app for path with the session cookie (none for
// ""), and returns the body and the session cookie Flask set ("" for none).
func flaskGet(t *testing.T, base, path, cookie string) (string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	require.NoError(t, err)
	if cookie != "" {
		req.Header.Set("Cookie", "session="+cookie)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "%s: %s", path, body)
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			return string(body), c.Value
		}
	}
	return string(body), ""
}

// vialSessionApp is the vial side: /set sets what Flask's /set sets, /read
// hands the session to got.
func vialSessionApp(got *map[string]any, flashes *[]vial.FlashMessage) *vial.App {
	app := vial.New("interop")
	app.Config["SECRET_KEY"] = "shared-secret"
	app.Get("/set", func(r *vial.Request) any {
		for k, v := range flaskValues() {
			r.Session().Set(k, v)
		}
		if r.Args().Get("large") != "" {
			r.Session().Set("large", strings.Repeat("abc", 1000))
		}
		vial.Flash(r, "From vial", "info")
		return "set"
	})
	app.Get("/small", func(r *vial.Request) any {
		r.Session().Set("user_id", 42)
		r.Session().Set("name", "Zoë")
		r.Session().Set("t", vial.Tuple{1, 2.5, "x"})
		return "set"
	})
	app.Get("/read", func(r *vial.Request) any {
		*got = r.Session().Values()
		*flashes = r.FlashedMessages()
		return "read"
	})
	return app
}

// flaskValues is what the Flask app's /set stores, as vial reads it.
func flaskValues() map[string]any {
	u, _ := vial.ParseUUID("12345678-1234-5678-1234-567812345678")
	return map[string]any{
		"int":    int64(42),
		"name":   "Zoë \U0001F600",
		"list":   []any{int64(1), "two", 3.5},
		"tuple":  vial.Tuple{"a", int64(1)},
		"bytes":  []byte("\x00\xffbin"),
		"markup": template.HTML("<b>bold</b>"),
		"uuid":   u,
		"when":   time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"nested": map[string]any{"a": map[string]any{"b": []any{true, nil}}, " t": "tag-like key"},
	}
}

func vialCookie(t *testing.T, resp *vial.TestResponse) string {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			return c.Value
		}
	}
	t.Fatalf("vial set no session cookie: %v", resp.Header)
	return ""
}

// TestSessionInteropWithFlask runs a real Flask app beside a vial app
// with the same SECRET_KEY and passes sessions between them.
func TestSessionInteropWithFlask(t *testing.T) {
	flask := startFlask(t)
	t.Run("both ways", func(t *testing.T) { interopBothWays(t, flask) })
	t.Run("compressed and tampered", func(t *testing.T) { interopCompressedAndTampered(t, flask) })
	t.Run("key rotation", func(t *testing.T) { interopKeyRotation(t, flask) })
}

func interopBothWays(t *testing.T, flask string) {
	var got map[string]any
	var flashes []vial.FlashMessage
	app := vialSessionApp(&got, &flashes)

	// Flask writes, vial reads: every tagged type, and the flash.
	_, flaskCookie := flaskGet(t, flask, "/set", "")
	require.NotEmpty(t, flaskCookie)
	app.TestClient().Get("/read", vial.WithCookie("session", flaskCookie))
	want := flaskValues()
	want["_flashes"] = []any{vial.Tuple{"info", "From Flask"}}
	assert.Equal(t, want, got)
	assert.Equal(t, []vial.FlashMessage{{Category: "info", Message: "From Flask"}}, flashes)

	// vial writes, Flask reads: the same Python values as its own session.
	flaskOwn, _ := flaskGet(t, flask, "/describe", flaskCookie)
	vc := vialCookie(t, app.TestClient().Get("/set"))
	fromVial, _ := flaskGet(t, flask, "/describe", vc)
	assert.JSONEq(t, flaskOwn, fromVial)
	assert.Contains(t, fromVial, `"uuid":{"uuid":"12345678-1234-5678-1234-567812345678"}`)
	assert.Contains(t, fromVial, `"tuple":{"tuple":["a",{"int":1}]}`)
	body, _ := flaskGet(t, flask, "/flashes", vc)
	assert.JSONEq(t, `{"flashes": [["info", "From vial"]]}`, body)

	// The bytes: Flask signs the session it read from vial into vial's cookie.
	small := vialCookie(t, app.TestClient().Get("/small"))
	require.False(t, strings.HasPrefix(small, "."), "not compressed, so comparable byte for byte")
	body, _ = flaskGet(t, flask, "/same-bytes", small)
	var same struct {
		Same        bool
		Flask, Vial string
	}
	require.NoError(t, json.Unmarshal([]byte(body), &same))
	assert.True(t, same.Same, "Flask %s\nvial  %s", same.Flask, same.Vial)
}

func interopCompressedAndTampered(t *testing.T, flask string) {
	var got map[string]any
	var flashes []vial.FlashMessage
	app := vialSessionApp(&got, &flashes)

	_, large := flaskGet(t, flask, "/set?large=1", "")
	require.True(t, strings.HasPrefix(large, "."), "Flask compressed it: %s", large)
	app.TestClient().Get("/read", vial.WithCookie("session", large))
	assert.Equal(t, strings.Repeat("abc", 1000), got["large"])

	vc := vialCookie(t, app.TestClient().Get("/set?large=1"))
	require.True(t, strings.HasPrefix(vc, "."), "vial compressed it: %s", vc)
	body, _ := flaskGet(t, flask, "/describe", vc)
	assert.Contains(t, body, strings.Repeat("abc", 1000))

	// Tampered either way: an empty session on the other side.
	tamper := func(c string) string {
		return c[:len(c)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(c, "AA")]
	}
	app.TestClient().Get("/read", vial.WithCookie("session", tamper(large)))
	assert.Empty(t, got)
	body, _ = flaskGet(t, flask, "/describe", tamper(vc))
	assert.JSONEq(t, `{}`, body)
}

// Flask 3.1's SECRET_KEY_FALLBACKS: Flask accepts what vial signed with
// the old key, and vial, with the same fallbacks, what Flask signed.
func interopKeyRotation(t *testing.T, flask string) {
	body, _ := flaskGet(t, flask, "/version", "")
	var v struct{ Version string }
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	var major, minor int
	fmt.Sscanf(v.Version, "%d.%d", &major, &minor)
	if major < 3 || major == 3 && minor < 1 {
		t.Skipf("Flask %s has no SECRET_KEY_FALLBACKS (3.1)", v.Version) // Debian bookworm's 2.2; the unit tests cover rotation
	}
	var got map[string]any
	var flashes []vial.FlashMessage
	app := vialSessionApp(&got, &flashes)
	app.Config["SECRET_KEY"] = "old-secret"
	oldCookie := vialCookie(t, app.TestClient().Get("/small"))
	body, _ = flaskGet(t, flask, "/describe", oldCookie)
	assert.Contains(t, body, `"user_id"`, "Flask accepts vial's cookie signed with its fallback key")

	_, flaskCookie := flaskGet(t, flask, "/set", "")
	app.Config["SECRET_KEY"] = "new-secret"
	app.Config["SECRET_KEY_FALLBACKS"] = []string{"shared-secret"}
	app.TestClient().Get("/read", vial.WithCookie("session", flaskCookie))
	assert.Equal(t, int64(42), got["int"], "vial accepts Flask's cookie with its key as a fallback")
}
