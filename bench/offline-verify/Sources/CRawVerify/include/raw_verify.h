#ifndef RAW_VERIFY_H
#define RAW_VERIFY_H
#include <stddef.h>
#include <stdint.h>

/// An RSA public key for raw_verify, from a PEM "PUBLIC KEY" block; NULL if it does not parse.
void *raw_verify_key(const char *pem);

/// One RS256 check as OpenSSL's documentation prescribes for a new message: a fresh digest context,
/// EVP_DigestVerifyInit with SHA-256 and the key, EVP_DigestVerify over the signing input. 1 if valid.
int raw_verify(void *key, const uint8_t *message, size_t message_length, const uint8_t *signature,
               size_t signature_length);

#endif
