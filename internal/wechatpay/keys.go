package wechatpay

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// ReadPrivateKey reads the merchant's API private key (apiclient_key.pem:
// PKCS #8, or PKCS #1) from a PEM file. Its errors name the file, never
// the key.
func ReadPrivateKey(path string) (*rsa.PrivateKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("wechatpay: %s holds a %T, not an RSA private key", path, k)
		}
		return rk, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("wechatpay: %s holds no RSA private key (PKCS #8 or PKCS #1 PEM)", path)
}

// ReadPublicKey reads WeChat Pay's public key (pub_key.pem, PKIX) from a
// PEM file.
func ReadPublicKey(path string) (*rsa.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %s holds no public key (PKIX PEM)", path)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("wechatpay: %s holds a %T, not an RSA public key", path, k)
	}
	return rk, nil
}

func readPEM(path string) (*pem.Block, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: read key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("wechatpay: %s is not a PEM file", path)
	}
	return block, nil
}
