package oauth

import "net/url"

// withQuery returns base with the given key/value pairs added to its query
// (pairs with an empty value are left out). base is a verified callback URL.
func withQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	add := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			add.Set(kv[i], kv[i+1])
		}
	}
	// Keep the registered query exactly as it is; append ours.
	if enc := add.Encode(); enc != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + enc
		} else {
			u.RawQuery = enc
		}
	}
	return u.String()
}
