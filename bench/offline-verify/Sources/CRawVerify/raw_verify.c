#include "raw_verify.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

void *raw_verify_key(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  if (bio == NULL) return NULL;
  EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  return key;
}

int raw_verify(void *key, const uint8_t *message, size_t message_length, const uint8_t *signature,
               size_t signature_length) {
  EVP_MD_CTX *context = EVP_MD_CTX_new();
  if (context == NULL) return 0;
  int valid = EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, (EVP_PKEY *)key) == 1 &&
              EVP_DigestVerify(context, signature, signature_length, message, message_length) == 1;
  EVP_MD_CTX_free(context);
  return valid;
}
