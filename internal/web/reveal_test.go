package web

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func TestRevealSealOpen(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	msg := []byte(`{"c":"client","s":"primary","v":"the secret"}`)
	sealed, err := revealSeal(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("the secret")) {
		t.Fatal("the sealed value holds the secret in the clear")
	}
	if got, err := revealOpen(key, sealed); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("open = %q, %v; want the message", got, err)
	}
	again, _ := revealSeal(key, msg)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one message are equal: the nonce is not random")
	}
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, c := range map[string]struct{ key, sealed []byte }{
		"another key":   {other, sealed},
		"tampered":      {key, tampered},
		"too short":     {key, sealed[:5]},
		"a short key":   {key[:7], sealed},
		"empty payload": {key, nil},
	} {
		if got, err := revealOpen(c.key, c.sealed); err == nil {
			t.Errorf("%s: opened to %q, want an error", name, got)
		}
	}
}
