/// Fixed keys for parsing tests, made with `openssl genrsa -traditional 2048`, `openssl rsa -RSAPublicKey_out`,
/// `openssl genrsa 1024` and `openssl ecparam -name prime256v1`. Test-only keys, never used for anything else.
enum TestKeys {
  static let pkcs1PrivateKeyPEM = """
    -----BEGIN RSA PRIVATE KEY-----
    MIIEowIBAAKCAQEAqzIkz1AfpAAl8/m7n9BM1Pn7hU5nzHR8wbrTt1VBm8YO/QNE
    9kow8sA44WHkpEt0PrPhF3QEuwIWKDfbB5UDtQOQKyRgKyIpzi7N6rQYY9eDd97u
    dbhOwCbAItBCcxCq+Gidx2TovWdzd1A3svM8PJHdYx4nSMjypcMtyvFiWI40MyZb
    tEqkMuge/sfpttih4z9DV+XqAxdqK6w5jnv34apwJG9jFoHwXM0cp1YKyXQns8bD
    85NnTKfb07E4qiBrSnwEAkTTngPYAbzdOTXQQcsIHwkizK50/DQNRFopBKCMnCsM
    5s0RevkRQvSE1hAX5CKjkkMM/Vs7b3R2Kp5y1wIDAQABAoIBABUtV8ZZaACWkBtV
    GjOTxd1Wqxl7cHWnN0OTw9ra7gnB/1qnC+HXnaR5yM+Al5MHTnLvN3n6PReRE4KY
    Hj0a3uGGdlAP6OGNEVTTD1/oNVgscbPjXOYtDXjRklT8JCwttKiT8GiY//1mDa+F
    uc4mLp5jgNphAYUMbo+4zDJdl8fSY5V5h038cOXn5HvWm2RNCM2d6+qkMJUwugSN
    GoIs242TMlezTi51oS7UwHEIAnH48QRcauVaWlmgRwbo40Mj+ujgnuHuoWUnmoWz
    45W7AuhPSCUeelQcxPdroP008/Kq1jC9T35MmLT1j/fZ+XVQUGk7GjY/qL8iswbS
    W14x3AECgYEA32eZg3u37bHUhKTKDoEReQlORPFYUAC8P1wez7CFY5BtnJNUyXSq
    sHPN1FFg8WPAJtt7RhmsjRd7P3wMZ/k2ztuFK+9e8ZlZaCk56z/A6yqEI7lnGprC
    0G+q8XrL874ofHLbCIWEnuK+lJq/Dj35ON9eEkcn2rzRSr6ogsykgNcCgYEAxCx9
    cRJ3hzi1DBI2d75OZ0KA8H0YoYM/DnoRX+lJu11/ZQxc0nq42gaup/3HQ9aUveQH
    LliNRqVho/pt5W/KseknKlkEB3nhzX7RaBY8kmEBN6+psPV6Tt9wj021tPSoeeWQ
    DJo/CYzB3NRbMFMhhYKm1sjiUznEYqNNCLpNXgECgYEAgUQv1p2iqn3IS0wSwlu6
    YX+Z81h20ivqwPqrtV8df6PVWNEDMWI5VcpcIetIncQrLhC3frNiXW1l2jEL+KmC
    JiVtJCPomwExc4zPP6jvFuPN++HOn91Gtla24e08z/eK8599z6t6Nnla7x+vRy1i
    5J6Sjx7vF6lDrO0vEigZU5cCgYBsWj53A8ItV+732d9nyB85/YuGSTIfk4RylI2g
    MhRdfsjsoSVrxAjxs5sogo1bNNw2/gnRWWu+x33kul+UyGhmV+cgBsao8nL7s74q
    BY4zM40emtHZQdzqT5O2My/X4QJlQZyMuW1z8uDo/gnX6TKssXtBSvdnDJMiABx+
    Y5h0AQKBgH0SnktxyT3FCT1OfHzgOva0A6Z27Hm+a9tLgCablftelH1M1uRWclBT
    6AEd8eZ66K63nmNz1YScTaY4fP16fDRdNpGerne66IvNkUH1imsdTy//rD4DHWu+
    Z6w7czuC85xDUOiMPZEQUfOzAXz/km95FCVmSB+1mCdPikFPZ8NJ
    -----END RSA PRIVATE KEY-----
    """

