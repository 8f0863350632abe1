package keyseal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadFileCreatesOnceAndSeals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauthdesk.key")
	s, created, err := LoadFile(path)
	if err != nil || !created {
		t.Fatalf("first LoadFile: created %v, err %v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	blob := s.Seal([]byte("private key"), "kid-1")
	if !Sealed(blob) {
		t.Fatal("sealed blob lacks the prefix")
	}
	again, created, err := LoadFile(path)
	if err != nil || created {
		t.Fatalf("second LoadFile: created %v, err %v", created, err)
	}
	got, err := again.Open(blob, "kid-1")
	if err != nil || string(got) != "private key" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := again.Open(blob, "kid-2"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with another label: %v, want ErrWrongKey", err)
	}
	other, _, _ := LoadFile(filepath.Join(t.TempDir(), "other.key"))
	if _, err := other.Open(blob, "kid-1"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with another key: %v, want ErrWrongKey", err)
	}
}

func TestLoadFileRefusesLooseModeAndJunk(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.key")
	if _, _, err := LoadFile(loose); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(loose, 0o644)
	if _, _, err := LoadFile(loose); err == nil {
		t.Error("a group/other-readable key file was accepted")
	}
	junk := filepath.Join(dir, "junk.key")
	_ = os.WriteFile(junk, []byte("not a key\n"), 0o600)
	if _, _, err := LoadFile(junk); err == nil {
		t.Error("a junk key file was accepted")
	}
}
