package serving

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// protoApp answers with the scheme and protocol the application saw.
func protoApp(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.Strings(env.URLScheme, " ", env.ServerProtocol)
}

// tlsClient returns a client that trusts cert only; h2 asks for HTTP/2.
func tlsClient(t *testing.T, cert *x509.Certificate, h2 bool) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := &http.Transport{ForceAttemptHTTP2: h2, TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

var fingerprintRE = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)

func TestAdhocTLSServesHTTP2(t *testing.T) {
	s, out := startServer(t, gateway.AppFunc(protoApp), Options{AdhocTLS: true})
	s.PrintBanner()
	require.NotNil(t, s.Certificate())
	fp := s.CertFingerprint()
	assert.Regexp(t, fingerprintRE, fp)
	sum := sha256.Sum256(s.Certificate().Raw)
	assert.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), strings.ReplaceAll(fp, ":", ""))

	port := strconv.Itoa(s.Port())
	banner := out.String()
	assert.Contains(t, banner, " * Running on https://127.0.0.1:"+port+"\n")
	assert.Contains(t, banner, " * Ad-hoc certificate SHA-256 fingerprint: "+fp+"\n")
	assert.Equal(t, "https://127.0.0.1:"+port, s.URL())

	cert := s.Certificate()
	assert.Contains(t, cert.DNSNames, "localhost")
	assert.True(t, containsIP(cert.IPAddresses, "127.0.0.1"))
	assert.True(t, containsIP(cert.IPAddresses, "::1"))
	assert.Equal(t, x509.ECDSA, cert.PublicKeyAlgorithm)

	// HTTP/2, with the certificate trusted.
	c := tlsClient(t, cert, true)
	resp, body := get(t, c, s.URL()+"/h2?x=1")
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, "https HTTP/2.0", body)
	require.NotNil(t, resp.TLS)
	assert.Equal(t, "h2", resp.TLS.NegotiatedProtocol)
	assert.Equal(t, fp, sha256Fingerprint(resp.TLS.PeerCertificates[0]))
	waitFor(t, out, regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[[^\]]+\] "GET /h2\?x=1 HTTP/2\.0" 200 -$`))

	// Several HTTP/2 requests share one connection, concurrently.
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			resp, err := c.Get(s.URL() + "/")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	for range 10 {
		assert.NoError(t, <-errs)
	}

	// HTTP/1.1 over TLS too, and by the name localhost.
	c1 := tlsClient(t, cert, false)
	resp, body = get(t, c1, "https://localhost:"+port+"/")
	assert.Equal(t, 1, resp.ProtoMajor)
	assert.Equal(t, "https HTTP/1.1", body)

	// A client that does not trust the certificate is refused.
	_, err := http.Get(s.URL())
	assert.Error(t, err)
}

func containsIP(ips []net.IP, s string) bool {
	want := net.ParseIP(s)
	for _, ip := range ips {
		if ip.Equal(want) {
			return true
		}
	}
	return false
}

func TestAdhocTLSWithCurl(t *testing.T) {
	curl := needCurl(t)
	var features bytes.Buffer
	if v, err := runCmd(curl, &features, "-V"); err != nil || !strings.Contains(v, "HTTP2") {
		t.Skip("curl without HTTP/2")
	}
	s, _ := startServer(t, gateway.AppFunc(protoApp), Options{AdhocTLS: true})
	caFile := t.TempDir() + "/ca.pem"
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644))
	var stderr bytes.Buffer
	out, err := runCmd(curl, &stderr, "-sS", "--http2", "--cacert", caFile, "-w", "\n%{http_version}", s.URL()+"/")
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "https HTTP/2.0\n2", out)
}

func TestCertFilesFromMakeDevCert(t *testing.T) {
	certFile, keyFile, err := MakeDevCert(t.TempDir()+"/dev", "127.0.0.1")
	require.NoError(t, err)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	s, out := startServer(t, gateway.AppFunc(protoApp), Options{CertFile: certFile, KeyFile: keyFile})
	s.PrintBanner()
	assert.NotContains(t, out.String(), "fingerprint", "only an ad-hoc certificate's is shown")
	assert.Contains(t, out.String(), " * Running on https://127.0.0.1:")

	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	assert.Equal(t, sha256Fingerprint(leaf), s.CertFingerprint())

	resp, body := get(t, tlsClient(t, leaf, true), s.URL()+"/")
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, "https HTTP/2.0", body)
}

func TestTLSOptionErrors(t *testing.T) {
	app := gateway.AppFunc(helloApp)
	for _, opts := range []Options{
		{AdhocTLS: true, CertFile: "a.crt", KeyFile: "a.key"},
		{CertFile: "a.crt"},
		{KeyFile: "a.key"},
		{CertFile: "/nonexistent.crt", KeyFile: "/nonexistent.key"},
	} {
		opts.Output = io.Discard
		_, err := MakeServer("127.0.0.1", 0, app, opts)
		assert.Error(t, err, "%+v", opts)
	}
}

func TestAdhocCertificateCoversTheHost(t *testing.T) {
	s, err := MakeServer("0.0.0.0", 0, gateway.AppFunc(helloApp), Options{AdhocTLS: true, Output: io.Discard})
	require.NoError(t, err)
	defer s.Close()
	for _, ip := range interfaceAddrs(true, true) {
		assert.True(t, containsIP(s.Certificate().IPAddresses, ip), ip)
	}
	host, err := adhocCertificate(adhocHosts("dev.example"))
	require.NoError(t, err)
	assert.Contains(t, host.Leaf.DNSNames, "dev.example")
	assert.Equal(t, "dev.example", host.Leaf.Subject.CommonName)
	assert.NoError(t, host.Leaf.VerifyHostname("dev.example"))
}
