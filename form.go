package vial

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// This file parses the request's form, urlencoded or multipart, within
// werkzeug's bounds: MAX_FORM_MEMORY_SIZE bytes for a urlencoded body and
// for each field of a multipart one that is not a file, MAX_FORM_PARTS
// fields or parts. Past either the answer is a 413, and no more of the body
// is read, so a hostile form costs no more memory than the limits allow.

// Werkzeug's defaults for the form limits.
const (
	defaultMaxFormMemorySize = 500_000
	defaultMaxFormParts      = 1_000
)

// fileMemory is how much of the files of a multipart form is kept in
// memory; the rest goes to temporary files, as werkzeug spools them.
const fileMemory = 500 << 10

// maxQueryFields bounds the fields of a query string, as net/url bounds
// them: the request line is already bounded by the server, but a form body
// bounds itself with MAX_FORM_PARTS.
const maxQueryFields = 10_000

// formLimits are the form bounds of the App's config; -1 means none.
type formLimits struct{ memory, parts int64 }

func (a *App) formLimits() formLimits {
	return formLimits{a.configLimit("MAX_FORM_MEMORY_SIZE"), a.configLimit("MAX_FORM_PARTS")}
}

// ParseForm parses the body as a form (application/x-www-form-urlencoded or
// multipart/form-data), once. Its error is a 400 *HTTPError saying what is
// wrong, or a 413 past MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE or
// MAX_FORM_PARTS. A body of another type is not an error: the form is
// empty.
func (r *Request) ParseForm() error {
	p := r.parsed()
	if p.formDone {
		return p.formErr
	}
	p.formDone = true
	p.form = url.Values{}
	switch r.Mimetype() {
	case "application/x-www-form-urlencoded":
		p.formErr = r.parseURLEncoded(p)
	case "multipart/form-data":
		p.formErr = r.parseMultipart(p)
	}
	return p.formErr
}

// parseURLEncoded reads a urlencoded body of at most MAX_FORM_MEMORY_SIZE
// bytes, which later calls of ReadData return too, and parses it.
func (r *Request) parseURLEncoded(p *lazyState) error {
	lim := r.app.formLimits()
	data, err := r.readData(lim.memory)
	if err != nil {
		return err
	}
	form, err := parseQuery(string(data), lim.parts)
	if errors.Is(err, errTooManyFields) {
		return tooManyParts(lim.parts)
	}
	if err != nil {
		return badForm("The form data is not valid: "+err.Error(), err)
	}
	p.form = form
	return nil
}

// parseMultipart reads a multipart form part by part. The fields are kept
// in memory, each at most MAX_FORM_MEMORY_SIZE bytes; the files go to a
// spool that the standard library's form reader then makes FileHeaders of.
func (r *Request) parseMultipart(p *lazyState) error {
	_, params, err := mime.ParseMediaType(r.Environ.ContentType)
	switch {
	case err != nil:
		return badForm("The multipart form's Content-Type cannot be parsed: "+err.Error(), err)
	case params["boundary"] == "":
		return badForm("The multipart form has no boundary.", nil)
	}
	lim := r.app.formLimits()
	mr := multipart.NewReader(r.Stream(), params["boundary"])
	values := map[string][]string{}
	var files filePartSpool
	defer files.remove()
	for parts := int64(0); ; parts++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return multipartError(err)
		}
		if lim.parts >= 0 && parts >= lim.parts {
			return tooManyParts(lim.parts)
		}
		if err := readPart(part, values, &files, lim.memory); err != nil {
			return err
		}
	}
	form, err := files.form()
	if err != nil {
		return multipartError(err)
	}
	form.Value = values
	p.multipart, p.form, p.files = form, url.Values(values), form.File
	return nil
}

// readPart keeps a field's value in values, or a file in files.
func readPart(part *multipart.Part, values map[string][]string, files *filePartSpool, max int64) error {
	defer part.Close()
	name := part.FormName()
	switch {
	case name == "":
		return nil
	case part.FileName() != "":
		return files.add(part)
	}
	limit := int64(-1)
	if max >= 0 {
		limit = max + 1
	}
	var b strings.Builder
	n, err := io.Copy(&b, limitReader(part, limit))
	if err != nil {
		return multipartError(err)
	}
	if max >= 0 && n > max {
		return formTooLarge(max)
	}
	values[name] = append(values[name], b.String())
	return nil
}

