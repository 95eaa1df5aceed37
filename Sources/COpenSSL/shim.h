#ifndef SESSION_SIDECAR_COPENSSL_SHIM_H
#define SESSION_SIDECAR_COPENSSL_SHIM_H
// The one header through which Swift sees OpenSSL. Only the OpenSSLCrypto target imports this module.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

/// BIO_get_mem_data is a macro; Swift cannot call macros.
static inline long sidecar_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

#endif
