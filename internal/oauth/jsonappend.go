package oauth

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The token endpoint's hot path writes its JSON (access-token claims, the
// token response) by appending, without reflection or intermediate maps.
// Every appender here produces exactly the bytes encoding/json gives for
// the same value (tests compare them), so the wire format is the one the
// struct tags document.

// appendJSONString appends s as a JSON string, escaped exactly as
// encoding/json.Marshal escapes it (HTML-safe: <, >, & as \u00XX).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONField appends ,"name":"value" (the comma unless first).
func appendJSONField(b []byte, name, value string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

// appendNumericDate appends ,"name":seconds as jwt.NumericDate encodes
// itself at jwt.TimePrecision one second (the library's default).
func appendNumericDate(b []byte, name string, d *jwt.NumericDate) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, d.Truncate(time.Second).Unix(), 10)
}

// appendClaimsJSON appends the members of c (no braces) in encoding/json's
// order for Claims: its own fields, then jwt.RegisteredClaims' with
// omitempty (aud as an array, the library's default).
func appendClaimsJSON(b []byte, c *Claims) []byte {
	b = appendJSONField(b, "nameid", c.UserID, true)
	b = appendJSONField(b, "scp", c.Scope, false)
	b = appendJSONField(b, "aui", c.AuthorizationID, false)
	b = appendJSONField(b, "appid", c.ClientID, false)
	b = appendJSONField(b, "csid", c.SecretID, false)
	b = appendJSONField(b, "fam", c.FamilyID, false)
	r := &c.RegisteredClaims
	if r.Issuer != "" {
		b = appendJSONField(b, "iss", r.Issuer, false)
	}
	if r.Subject != "" {
		b = appendJSONField(b, "sub", r.Subject, false)
	}
	if len(r.Audience) > 0 {
		b = append(b, `,"aud":[`...)
		for i, a := range r.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a)
		}
		b = append(b, ']')
	}
	if r.ExpiresAt != nil {
		b = appendNumericDate(b, "exp", r.ExpiresAt)
	}
	if r.NotBefore != nil {
		b = appendNumericDate(b, "nbf", r.NotBefore)
	}
	if r.IssuedAt != nil {
		b = appendNumericDate(b, "iat", r.IssuedAt)
	}
	if r.ID != "" {
		b = appendJSONField(b, "jti", r.ID, false)
	}
	return b
}

// AppendJSON appends r as encoding/json.Marshal would encode it (its
// struct tags), for the token endpoint's answer without reflection.
func (r StandardTokenResponse) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendJSONField(b, "access_token", r.AccessToken, true)
	b = appendJSONField(b, "token_type", r.TokenType, false)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, r.ExpiresIn, 10)
	if r.RefreshToken != "" {
		b = appendJSONField(b, "refresh_token", r.RefreshToken, false)
	}
	if r.Scope != "" {
		b = appendJSONField(b, "scope", r.Scope, false)
	}
	if r.IDToken != "" {
		b = appendJSONField(b, "id_token", r.IDToken, false)
	}
	return append(b, '}')
}