  static let pkcs1PublicKeyPEM = """
    -----BEGIN RSA PUBLIC KEY-----
    MIIBCgKCAQEAqzIkz1AfpAAl8/m7n9BM1Pn7hU5nzHR8wbrTt1VBm8YO/QNE9kow
    8sA44WHkpEt0PrPhF3QEuwIWKDfbB5UDtQOQKyRgKyIpzi7N6rQYY9eDd97udbhO
    wCbAItBCcxCq+Gidx2TovWdzd1A3svM8PJHdYx4nSMjypcMtyvFiWI40MyZbtEqk
    Muge/sfpttih4z9DV+XqAxdqK6w5jnv34apwJG9jFoHwXM0cp1YKyXQns8bD85Nn
    TKfb07E4qiBrSnwEAkTTngPYAbzdOTXQQcsIHwkizK50/DQNRFopBKCMnCsM5s0R
    evkRQvSE1hAX5CKjkkMM/Vs7b3R2Kp5y1wIDAQAB
    -----END RSA PUBLIC KEY-----
    """

  static let rsa1024PrivateKeyPEM = """
    -----BEGIN PRIVATE KEY-----
    MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKj+XZJ39c6Tv0/K
    gezXf3Fgblaa8jUsP+W/xpIBrKWY/VFkn2rTiOXwQRg9SMz/557SC8/yV0W8CxJP
    NSGDYqWZXLIpHZlo7uCg6/oZcJb7APXduLqIKCQrgMbCtIdhXtHvjZ+hQ++//kYQ
    JwpXLJNr/M66bOFgY3U0Mm1QcTEFAgMBAAECgYB9Jan77tRcv/N8TnZ7A3eAaa4s
    eqCFmhhTtvqBY7YMCEkIPqEEBlUqGwrJvZCtJ5HKfrh6rXfNz5zPWVL6V4bz8ZI0
    TNUEN7xvws3QIJZx14F+ofEJoGxC7sBwaJloYLqPx/nc7HNJ6O2cOlKv8Ruhn6WP
    p9PKwiCGoFGYI7/zfQJBANJUu+9kmKM27/B4FoBVcI1xAw0H9ym5AbEzTxrcbm2c
    3XxxpPTUea8HTMMFc4AaXtJu8VoZSn/6PHYDQDFChh8CQQDNr+PKPSlyhCkXTV+E
    E+0752c/e7pLOrOg6XJP5iTvix2jLhk5LOsN1t7ths98ozh7BzQqR2mA55nYyKND
    m/xbAkEAq1ChEsgZGzewD2mAyl7NIieemIqYYr9yBWcJU5OfzmAqdyYJefFme42y
    lFZoUTspaLU8mGppJ/wmKulS68yHeQJAUJCigqauQ2KszanKzesYMyySbnVCJRFb
    Jp4J3m3g7crp0u7Nhm2nrAYLz7HMN5+fEeFid2T9WDZfNmBwQp0onQJAFcEWQQBB
    ypD5B+r1/QJVC1hDQSEVnyG+GIvVjkVaWFpHiT44hdp/pG/vl79MreBTGDko69rn
    N4cKnvhgwqjcxg==
    -----END PRIVATE KEY-----
    """

  static let ecPrivateKeyPEM = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzbtnvDTuofbVvliw
    EhFMk4jzYQ2X9C1cWXinI43ZMruhRANCAAQDxPUjWx5CEcMoj0EJ8M27XLJVsmKj
    8qSOTBKjw4wr/DgEUFkRsG3RZM9Y0z5bknMciSQlG3CtHtPQSdVT1W2J
    -----END PRIVATE KEY-----
    """

  static let ecPublicKeyPEM = """
    -----BEGIN PUBLIC KEY-----
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEA8T1I1seQhHDKI9BCfDNu1yyVbJi
    o/KkjkwSo8OMK/w4BFBZEbBt0WTPWNM+W5JzHIkkJRtwrR7T0EnVU9VtiQ==
    -----END PUBLIC KEY-----
    """
}
