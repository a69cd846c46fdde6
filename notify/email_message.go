package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// compose builds the RFC 5322 message: headers, then a
// multipart/alternative body with a text/plain and a text/html part, both
// UTF-8 and quoted-printable. The Message-ID derives from the
// notification id, so every attempt sends the same one.
func compose(from *mail.Address, to []*mail.Address, n Notification, m Message, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.String()
	}
	hdr := []string{
		"From: " + from.String(),
		"To: " + strings.Join(rcpts, ", "),
		"Subject: " + mime.QEncoding.Encode("utf-8", m.Title),
		"Date: " + now.Format(time.RFC1123Z),
		"Message-ID: " + MessageID(n.ID, from.Address),
		"Auto-Submitted: auto-generated",
		"MIME-Version: 1.0",
		"Content-Type: multipart/alternative; boundary=" + mw.Boundary(),
	}
	var out bytes.Buffer
	out.WriteString(strings.Join(hdr, "\r\n") + "\r\n\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(part.body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	out.Write(buf.Bytes())
	return out.Bytes(), nil
}

// MessageID is the Message-ID header of the e-mail of notification id
// sent from address: "<32 hex digits@domain of address>".
func MessageID(id, address string) string {
	sum := sha256.Sum256([]byte(id))
	domain := "database-service.invalid"
	if at := strings.LastIndexByte(address, '@'); at >= 0 && at < len(address)-1 {
		domain = address[at+1:]
	}
	return fmt.Sprintf("<%s@%s>", hex.EncodeToString(sum[:16]), domain)
}
