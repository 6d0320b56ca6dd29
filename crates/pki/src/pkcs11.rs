//! Keys in PKCS#11 tokens and HSMs.