func limitReader(r io.Reader, n int64) io.Reader {
	if n < 0 {
		return r
	}
	return io.LimitReader(r, n)
}

// A filePartSpool holds the file parts of a form, written again as a
// multipart body to a temporary file, for multipart.Reader.ReadForm to
// turn into FileHeaders (which nothing outside mime/multipart can make).
type filePartSpool struct {
	f *os.File
	w *multipart.Writer
}

func (s *filePartSpool) add(part *multipart.Part) error {
	if s.f == nil {
		f, err := os.CreateTemp("", "vial-upload-")
		if err != nil {
			return err
		}
		s.f, s.w = f, multipart.NewWriter(f)
	}
	dst, err := s.w.CreatePart(part.Header)
	if err == nil {
		_, err = io.Copy(dst, part)
	}
	if err != nil {
		return multipartError(err)
	}
	return nil
}

// form reads the spool back as a form of files.
func (s *filePartSpool) form() (*multipart.Form, error) {
	if s.f == nil {
		return &multipart.Form{File: map[string][]*multipart.FileHeader{}}, nil
	}
	if err := s.w.Close(); err != nil {
		return nil, err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return multipart.NewReader(s.f, s.w.Boundary()).ReadForm(fileMemory)
}

func (s *filePartSpool) remove() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

var errTooManyFields = errors.New("too many fields")

func formTooLarge(max int64) error {
	return &HTTPError{Code: http.StatusRequestEntityTooLarge,
		Description: fmt.Sprintf("A form field exceeds the limit of %d bytes (MAX_FORM_MEMORY_SIZE).", max)}
}

func tooManyParts(max int64) error {
	return &HTTPError{Code: http.StatusRequestEntityTooLarge,
		Description: fmt.Sprintf("The form has more than %d fields (MAX_FORM_PARTS).", max)}
}

func badForm(description string, err error) error {
	return &HTTPError{Code: http.StatusBadRequest, Description: description, Err: err}
}

// multipartError is the answer to a multipart body that failed to parse:
// the 413 it already is (MAX_CONTENT_LENGTH), else a 400.
func multipartError(err error) error {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he
	}
	return badForm("The multipart form is not valid: "+err.Error(), err)
}

// Form returns the form fields of the body (Flask's request.form), parsed
// on first use; malformed input is answered with a 400 and a form past the
// limits with a 413 (see [Request.ParseForm]).
func (r *Request) Form() url.Values {
	if err := r.ParseForm(); err != nil {
		panic(err)
	}
	return r.lazy.form
}

// Files returns the uploaded files of a multipart form, by field name
// (Flask's request.files).
func (r *Request) Files() map[string][]*multipart.FileHeader {
	if err := r.ParseForm(); err != nil {
		panic(err)
	}
	return r.lazy.files
}

// File returns the first file uploaded under field, or nil.
func (r *Request) File(field string) *multipart.FileHeader {
	if fs := r.Files()[field]; len(fs) > 0 {
		return fs[0]
	}
	return nil
}

// Values returns a query or form value: the query string first, then the
// form (Flask's request.values). For a GET request it is the query string
// alone, as in werkzeug 2.0 and later: a form body on a GET (which some
// caching proxies would not tell apart) must not take over.
func (r *Request) Values(key string) string {
	if v, ok := r.Args()[key]; ok && len(v) > 0 {
		return v[0]
	}
	if r.Method == http.MethodGet {
		return ""
	}
	return r.Form().Get(key)
}

// parseQuery decodes a query string or urlencoded form as werkzeug does:
// pairs are split on "&" only, so a ";" is part of a value (net/url rejects
// it); the first malformed percent-escape is an error, and so is a field
// past maxFields (-1: no limit), errTooManyFields.
func parseQuery(q string, maxFields int64) (url.Values, error) {
	values := url.Values{}
	for fields := int64(0); q != ""; {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		if fields++; maxFields >= 0 && fields > maxFields {
			return values, errTooManyFields
		}
		key, value, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(key)
		if err != nil {
			return values, err
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return values, err
		}
		values[k] = append(values[k], v)
	}
	return values, nil
}
