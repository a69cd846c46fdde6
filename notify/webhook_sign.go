package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/config/secret"
)

// SecretPrefix starts every webhook signing secret: "whsec_" and the
// base64 of 24 to 64 random bytes (Standard Webhooks).
const SecretPrefix = "whsec_"

// ErrBadSecret is the cause of a malformed signing secret. The error
// never contains the secret.
var ErrBadSecret = errors.New("notify: not a whsec_<base64> secret of 24 to 64 bytes")

// SigningKey returns the HMAC key of a "whsec_<base64>" secret.
func SigningKey(s secret.String) ([]byte, error) {
	v, ok := strings.CutPrefix(s.Reveal(), SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		// Some tools emit unpadded base64.
		key, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Signature is the webhook-signature header value for a message id sent
// at Unix time ts with body: "v1,<base64 HMAC-SHA256 of id.ts.body>" per
// key, space-separated (several keys while a secret is rotated).
func Signature(id string, ts int64, body []byte, keys ...[]byte) string {
	content := make([]byte, 0, len(id)+len(body)+24)
	content = append(content, id...)
	content = append(content, '.')
	content = strconv.AppendInt(content, ts, 10)
	content = append(content, '.')
	content = append(content, body...)
	sigs := make([]string, 0, len(keys))
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write(content)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}
