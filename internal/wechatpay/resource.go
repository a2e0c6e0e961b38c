package wechatpay

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
)

// Resource is a notification's encrypted payload.
type Resource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"` // base64: the sealed text and its 16-byte tag
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"` // 12 characters
	OriginalType   string `json:"original_type"`
}

// AEAD is the only algorithm notifications use.
const AEAD = "AEAD_AES_256_GCM"

// ErrDecrypt means a resource did not open with the APIv3 key.
var ErrDecrypt = errors.New("wechatpay: the resource does not decrypt with the APIv3 key")

// Decrypt opens a resource with the APIv3 key (32 bytes).
func Decrypt(apiV3Key []byte, r Resource) ([]byte, error) {
	if r.Algorithm != AEAD {
		return nil, fmt.Errorf("wechatpay: resource algorithm %q, want %s", r.Algorithm, AEAD)
	}
	gcm, err := newGCM(apiV3Key)
	if err != nil {
		return nil, err
	}
	sealed, err := base64.StdEncoding.DecodeString(r.Ciphertext)
	if err != nil || len(r.Nonce) != gcm.NonceSize() {
		return nil, ErrDecrypt
	}
	plain, err := gcm.Open(nil, []byte(r.Nonce), sealed, []byte(r.AssociatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// Encrypt seals plain as WeChat Pay does (for the fake provider of tests
// and the sandbox).
func Encrypt(apiV3Key []byte, nonce, associatedData string, plain []byte) (Resource, error) {
	gcm, err := newGCM(apiV3Key)
	if err != nil {
		return Resource{}, err
	}
	if len(nonce) != gcm.NonceSize() {
		return Resource{}, fmt.Errorf("wechatpay: a nonce has %d bytes", gcm.NonceSize())
	}
	sealed := gcm.Seal(nil, []byte(nonce), plain, []byte(associatedData))
	return Resource{Algorithm: AEAD, Ciphertext: base64.StdEncoding.EncodeToString(sealed),
		AssociatedData: associatedData, Nonce: nonce}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("wechatpay: the APIv3 key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
