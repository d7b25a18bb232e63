package serving

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// checkTLSOptions reports contradictory or incomplete TLS options.
func checkTLSOptions(opts Options) error {
	switch {
	case opts.AdhocTLS && (opts.CertFile != "" || opts.KeyFile != ""):
		return errors.New("serving: AdhocTLS and CertFile/KeyFile are exclusive")
	case opts.CertFile != "" && opts.KeyFile == "", opts.CertFile == "" && opts.KeyFile != "":
		return errors.New("serving: CertFile and KeyFile go together")
	}
	return nil
}

// makeTLSConfig returns the server's TLS configuration, or nil for plain
// HTTP, and records the certificate and its fingerprint.
func (s *Server) makeTLSConfig(host string) (*tls.Config, error) {
	if err := checkTLSOptions(s.opts); err != nil {
		return nil, err
	}
	var cert tls.Certificate
	switch {
	case s.opts.AdhocTLS:
		var err error
		cert, err = adhocCertificate(adhocHosts(host))
		if err != nil {
			return nil, fmt.Errorf("serving: ad-hoc certificate: %w", err)
		}
	case s.opts.CertFile != "":
		var err error
		cert, err = tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
	default:
		return nil, nil
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
		cert.Leaf = leaf
	}
	s.cert = cert.Leaf
	s.fingerprint = sha256Fingerprint(cert.Leaf)
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// HTTP/2 first: net/http serves it when the client agrees.
		NextProtos: []string{"h2", "http/1.1"},
	}, nil
}

// Certificate returns the certificate the server presents, or nil when it
// serves plain HTTP. A client can trust it with an x509.CertPool holding it.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// CertFingerprint returns the SHA-256 fingerprint of [Server.Certificate]
// in the form browsers and openssl show (upper-case hex pairs joined by
// colons), or "" for plain HTTP.
func (s *Server) CertFingerprint() string { return s.fingerprint }

// sha256Fingerprint returns the SHA-256 fingerprint of cert's DER encoding
// as [Server.CertFingerprint] shows it.
func sha256Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var sb strings.Builder
	sb.Grow(len(sum) * 3)
	for i, b := range sum {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(upperHex[b>>4])
		sb.WriteByte(upperHex[b&15])
	}
	return sb.String()
}

// adhocHosts returns the names and addresses an ad-hoc certificate for a
// server bound to host covers: localhost and the loopback addresses, the
// host, and the interface addresses when it is bound to every address.
func adhocHosts(host string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if isWildcard(host) {
		hosts = append(hosts, interfaceAddrs(true, true)...)
	} else {
		hosts = append(hosts, trimBrackets(host))
	}
	return hosts
}

// adhocCertificate makes a self-signed ECDSA P-256 certificate for hosts,
// valid for a year from an hour ago (a little clock skew).
func adhocCertificate(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	cn := "localhost"
	if len(hosts) > 3 && hosts[3] != "" {
		cn = hosts[3] // the host, or the first interface address
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"vial development server (ad-hoc certificate)"},
			CommonName:   cn,
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// MakeDevCert writes a self-signed certificate for host (and localhost and
// the loopback addresses) to basePath+".crt" and its key to
// basePath+".key", PEM-encoded, and returns the two paths, as werkzeug's
// make_ssl_devcert does: made once and kept, it spares the browser a new
// certificate on every start, which AdhocTLS cannot. Serve it with
// [Options.CertFile] and [Options.KeyFile]. The key file is readable by its
// owner only.
func MakeDevCert(basePath, host string) (certFile, keyFile string, err error) {
	cert, err := adhocCertificate(adhocHosts(host))
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = basePath+".crt", basePath+".key"
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
